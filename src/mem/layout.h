/* The guest memory map: where the host puts heap, stack and buffers after the ELF image. */
#ifndef GLINT_LAYOUT_H
#define GLINT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "load/elf.h"
#include "glint.h"

struct glint__layout {
    uint64_t image_end; /* end of the ELF segments, page aligned */
    uint64_t heap_addr, heap_size;
    uint64_t guard_addr; /* one not-present page under the stack */
    uint64_t stack_addr, stack_size;
    uint64_t input_addr, input_size;
    uint64_t output_addr, output_size;
    uint64_t mem_size; /* total guest memory: [0, mem_size) */
    uint32_t pt_pages; /* page-table pages at GLINT_ABI_PT_ADDR */
};

/* Read the caller's config (NULL: defaults) into *out: struct_size checked
 * (an older, smaller struct gets defaults for the fields it lacks), sizes
 * rounded up to pages and range-checked. Returns 0 or GLINT_EINVAL naming
 * the offending field. */
int glint__config_read(const glint_config *cfg, glint_config *out);

/* The same, for a guest that declared defaults g (NULL: none): a size the
 * caller left 0 takes g's (when non-zero), else glint's default. The
 * precedence is: caller's field > guest's declared default > glint's. */
int glint__config_resolve(const glint_config *cfg, const struct glint_abi_defaults *g,
                          glint_config *out);

/* Initialise a caller's versioned struct of `size` bytes: copy the first
 * min(size, full) bytes of `defaults` (a full struct whose first field is
 * uint32_t struct_size) and set struct_size to that count. Writes nothing
 * past it; dst NULL: nothing. */
void glint__struct_init(void *dst, size_t size, const void *defaults, size_t full);

/* Check a public config struct's struct_size: min (the oldest supported
 * size) .. max (this library's sizeof). GLINT_EINVAL naming `what` if not. */
int glint__struct_size_check(const char *what, uint32_t struct_size, size_t min, size_t max);

/* Place the regions after the image of elf (parsed, nsegs > 0) for a config
 * from glint__config_read. Fails with GLINT_EINVAL, before anything is
 * mapped, if the ELF's segments span more than cfg->max_image_memory or the
 * total exceeds GLINT_ABI_MEMORY_LIMIT. */
int glint__layout_compute(const struct glint__elf *elf, const glint_config *cfg,
                          struct glint__layout *l);

#endif
