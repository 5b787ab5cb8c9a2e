/* Images (private): the struct, its construction steps, and the read-only view the rest reads. */
#ifndef GLINT_RUNTIME_IMAGE_H
#define GLINT_RUNTIME_IMAGE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "glint.h"
#include "hv/hv.h"
#include "load/elf.h"
#include "mem/layout.h"
#include "mem/regions.h"

/* Built by the steps below (runtime/loader.c calls them in order), then
 * immutable: any number of threads read it. Only image.c and the loader
 * write its fields; other files read it through glint__image_layout() and
 * glint__image_view(). */
struct glint_image {
    atomic_long refs;
    struct glint__layout layout;
    struct glint__regions regions; /* the memory map (mem/regions.h) */
    uint32_t timeout_ms;
    glint_config config; /* as loaded, sizes resolved (glint_image_config) */
    uint64_t budget;     /* default per-call instruction budget, 0 = none */
    bool budget_ok;      /* the guest enforces budgets (its defaults note says so) */
    bool hot_ok;         /* the guest serves hot calls (its features note says so) */
    uint64_t entry;
    glint_host_fns *fns;
    glint_exports *exports;
    uint8_t *mem;    /* post-init guest memory, layout.mem_size bytes */
    uint32_t *pages; /* indices of its non-zero pages */
    uint32_t npages;
    glint__vcpu_state *state; /* post-init vCPU state; NULL while building */
    uint64_t *writable;       /* bitmap: pages the guest or CPU may write */
    uint64_t *nonzero;        /* bitmap: the same pages as `pages` */
    size_t bitmap_words;      /* uint64_t words in a page bitmap */
    /* What an image file (runtime/image_save.c) records to rebuild the memory map: */
    uint32_t nsegs;
    struct glint__segment segs[GLINT__ELF_MAX_SEGMENTS]; /* the ELF's segments */
    uint32_t guest_flags; /* GLINT_ABI_DEFAULTS_* the guest declared */
    uint64_t seed;        /* the boot page's seed */
};

/* What sandboxes and restores read of a loaded image. */
struct glint__image_view {
    const uint8_t *mem;    /* post-init memory */
    const uint32_t *pages; /* its non-zero pages (while building: the template's) */
    uint32_t npages;
    const glint__vcpu_state *state; /* post-init vCPU state (NULL while building) */
    const uint64_t *writable;       /* bitmap of pages that can change */
    const uint64_t *nonzero;        /* bitmap of `pages` */
    size_t bitmap_words;
    uint64_t entry;               /* ELF entry point (used by init only) */
    uint32_t timeout_ms;          /* default per-call timeout */
    const glint_host_fns *fns;    /* the image's host functions */
    const glint_exports *exports; /* the guest's exported functions */
    uint64_t budget;              /* default per-call instruction budget */
    bool budget_ok;               /* the guest enforces budgets */
    bool hot_ok;                  /* the guest serves hot calls */
};

static inline const struct glint__layout *glint__image_layout(const glint_image *img)
{
    return &img->layout;
}

static inline struct glint__image_view glint__image_view(const glint_image *img)
{
    struct glint__image_view v = {img->mem,        img->pages,   img->npages,       img->state,
                                  img->writable,   img->nonzero, img->bitmap_words, img->entry,
                                  img->timeout_ms, img->fns,     img->exports,      img->budget,
                                  img->budget_ok,  img->hot_ok};
    return v;
}

/* ---- construction: each step fills one part; glint__image_free undoes any prefix ---- */

/* A new image (one reference) for elf with config c (from glint__config_read). */
int glint__image_new(const struct glint__elf *elf, const glint_config *c, glint_image **out);

/* Compute the memory layout (the ELF's size is checked against
 * c->max_image_memory before any guest memory is mapped) and from it the
 * memory map, the region table everything else is generated from. */
int glint__image_lay_out(glint_image *img, const struct glint__elf *elf, const glint_config *c);

/* Map guest memory, copy the segments and build the system structures. */
int glint__image_build_memory(glint_image *img, const struct glint__elf *elf, const uint8_t *bytes);

/* Mark the pages that can change while a guest runs (restore's fallback set),
 * from the memory map. */
int glint__image_index_writable(glint_image *img);

/* Read the exports from elf; copy the host functions (NULL: print only). */
int glint__image_add_functions(glint_image *img, const struct glint__elf *elf,
                               const glint_host_fns *fns);

/* Take the initialised memory (swapped with *mem, which the caller then
 * frees) and vCPU state (owned from now on). */
void glint__image_adopt_init(glint_image *img, uint8_t **mem, glint__vcpu_state *state);

/* Record which pages written by image construction (ELF file bytes, system
 * structures, page tables) are non-zero: the template's pages, all the
 * initialising sandbox copies. Reads no other page. */
int glint__image_index_template(glint_image *img, const struct glint__elf *elf);

/* Index img's non-zero pages among `candidates` (a page bitmap; pages outside
 * it must be zero in src), so that sandboxes copy only those. src is img->mem,
 * or another memory of the same layout whose candidate pages are copied into
 * img->mem (which must then be zero). Replaces any earlier index; costs time
 * in proportion to the candidate pages, not to the memory size. */
int glint__image_index_pages(glint_image *img, const uint8_t *src, const uint64_t *candidates);

/* Index img's non-zero pages as the `known` ones (n page numbers, not read:
 * an image file's, which stay untouched until a sandbox copies them) plus
 * those of `candidates` (a page bitmap) that are non-zero in img->mem. */
int glint__image_index_known(glint_image *img, const uint64_t *candidates, const uint32_t *known,
                             uint32_t n);

/* A new image (one reference) for glint_image_derive: src's layout, memory
 * map, writable set, timeout, exports and host functions (copied), and fresh
 * zero memory; no page index and no vCPU state yet. */
int glint__image_derive_base(const glint_image *src, glint_image **out);

/* Give img its post-init vCPU state (owned from now on). */
void glint__image_set_state(glint_image *img, glint__vcpu_state *state);

/* Free an image under construction or whose last reference went. */
void glint__image_free(glint_image *img);

/* Take another reference to an image. */
void glint__image_ref(glint_image *img);

#endif
