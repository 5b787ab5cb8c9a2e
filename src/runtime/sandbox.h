/* Sandboxes (private): the struct, creation from an image, and what the other runtime files share.
 */
#ifndef GLINT_RUNTIME_SANDBOX_H
#define GLINT_RUNTIME_SANDBOX_H

#include <pthread.h>
#include <stdbool.h>

#include "glint.h"
#include "hv/hv.h"
#include "os/deadline.h"
#include "runtime/image.h"

struct glint_sandbox {
    glint_image *img;
    glint_host_fns *own_fns; /* set if the caller gave its own registry */
    const glint_host_fns *fns;
    uint8_t *mem;
    uint64_t mem_size;
    glint__vm *vm;
    uint32_t timeout_ms;
    uint64_t budget; /* per-call instruction budget, 0 = none */
    bool poisoned, in_call;
    glint_failure failure;
    char *result; /* copy of the last string/bytes result */
    size_t result_cap;
    struct glint__deadline deadline;
    uint64_t *dirty;         /* pages the guest wrote (sticky working set) */
    uint64_t *host_dirty;    /* pages the host wrote since the last restore
                                to the image; they may differ from it */
    size_t host_lo, host_hi; /* words of host_dirty that may be non-zero */
    /* Interrupts: `lock` orders glint_sandbox_interrupt() with call start/end. */
    pthread_mutex_t lock;
    bool running, interrupted;
    pthread_t thread;       /* the calling thread of the running call */
    volatile uint8_t *kick; /* the running call's kick flag (the vCPU's, or hot mode's) */
    struct glint__hot *hot; /* hot mode (runtime/hot.h); NULL: exit mode */
    const struct glint__hot_ops *hot_ops; /* set with hot */
    char hot_reason[256];                 /* why the last glint_sandbox_set_hot left hot mode off */
    uint32_t sticky_limit;                /* working-set size that triggers re-protection */
    bool measure_next;                    /* the next restore measures one call's writes */
    uint64_t output_addr;                 /* the guest's output buffer (from the layout) */
    uint32_t output_cap;                  /* its size */
    uint64_t zeroed; /* pages restores cleared outside the image's non-zero pages since
                        the last glint__sandbox_trim (may count a page twice) */
};

/* What restore, snapshot, derive and destruction do to a hot sandbox's vCPU
 * thread (runtime/hot.h documents each), through hooks that runtime/hot.c
 * sets with sb->hot, so that those files need not depend on hot mode. */
struct glint__hot_ops {
    int (*pause)(glint_sandbox *sb);
    void (*halt)(glint_sandbox *sb);
    void (*resume)(glint_sandbox *sb);
    void (*destroy)(glint_sandbox *sb);
};

/* For operations on a sandbox's whole state (snapshot, derive): 0 if sb is
 * neither in a call (GLINT_EBUSY) nor poisoned (GLINT_EPOISONED), the
 * message saying "cannot <what> a sandbox ...". */
int glint__sandbox_check_at_rest(const glint_sandbox *sb, const char *what);

static inline int glint__sandbox_hot_pause(glint_sandbox *sb)
{
    return sb->hot_ops ? sb->hot_ops->pause(sb) : 0;
}

static inline void glint__sandbox_hot_halt(glint_sandbox *sb)
{
    if (sb->hot_ops)
        sb->hot_ops->halt(sb);
}

static inline void glint__sandbox_hot_resume(glint_sandbox *sb)
{
    if (sb->hot_ops)
        sb->hot_ops->resume(sb);
}

static inline void glint__sandbox_hot_destroy(glint_sandbox *sb)
{
    if (sb->hot_ops)
        sb->hot_ops->destroy(sb);
}

/* Restores keep pages the guest wrote writable and copy them back each time
 * (the "sticky working set"; see docs/restore.md). When the set outgrows its
 * limit, the next restore to the image write-protects it all again, and the
 * restore after that sets the limit to twice what one call then wrote (plus
 * slack), never below this minimum. */
#define GLINT__STICKY_MIN_PAGES 256

/* Create a sandbox over a copy of the image's memory; from its vCPU state if
 * set, else at the ELF entry (used once, to run the guest's initialisation).
 * fns NULL: the image's host functions; otherwise copied. */
int glint__sandbox_new(glint_image *img, const glint_host_fns *fns, glint_sandbox **out);

/* After the guest's initialisation ran in sb: hand its memory and vCPU state
 * to sb's image (which was still being built) and index the image's non-zero
 * pages among the template's and those the guest wrote; sb gets the image's
 * template memory in exchange, and must then only be destroyed. */
int glint__sandbox_freeze(glint_sandbox *sb);

/* Fill sb->dirty with every page that may differ from sb's image: written by
 * the guest (hypervisor-tracked, never guest-reported) or by the host (all
 * writable pages where the hypervisor cannot track writes). */
int glint__collect_dirty(glint_sandbox *sb, const struct glint__image_view *img);

/* The guest's output buffer in host memory, and its size. */
static inline uint8_t *glint__output_buf(glint_sandbox *sb)
{
    return sb->mem + sb->output_addr;
}

static inline uint32_t glint__output_cap(const glint_sandbox *sb)
{
    return sb->output_cap;
}

#endif
