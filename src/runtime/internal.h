/* Internal definitions of images and sandboxes shared by image.c and sandbox.c. */
#ifndef GLINT_INTERNAL_H
#define GLINT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "os/deadline.h"
#include "runtime/exports.h"
#include "glint.h"
#include "runtime/hostfns.h"
#include "hv/hv.h"
#include "mem/layout.h"
#include "mem/regions.h"

struct glint_image {
    atomic_long refs;
    struct glint__layout layout;
    struct glint__regions regions; /* the memory map (mem/regions.h) */
    uint32_t timeout_ms;
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
};

struct glint_snapshot {
    glint_image *img;
    uint64_t *set; /* bitmap: pages stored here (differ from image) */
    uint32_t npages;
    uint32_t *pages; /* their indices, ascending */
    uint8_t *data;   /* npages * 4 KiB */
    glint__vcpu_state *state;
};

struct glint_sandbox {
    glint_image *img;
    glint_host_fns *own_fns; /* set if the caller gave its own registry */
    const glint_host_fns *fns;
    uint8_t *mem;
    uint64_t mem_size;
    glint__vm *vm;
    uint32_t timeout_ms;
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
    pthread_t thread;
    uint32_t sticky_limit; /* working-set size that triggers re-protection */
    bool measure_next;     /* the next restore measures one call's writes */
};

/* Restores keep pages the guest wrote writable and copy them back each time
 * (the "sticky working set"; see docs/restore.md). When the set outgrows its
 * limit, the next restore to the image write-protects it all again, and the
 * restore after that sets the limit to twice what one call then wrote (plus
 * slack), never below this minimum. */
#define GLINT__STICKY_MIN_PAGES 256

/* Mark [addr, addr+len) as written by the host. */
void glint__mark_host_dirty(glint_sandbox *sb, uint64_t addr, uint64_t len);

/* Fill sb->failure and glint_errmsg(); poisons the sandbox unless the kind is
 * USAGE or GUEST_ERROR. Returns err. */
int glint__record(glint_sandbox *sb, int err, glint_failure_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The guest's output buffer in host memory, and its size. */
uint8_t *glint__output_buf(glint_sandbox *sb);
uint32_t glint__output_cap(glint_sandbox *sb);

/* Serve the host call the guest left in its output buffer (src/hostcall.c).
 * Returns 0 (the guest may resume) or a poisoning GLINT_EPROTO. */
int glint__handle_hostcall(glint_sandbox *sb);

/* Take another reference to an image. */
void glint__image_ref(glint_image *img);

/* Create a sandbox over a copy of img->mem; from img->state if set, else at
 * the ELF entry (used once, to run the guest's initialisation). */
int glint__sandbox_new(glint_image *img, const glint_host_fns *fns, glint_sandbox **out);

/* Record the failure an exit other than I/O or an interrupt means (triple
 * fault, access outside memory, failed entry, ...); returns its GLINT_E*. */
int glint__report_exit(glint_sandbox *sb, const struct glint__exit *ex);

/* Run the guest until it reports a result (used for init; calls use it too).
 * ret_type is the declared return type; ret may be NULL. */
int glint__sandbox_run(glint_sandbox *sb, glint_type ret_type, glint_value *ret);

#endif
