/* Images: the object and the steps that build one (layout, memory, page indices, functions). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "runtime/error.h"
#include "runtime/exports.h"
#include "runtime/hostfns.h"
#include "runtime/image.h"
#include "x86/tables.h"

int glint__image_new(const struct glint__elf *elf, const glint_config *c, glint_image **out)
{
    glint_image *img = calloc(1, sizeof *img);
    if (!img)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    atomic_init(&img->refs, 1);
    img->entry = elf->entry;
    img->timeout_ms = c->timeout_ms;
    img->config = *c;
    img->budget = c->budget;
    img->budget_ok = (elf->defaults.flags & GLINT_ABI_DEFAULTS_BUDGET) != 0;
    img->guest_flags = elf->defaults.flags;
    img->nsegs = elf->nsegs;
    memcpy(img->segs, elf->segs, sizeof img->segs);
    img->hot_ok = (elf->features.flags & GLINT_ABI_FEATURE_HOT) != 0;
    *out = img;
    if (img->budget && !img->budget_ok)
        return glint__fail(GLINT_EINVAL,
                           "config: budget %llu set, but the guest does not enforce "
                           "an instruction budget (only runtimes that declare it do, "
                           "such as lua.elf)",
                           (unsigned long long)img->budget);
    return 0;
}

int glint__image_lay_out(glint_image *img, const struct glint__elf *elf, const glint_config *c)
{
    int rc = glint__layout_compute(elf, c, &img->layout);
    return rc ? rc : glint__mem_regions_build(&img->layout, elf, &img->regions);
}

void glint__image_free(glint_image *img)
{
    if (img->mem)
        munmap(img->mem, img->layout.mem_size);
    free(img->pages);
    free(img->writable);
    free(img->nonzero);
    glint__vcpu_state_free(img->state);
    glint_exports_destroy(img->exports);
    glint_host_fns_destroy(img->fns);
    free(img);
}

/* The guest-visible seed, from the kernel's random pool. Nothing else will
 * do: a fallback derived from host state (a pointer, the time) would tell
 * the guest about the host, so a failure fails the load. */
static int random_seed(uint64_t *seed)
{
    uint8_t *p = (uint8_t *)seed;
    size_t got = 0;
    while (got < sizeof *seed) {
        /* Blocks only until the pool is first initialised, early in boot. */
        ssize_t n = getrandom(p + got, sizeof *seed - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return glint__fail(GLINT_EHV,
                               "cannot seed the guest: getrandom failed (%s); refusing to "
                               "derive the seed from host state",
                               n < 0 ? strerror(errno) : "no bytes");
        got += (size_t)n;
    }
    return 0;
}

/* Map zeroed guest memory for img (pages cost nothing until written). */
static int map_memory(glint_image *img)
{
    void *p = mmap(NULL, img->layout.mem_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return glint__fail(GLINT_ENOMEM, "cannot map %llu bytes of guest memory",
                           (unsigned long long)img->layout.mem_size);
    img->mem = p;
    return 0;
}

int glint__image_build_memory(glint_image *img, const struct glint__elf *elf, const uint8_t *bytes)
{
    int rc = map_memory(img);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < elf->nsegs; i++) {
        const struct glint__segment *s = &elf->segs[i];
        memcpy(img->mem + s->vaddr, bytes + s->offset, s->filesz);
    }
    uint64_t seed;
    rc = random_seed(&seed);
    if (rc)
        return rc;
    img->seed = seed;
    glint__x86_build(img->mem, &img->regions, &img->layout, seed);
    return 0;
}

int glint__image_index_writable(glint_image *img)
{
    return glint__mem_writable_bitmap(&img->regions, &img->writable, &img->bitmap_words);
}

int glint__image_add_functions(glint_image *img, const struct glint__elf *elf,
                               const glint_host_fns *fns)
{
    int rc = glint__exports_from_elf(elf, &img->exports);
    return rc ? rc : glint__host_fns_clone(fns, &img->fns);
}

void glint__image_adopt_init(glint_image *img, uint8_t **mem, glint__vcpu_state *state)
{
    uint8_t *t = img->mem;
    img->mem = *mem;
    *mem = t;
    img->state = state;
}

/* A malloc'd zeroed page bitmap for img, or NULL. */
static uint64_t *new_bitmap(const glint_image *img)
{
    return calloc(img->bitmap_words ? img->bitmap_words : 1, sizeof(uint64_t));
}

static void set_pages(uint64_t *bitmap, uint64_t first, uint64_t end)
{
    for (uint64_t p = first; p < end; p++)
        bitmap[p / 64] |= 1ull << (p % 64);
}

int glint__image_index_template(glint_image *img, const struct glint__elf *elf)
{
    uint64_t *cand = new_bitmap(img);
    if (!cand)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < img->regions.count; i++) {
        const struct glint__region *r = &img->regions.r[i];
        uint64_t first = r->addr / GLINT_ABI_PAGE_SIZE, end = first;
        if (glint__mem_region_built_by_host(r)) {
            end = (r->addr + r->size) / GLINT_ABI_PAGE_SIZE;
        } else if (r->kind == GLINT__REGION_SEGMENT) { /* only its file bytes were written */
            const struct glint__segment *sg = &elf->segs[r->segment];
            uint64_t to = sg->vaddr + sg->filesz;
            if (to > r->addr + r->size)
                to = r->addr + r->size;
            if (to > r->addr)
                end = (to + GLINT_ABI_PAGE_SIZE - 1) / GLINT_ABI_PAGE_SIZE;
        } /* heap, stack, buffers, exception stack, guards: zero */
        set_pages(cand, first, end);
    }
    int rc = glint__image_index_pages(img, img->mem, cand);
    free(cand);
    return rc;
}

int glint__image_index_pages(glint_image *img, const uint8_t *src, const uint64_t *candidates)
{
    size_t count = 0;
    for (size_t i = 0; i < img->bitmap_words; i++)
        count += (size_t)__builtin_popcountll(candidates[i]);
    uint32_t *pages = malloc((count ? count : 1) * sizeof *pages);
    uint64_t *nonzero = new_bitmap(img);
    if (!pages || !nonzero) {
        free(pages);
        free(nonzero);
        return glint__fail(GLINT_ENOMEM, "out of memory");
    }
    static const uint8_t zero[GLINT_ABI_PAGE_SIZE];
    uint32_t n = 0;
    for (size_t i = 0; i < img->bitmap_words; i++) {
        for (uint64_t w = candidates[i]; w; w &= w - 1) {
            uint64_t p = i * 64 + (uint64_t)__builtin_ctzll(w);
            const uint8_t *page = src + p * GLINT_ABI_PAGE_SIZE;
            if (memcmp(page, zero, sizeof zero) == 0)
                continue;
            if (src != img->mem)
                memcpy(img->mem + p * GLINT_ABI_PAGE_SIZE, page, GLINT_ABI_PAGE_SIZE);
            pages[n++] = (uint32_t)p;
            nonzero[i] |= 1ull << (p % 64);
        }
    }
    free(img->pages);
    free(img->nonzero);
    img->pages = pages;
    img->npages = n;
    img->nonzero = nonzero;
    return 0;
}

int glint__image_index_known(glint_image *img, const uint64_t *candidates, const uint32_t *known,
                             uint32_t n)
{
    uint64_t *nonzero = new_bitmap(img);
    if (!nonzero)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    static const uint8_t zero[GLINT_ABI_PAGE_SIZE];
    for (uint32_t k = 0; k < n; k++)
        nonzero[known[k] / 64] |= 1ull << (known[k] % 64);
    for (size_t i = 0; i < img->bitmap_words; i++) {
        for (uint64_t w = candidates[i] & ~nonzero[i]; w; w &= w - 1) {
            uint64_t p = i * 64 + (uint64_t)__builtin_ctzll(w);
            if (memcmp(img->mem + p * GLINT_ABI_PAGE_SIZE, zero, sizeof zero) != 0)
                nonzero[i] |= 1ull << (p % 64);
        }
    }
    size_t count = 0;
    for (size_t i = 0; i < img->bitmap_words; i++)
        count += (size_t)__builtin_popcountll(nonzero[i]);
    uint32_t *pages = malloc((count ? count : 1) * sizeof *pages);
    if (!pages) {
        free(nonzero);
        return glint__fail(GLINT_ENOMEM, "out of memory");
    }
    uint32_t k = 0;
    for (size_t i = 0; i < img->bitmap_words; i++)
        for (uint64_t w = nonzero[i]; w; w &= w - 1)
            pages[k++] = (uint32_t)(i * 64 + (uint64_t)__builtin_ctzll(w));
    free(img->pages);
    free(img->nonzero);
    img->pages = pages;
    img->npages = k;
    img->nonzero = nonzero;
    return 0;
}

int glint__image_derive_base(const glint_image *src, glint_image **out)
{
    glint_image *img = calloc(1, sizeof *img);
    if (!img)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    atomic_init(&img->refs, 1);
    img->layout = src->layout;
    img->regions = src->regions;
    img->timeout_ms = src->timeout_ms;
    img->config = src->config;
    img->budget = src->budget;
    img->budget_ok = src->budget_ok;
    img->hot_ok = src->hot_ok;
    img->entry = src->entry;
    img->bitmap_words = src->bitmap_words;
    img->nsegs = src->nsegs;
    memcpy(img->segs, src->segs, sizeof img->segs);
    img->guest_flags = src->guest_flags;
    img->seed = src->seed;
    int rc;
    if ((rc = glint__host_fns_clone(src->fns, &img->fns)) ||
        (rc = glint__exports_clone(src->exports, &img->exports)))
        goto fail;
    img->writable = new_bitmap(img);
    if (!img->writable) {
        rc = glint__fail(GLINT_ENOMEM, "out of memory");
        goto fail;
    }
    memcpy(img->writable, src->writable, img->bitmap_words * sizeof *img->writable);
    if ((rc = map_memory(img)))
        goto fail;
    *out = img;
    return 0;
fail:
    glint__image_free(img);
    return rc;
}

void glint__image_set_state(glint_image *img, glint__vcpu_state *state)
{
    img->state = state;
}

void glint__image_ref(glint_image *img)
{
    atomic_fetch_add_explicit(&img->refs, 1, memory_order_relaxed);
}

void glint_image_destroy(glint_image *img)
{
    if (img && atomic_fetch_sub_explicit(&img->refs, 1, memory_order_acq_rel) == 1)
        glint__image_free(img);
}

const glint_exports *glint_image_exports(const glint_image *img)
{
    return img ? img->exports : NULL;
}

int glint_image_config(const glint_image *img, glint_config *out)
{
    if (!img || !out)
        return glint__fail(GLINT_EINVAL, "glint_image_config: NULL argument");
    int rc = glint__struct_size_check("glint_image_config", out->struct_size,
                                      offsetof(glint_config, max_image_memory), sizeof *out);
    if (rc)
        return rc;
    uint32_t size = out->struct_size;
    memcpy(out, &img->config, size);
    out->struct_size = size;
    return 0;
}
