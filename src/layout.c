/* The guest memory map: where the host puts heap, stack and buffers after the ELF image. */
#include "layout.h"

#include "error.h"

#define PAGE GLINT_ABI_PAGE_SIZE
#define KiB  (1024ull)
#define MiB  (1024ull * 1024)

void glint_config_init(glint_config *cfg)
{
    cfg->struct_size = sizeof *cfg;
    cfg->heap_size = 128 * KiB;
    cfg->stack_size = 64 * KiB;
    cfg->input_size = 16 * KiB;
    cfg->output_size = 16 * KiB;
    cfg->timeout_ms = 1000;
    cfg->max_image_memory = 16 * MiB;
    cfg->confine_init = true;
}

static int check_size(const char *what, uint64_t *v, uint64_t min, uint64_t max)
{
    if (*v < min || *v > max)
        return glint__fail(GLINT_EINVAL, "config: %s %llu is out of range %llu..%llu bytes", what,
                           (unsigned long long)*v, (unsigned long long)min,
                           (unsigned long long)max);
    *v = (*v + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    return 0;
}

int glint__layout_compute(uint64_t image_end, const glint_config *cfg, struct glint__layout *l)
{
    glint_config c;
    glint_config_init(&c);
    if (cfg) {
        if (cfg->struct_size < sizeof c)
            return glint__fail(GLINT_EINVAL,
                               "config: struct_size %u, want %zu "
                               "(call glint_config_init first)",
                               cfg->struct_size, sizeof c);
        c = *cfg;
    }
    int rc;
    if ((rc = check_size("heap_size", &c.heap_size, 4 * KiB, 256 * MiB)) ||
        (rc = check_size("stack_size", &c.stack_size, 8 * KiB, 64 * MiB)) ||
        (rc = check_size("input_size", &c.input_size, 4 * KiB, 16 * MiB)) ||
        (rc = check_size("output_size", &c.output_size, 4 * KiB, 16 * MiB)))
        return rc;
    /* Every term is bounded above, so none of these sums can overflow. */
    l->image_end = image_end;
    l->heap_addr = image_end;
    l->heap_size = c.heap_size;
    l->guard_addr = l->heap_addr + l->heap_size;
    l->stack_addr = l->guard_addr + PAGE;
    l->stack_size = c.stack_size;
    l->input_addr = l->stack_addr + l->stack_size;
    l->input_size = c.input_size;
    l->output_addr = l->input_addr + l->input_size;
    l->output_size = c.output_size;
    l->mem_size = l->output_addr + l->output_size;
    if (l->mem_size > GLINT_ABI_MEMORY_LIMIT)
        return glint__fail(
            GLINT_EINVAL, "config: guest memory of %llu MiB exceeds the %u MiB limit",
            (unsigned long long)(l->mem_size / MiB), GLINT_ABI_MEMORY_LIMIT / (1u << 20));
    /* PML4 + PDPT + PD + one page table per 2 MiB. */
    l->pt_pages = 3 + (uint32_t)((l->mem_size + 2 * MiB - 1) / (2 * MiB));
    return 0;
}
