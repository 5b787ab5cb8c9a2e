/* The guest memory map: where the host puts heap, stack and buffers after the ELF image. */
#include "mem/layout.h"

#include <stdio.h>
#include <string.h>

#include "runtime/error.h"

#define PAGE GLINT_ABI_PAGE_SIZE
#define KiB  (1024ull)
#define MiB  (1024ull * 1024)

/* sizeof(glint_config) in 0.1.0: the fields before max_image_memory. */
#define CONFIG_V0_SIZE offsetof(glint_config, max_image_memory)

/* What glint_config_init sets: the sizes 0, "not set by the caller". */
static const glint_config config_defaults = {
    .struct_size = sizeof(glint_config),
    .timeout_ms = 1000,
    .max_image_memory = 16 * MiB,
    .confine_init = true,
};

void glint__struct_init(void *dst, size_t size, const void *defaults, size_t full)
{
    if (!dst)
        return;
    size_t n = size < full ? size : full;
    uint32_t struct_size = (uint32_t)n;
    memcpy(dst, defaults, n); /* never past the caller's struct */
    memcpy(dst, &struct_size, n < sizeof struct_size ? n : sizeof struct_size);
}

void glint_config_init_sized(glint_config *cfg, size_t size)
{
    glint__struct_init(cfg, size, &config_defaults, sizeof config_defaults);
}

/* The 0.1.0 entry point (its header had no macro): a 0.1.0 struct. */
void(glint_config_init)(glint_config *cfg)
{
    glint_config_init_sized(cfg, CONFIG_V0_SIZE);
}

int glint__struct_size_check(const char *what, uint32_t struct_size, size_t min, size_t max)
{
    if (struct_size >= min && struct_size <= max)
        return 0;
    if (struct_size > max)
        return glint__fail(GLINT_EINVAL,
                           "%s: struct_size %u is larger than this library's %zu bytes "
                           "(built against a newer glint.h?)",
                           what, struct_size, max);
    return glint__fail(GLINT_EINVAL, "%s: struct_size %u, want %zu..%zu (call the init first)",
                       what, struct_size, min, max);
}

/* Round *v up to a page, then require min <= *v <= max. */
static int check_size(const char *what, uint64_t *v, uint64_t min, uint64_t max)
{
    uint64_t r = *v > max ? *v : (*v + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    if (r < min || r > max)
        return glint__fail(GLINT_EINVAL, "config: %s %llu is out of range %llu..%llu bytes", what,
                           (unsigned long long)*v, (unsigned long long)min,
                           (unsigned long long)max);
    *v = r;
    return 0;
}

/* glint's own sizes, for those neither the caller nor the guest set. */
static const struct glint_abi_defaults glint_sizes = {
    .heap_size = 128 * KiB,
    .stack_size = 64 * KiB,
    .input_size = 16 * KiB,
    .output_size = 16 * KiB,
};

static void fill(uint64_t *v, uint64_t guest, uint64_t glint)
{
    if (*v == 0)
        *v = guest ? guest : glint;
}

int glint__config_read(const glint_config *cfg, glint_config *out)
{
    return glint__config_resolve(cfg, NULL, out);
}

int glint__config_resolve(const glint_config *cfg, const struct glint_abi_defaults *g,
                          glint_config *out)
{
    static const struct glint_abi_defaults none;
    if (!g)
        g = &none;
    glint_config_init(out);
    if (cfg) {
        int rc = glint__struct_size_check("config", cfg->struct_size, CONFIG_V0_SIZE, sizeof *out);
        if (rc)
            return rc;
        /* Only the caller's bytes: an older struct ends early. */
        memcpy(out, cfg, cfg->struct_size);
        out->struct_size = sizeof *out;
    }
    fill(&out->heap_size, g->heap_size, glint_sizes.heap_size);
    fill(&out->stack_size, g->stack_size, glint_sizes.stack_size);
    fill(&out->input_size, g->input_size, glint_sizes.input_size);
    fill(&out->output_size, g->output_size, glint_sizes.output_size);
    int rc;
    if ((rc = check_size("heap_size", &out->heap_size, GLINT_HEAP_SIZE_MIN, GLINT_HEAP_SIZE_MAX)) ||
        (rc = check_size("stack_size", &out->stack_size, GLINT_STACK_SIZE_MIN,
                         GLINT_STACK_SIZE_MAX)) ||
        (rc = check_size("input_size", &out->input_size, GLINT_BUFFER_SIZE_MIN,
                         GLINT_BUFFER_SIZE_MAX)) ||
        (rc = check_size("output_size", &out->output_size, GLINT_BUFFER_SIZE_MIN,
                         GLINT_BUFFER_SIZE_MAX)) ||
        (rc = check_size("max_image_memory", &out->max_image_memory, GLINT_IMAGE_MEMORY_MIN,
                         GLINT_IMAGE_MEMORY_MAX)))
        return rc;
    return 0;
}

/* "64.1 MiB", "16 MiB", "900 KiB" for messages. */
static const char *size_text(uint64_t v, char *buf, size_t n)
{
    uint64_t unit = v >= MiB ? MiB : KiB;
    const char *name = v >= MiB ? "MiB" : "KiB";
    if (v % unit == 0)
        snprintf(buf, n, "%llu %s", (unsigned long long)(v / unit), name);
    else
        snprintf(buf, n, "%.1f %s", (double)v / (double)unit, name);
    return buf;
}

int glint__layout_compute(const struct glint__elf *elf, const glint_config *c,
                          struct glint__layout *l)
{
    /* What the ELF alone makes every sandbox map (and, if init touches it,
     * hold): from its lowest to its highest page. */
    uint64_t start = elf->segs[0].vaddr & ~(uint64_t)(PAGE - 1);
    uint64_t span = elf->image_end - start;
    if (span > c->max_image_memory) {
        char a[32], b[32];
        return glint__fail(GLINT_EINVAL, "guest ELF segments span %s, over the %s max_image_memory",
                           size_text(span, a, sizeof a),
                           size_text(c->max_image_memory, b, sizeof b));
    }
    /* Every term is bounded above, so none of these sums can overflow. */
    l->image_end = elf->image_end;
    l->heap_addr = elf->image_end;
    l->heap_size = c->heap_size;
    l->guard_addr = l->heap_addr + l->heap_size;
    l->stack_addr = l->guard_addr + PAGE;
    l->stack_size = c->stack_size;
    l->input_addr = l->stack_addr + l->stack_size;
    l->input_size = c->input_size;
    l->output_addr = l->input_addr + l->input_size;
    l->output_size = c->output_size;
    l->mem_size = l->output_addr + l->output_size;
    if (l->mem_size > GLINT_ABI_MEMORY_LIMIT)
        return glint__fail(
            GLINT_EINVAL, "config: guest memory of %llu MiB exceeds the %u MiB limit",
            (unsigned long long)(l->mem_size / MiB), GLINT_ABI_MEMORY_LIMIT / (1u << 20));
    /* PML4 + PDPT + PD + one page table per 2 MiB. */
    l->pt_pages = 3 + (uint32_t)((l->mem_size + 2 * MiB - 1) / (2 * MiB));
    return 0;
}
