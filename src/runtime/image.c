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
    *out = img;
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

int glint__image_build_memory(glint_image *img, const struct glint__elf *elf, const uint8_t *bytes)
{
    void *p = mmap(NULL, img->layout.mem_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return glint__fail(GLINT_ENOMEM, "cannot map %llu bytes of guest memory",
                           (unsigned long long)img->layout.mem_size);
    img->mem = p;
    for (uint32_t i = 0; i < elf->nsegs; i++) {
        const struct glint__segment *s = &elf->segs[i];
        memcpy(img->mem + s->vaddr, bytes + s->offset, s->filesz);
    }
    uint64_t seed;
    int rc = random_seed(&seed);
    if (rc)
        return rc;
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

int glint__image_index_pages(glint_image *img)
{
    uint64_t n = img->layout.mem_size / GLINT_ABI_PAGE_SIZE;
    img->pages = malloc(n * sizeof *img->pages);
    if (!img->pages)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    img->nonzero = calloc(img->bitmap_words, sizeof *img->nonzero);
    if (!img->nonzero)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    static const uint8_t zero[GLINT_ABI_PAGE_SIZE];
    for (uint64_t i = 0; i < n; i++) {
        if (memcmp(img->mem + i * GLINT_ABI_PAGE_SIZE, zero, sizeof zero) != 0) {
            img->pages[img->npages++] = (uint32_t)i;
            img->nonzero[i / 64] |= 1ull << (i % 64);
        }
    }
    return 0;
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
