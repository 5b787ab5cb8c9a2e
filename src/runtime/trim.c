/* Trimming: give idle sandboxes' zero pages (written by the guest, cleared by restore) back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime/error.h"
#include "runtime/image.h"
#include "runtime/restore.h"
#include "runtime/sandbox.h"

#define PAGE GLINT_ABI_PAGE_SIZE

static bool all_zero(const uint8_t *p)
{
    static const uint8_t zero[PAGE];
    return memcmp(p, zero, PAGE) == 0;
}

/* madvise(MADV_DONTNEED) every run of pages set in bm. */
static int drop_runs(glint_sandbox *sb, const uint64_t *bm, uint64_t pages)
{
    for (uint64_t p = 0; p < pages;) {
        if (!((bm[p / 64] >> (p % 64)) & 1)) {
            p++;
            continue;
        }
        uint64_t q = p;
        while (q < pages && ((bm[q / 64] >> (q % 64)) & 1))
            q++;
        if (madvise(sb->mem + p * PAGE, (q - p) * PAGE, MADV_DONTNEED) != 0)
            return glint__fail(GLINT_EHV, "trim: madvise(MADV_DONTNEED): %s", strerror(errno));
        p = q;
    }
    return 0;
}

int glint__sandbox_trim(glint_sandbox *sb, uint64_t max_bytes, uint64_t *resident,
                        uint64_t *trimmed)
{
    if (resident)
        *resident = 0;
    if (trimmed)
        *trimmed = 0;
    if (sb->in_call)
        return glint__fail(GLINT_EBUSY, "cannot trim a sandbox during a call");
    if (!glint__vm_tracks_writes(sb->vm))
        return 0;
    const struct glint__image_view img = glint__image_view(sb->img);
    uint64_t pages = sb->mem_size / PAGE;
    unsigned char *vec = malloc(pages);
    uint64_t *drop = calloc(img.bitmap_words, sizeof *drop);
    int rc = 0;
    if (!vec || !drop) {
        rc = glint__fail(GLINT_ENOMEM, "out of memory");
        goto out;
    }
    if (mincore(sb->mem, sb->mem_size, vec) != 0) {
        rc = glint__fail(GLINT_EHV, "trim: mincore: %s", strerror(errno));
        goto out;
    }
    /* Resident pages the image has as zero; those that are zero now may go. */
    uint64_t outside = 0, n = 0;
    for (uint64_t p = 0; p < pages; p++) {
        if (!(vec[p] & 1) || ((img.nonzero[p / 64] >> (p % 64)) & 1))
            continue;
        outside++;
        if (all_zero(sb->mem + p * PAGE)) {
            drop[p / 64] |= 1ull << (p % 64);
            n++;
        }
    }
    if (resident)
        *resident = outside * PAGE;
    sb->zeroed = outside;
    if (outside * PAGE <= max_bytes || n == 0)
        goto out;
    /* Write-protect first: if that fails, nothing changed. A page dropped
     * but still in the dirty log would be cleared, and faulted in, by every
     * restore. Either way the guest is not running and memory keeps its
     * contents: zero pages read back as zero. */
    if ((rc = glint__vm_reprotect(sb->vm, drop)) || (rc = drop_runs(sb, drop, pages)))
        goto out;
    sb->zeroed = outside - n;
    if (trimmed)
        *trimmed = n * PAGE;
out:
    free(vec);
    free(drop);
    return rc;
}
