/* Snapshots and restore: put back exactly the pages the guest (or host) wrote, and the vCPU. */
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"
#include "runtime/failure.h"
#include "runtime/image.h"
#include "runtime/restore.h"
#include "runtime/sandbox.h"

#define PAGE GLINT_ABI_PAGE_SIZE

static void mark_words(glint_sandbox *sb, size_t lo, size_t hi)
{
    if (sb->host_lo == sb->host_hi) {
        sb->host_lo = lo;
        sb->host_hi = hi;
    }
    if (lo < sb->host_lo)
        sb->host_lo = lo;
    if (hi > sb->host_hi)
        sb->host_hi = hi;
}

void glint__mark_host_dirty(glint_sandbox *sb, uint64_t addr, uint64_t len)
{
    if (!len)
        return;
    uint64_t first = addr / PAGE, last = (addr + len - 1) / PAGE;
    for (uint64_t p = first; p <= last; p++)
        sb->host_dirty[p / 64] |= 1ull << (p % 64);
    mark_words(sb, first / 64, last / 64 + 1);
}

static int snapshot_take(glint_sandbox *sb, glint_snapshot **out);

int glint_sandbox_snapshot(glint_sandbox *sb, glint_snapshot **out)
{
    if (!sb || !out)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_snapshot: NULL argument");
    int rc = glint__sandbox_check_at_rest(sb, "snapshot");
    if (rc || (rc = glint__sandbox_hot_pause(sb))) /* a hot guest rests at its park `out` */
        return rc;
    rc = snapshot_take(sb, out);
    glint__sandbox_hot_resume(sb);
    return rc;
}

static int snapshot_take(glint_sandbox *sb, glint_snapshot **out)
{
    glint_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    const struct glint__image_view v = glint__image_view(sb->img), *img = &v;
    int rc;
    if ((rc = glint__vm_save(sb->vm, &s->state)) || (rc = glint__collect_dirty(sb, img)))
        goto fail;
    s->set = malloc(img->bitmap_words * sizeof *s->set);
    if (!s->set) {
        rc = glint__fail(GLINT_ENOMEM, "out of memory");
        goto fail;
    }
    memcpy(s->set, sb->dirty, img->bitmap_words * sizeof *s->set);
    for (size_t i = 0; i < img->bitmap_words; i++)
        s->npages += (uint32_t)__builtin_popcountll(s->set[i]);
    s->pages = malloc((s->npages ? s->npages : 1) * sizeof *s->pages);
    s->data = malloc((s->npages ? s->npages : 1) * (size_t)PAGE);
    if (!s->pages || !s->data) {
        rc = glint__fail(GLINT_ENOMEM, "out of memory for a %u-page snapshot", s->npages);
        goto fail;
    }
    uint32_t k = 0;
    for (size_t i = 0; i < img->bitmap_words; i++) {
        for (uint64_t w = s->set[i]; w; w &= w - 1) {
            uint64_t p = i * 64 + (uint64_t)__builtin_ctzll(w);
            s->pages[k] = (uint32_t)p;
            memcpy(s->data + (size_t)k * PAGE, sb->mem + p * PAGE, PAGE);
            k++;
        }
    }
    glint__image_ref(sb->img);
    s->img = sb->img;
    *out = s;
    return 0;
fail:
    glint_snapshot_destroy(s);
    return rc;
}

void glint_snapshot_destroy(glint_snapshot *s)
{
    if (!s)
        return;
    glint__vcpu_state_free(s->state);
    free(s->set);
    free(s->pages);
    free(s->data);
    glint_image_destroy(s->img);
    free(s);
}

/* Record a restore that failed after it began to change the sandbox: its
 * memory and vCPU are neither the old state nor the target. */
static int restore_failed(glint_sandbox *sb, int rc)
{
    return glint__record(sb, rc, GLINT_FAIL_HYPERVISOR, "restore failed halfway: %s",
                         glint_errmsg());
}

/* Pages copied from the snapshot differ from the image: count them as
 * host-written before the first copy, so that even a restore failing later
 * leaves them accounted for the next one. */
static void account_snapshot(glint_sandbox *sb, const glint_snapshot *snap, size_t words)
{
    if (!snap || !snap->npages)
        return;
    for (size_t i = 0; i < words; i++)
        sb->host_dirty[i] |= snap->set[i];
    mark_words(sb, snap->pages[0] / 64, snap->pages[snap->npages - 1] / 64 + 1);
}

/* Copy every page that may differ from the target back from it (the
 * snapshot's copy, else the image's; zero pages are cleared, not read).
 * Pages the snapshot holds may differ from the image even if nobody wrote
 * them since: those are copied too. Returns the number of pages copied. */
static uint32_t copy_pages(glint_sandbox *sb, const struct glint__image_view *img,
                           const glint_snapshot *snap)
{
    uint32_t k = 0, count = 0;
    for (size_t i = 0; i < img->bitmap_words; i++) {
        uint64_t w = sb->dirty[i] | (snap ? snap->set[i] : 0);
        for (; w; w &= w - 1) {
            uint64_t p = i * 64 + (uint64_t)__builtin_ctzll(w);
            const uint8_t *src = NULL;
            while (snap && k < snap->npages && snap->pages[k] < p)
                k++;
            if (snap && k < snap->npages && snap->pages[k] == p)
                src = snap->data + (size_t)k * PAGE;
            else if (img->nonzero[i] & (1ull << (p % 64)))
                src = img->mem + p * PAGE;
            if (src) {
                memcpy(sb->mem + p * PAGE, src, PAGE);
            } else {
                memset(sb->mem + p * PAGE, 0, PAGE); /* no need to read a zero page */
                sb->zeroed++;                        /* resident now: see glint__sandbox_trim */
            }
            count++;
        }
    }
    return count;
}

/* After a restore to the image, which just copied `count` pages: memory
 * equals the image again, so nothing is host-written any more. If the
 * working set grew too big, write-protect it so that only pages written
 * from now on count; the restore after that measures one call's writes. */
static int tune_working_set(glint_sandbox *sb, uint32_t count)
{
    memset(sb->host_dirty + sb->host_lo, 0, (sb->host_hi - sb->host_lo) * sizeof *sb->host_dirty);
    sb->host_lo = sb->host_hi = 0;
    if (sb->measure_next) {
        uint32_t limit = 2 * count + 64;
        sb->sticky_limit = limit > GLINT__STICKY_MIN_PAGES ? limit : GLINT__STICKY_MIN_PAGES;
        sb->measure_next = false;
    } else if (count > sb->sticky_limit) {
        int rc = glint__vm_reprotect(sb->vm, sb->dirty);
        if (rc)
            return rc;
        sb->measure_next = true;
    }
    return 0;
}

static int check_restore(const glint_sandbox *sb, const glint_snapshot *snap)
{
    if (!sb)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_restore: NULL sandbox");
    if (sb->in_call)
        return glint__fail(GLINT_EBUSY, "cannot restore a sandbox during a call");
    if (snap && snap->img != sb->img)
        return glint__fail(GLINT_EINVAL, "snapshot belongs to another image");
    return 0;
}

static int restore_to(glint_sandbox *sb, const glint_snapshot *snap);

int glint_sandbox_restore(glint_sandbox *sb, const glint_snapshot *snap)
{
    int rc = check_restore(sb, snap);
    if (rc)
        return rc;
    /* A hot guest is stopped wherever it is (its state is replaced), then
     * armed again on the restored memory unless the restore failed. */
    glint__sandbox_hot_halt(sb);
    rc = restore_to(sb, snap);
    glint__sandbox_hot_resume(sb);
    return rc;
}

int glint__restore_to_image(glint_sandbox *sb)
{
    return restore_to(sb, NULL);
}

static int restore_to(glint_sandbox *sb, const glint_snapshot *snap)
{
    int rc;
    const struct glint__image_view img = glint__image_view(sb->img);
    /* A failed call may have left an exit half done (an `in` on a glint
     * port, say): finish it first, so that its effects are tracked and then
     * undone instead of landing on the restored state. A successful call
     * ended on a 1-byte `out`, which KVM drops once rip is reloaded. Only a
     * poisoned sandbox runs here, so a failure leaves it poisoned. */
    if (sb->poisoned && (rc = glint__vm_settle(sb->vm)))
        return restore_failed(sb, rc);
    if ((rc = glint__collect_dirty(sb, &img)))
        return rc; /* nothing changed yet */
    account_snapshot(sb, snap, img.bitmap_words);
    uint32_t count = copy_pages(sb, &img, snap);
    /* From here on memory is the target's, the vCPU not yet: any failure
     * poisons until a restore succeeds. */
    if ((rc = glint__vm_load(sb->vm, snap ? snap->state : img.state)))
        return restore_failed(sb, rc);
    if (!snap && (rc = tune_working_set(sb, count)))
        return restore_failed(sb, rc);
    sb->poisoned = false;
    memset(&sb->failure, 0, sizeof sb->failure);
    return 0;
}
