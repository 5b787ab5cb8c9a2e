/* The guest memory map: where the host puts heap, stack and buffers after the ELF image. */
#ifndef GLINT_LAYOUT_H
#define GLINT_LAYOUT_H

#include <stdint.h>

#include "elf.h"
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

/* Validate cfg (sizes rounded up to pages) and place the regions after the
 * image. Returns 0 or GLINT_EINVAL naming the offending setting. */
int glint__layout_compute(uint64_t image_end, const glint_config *cfg, struct glint__layout *l);

#endif
