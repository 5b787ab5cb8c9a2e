/* Pools: ready sandboxes of one image, a pristine one per call, VM churn on a background thread. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/error.h"
#include "runtime/hostfns.h"
#include "runtime/hot.h"
#include "runtime/image.h"
#include "runtime/pool.h"
#include "runtime/restore.h"
#include "runtime/sandbox.h"

struct glint_pool {
    glint_image *img;
    glint_host_fns *fns; /* NULL: the image's */
    uint32_t size, wait_ms;
    uint64_t idle_resident_max;             /* trim idle sandboxes past this (glint_pool_config) */
    uint32_t hot_target;                    /* glint_pool_config.hot */
    uint32_t nhot;                          /* hot sandboxes, or being made hot */
    _Atomic uint64_t calls_hot, calls_exit; /* glint_pool_calls */

    pthread_mutex_t lock;
    pthread_cond_t ready; /* a sandbox was returned or created */
    pthread_cond_t work;  /* the maintainer has something to do */
    glint_sandbox **free; /* stack of ready sandboxes */
    size_t nfree;
    glint_sandbox **retired; /* to be destroyed by the maintainer */
    size_t nretired;
    uint32_t live; /* sandboxes that exist or are being created */
    bool stopping;
    int create_rc; /* last creation failure, 0 once one succeeds */
    char create_msg[256];
    pthread_t maintainer;
    bool trimming;  /* the maintainer holds a sandbox it is trimming */
    uint64_t trims; /* sandboxes trimmed (for tests) */

    /* Worker threads (config.workers > 0) and their queue of requests. */
    uint32_t nworkers, started, confined;
    bool confine;
    int worker_rc; /* a worker could not confine itself */
    pthread_t *workers;
    pthread_cond_t requests; /* a request was queued, or stopping */
    struct request *head, *tail;
    uint32_t idle;   /* workers waiting for a request */
    uint32_t queued; /* requests in the queue */
};

/* The pools whose calls this thread is inside, innermost first: a host
 * function may not call a pool it is (directly or through a chain of pools,
 * on this or the calling threads) already inside: the call could only wait
 * for itself. A worker serving a request continues its caller's chain. */
struct inside {
    const glint_pool *pool;
    const struct inside *up;
};
static _Thread_local const struct inside *inside;

/* A call handed to a worker; lives on the caller's stack until done. */
struct request {
    const char *name;
    const glint_value *args;
    size_t nargs;
    glint_value *ret;
    glint_failure *failure;
    char *buf;               /* the caller's result buffer */
    struct timespec until;   /* the caller's wait_ms ends */
    const struct inside *up; /* the caller's chain of pools */
    int rc;
    bool taken, done;
    char msg[512]; /* the worker's glint_errmsg() */
    pthread_cond_t cv;
    struct request *next;
};

static int start_workers(glint_pool *p, uint32_t n);

static const glint_pool_config pool_config_defaults = {
    .struct_size = sizeof(glint_pool_config),
    .size = 4,
    .wait_ms = 1000,
    .workers = 0,
    .confine = true,
    .idle_resident_max = GLINT_POOL_IDLE_RESIDENT_DEFAULT,
};

/* sizeof(glint_pool_config) in 0.1.0: four uint32_t and a bool, 4-byte aligned. */
#define POOL_CONFIG_V0_SIZE ((offsetof(glint_pool_config, confine) + sizeof(bool) + 3) / 4 * 4)
/* ... and with idle_resident_max, before hot. */
#define POOL_CONFIG_V1_SIZE offsetof(glint_pool_config, hot)

void glint_pool_config_init_sized(glint_pool_config *cfg, size_t size)
{
    glint__struct_init(cfg, size, &pool_config_defaults, sizeof pool_config_defaults);
}

/* The 0.1.0 entry point (its header had no macro): a 0.1.0 struct. */
void(glint_pool_config_init)(glint_pool_config *cfg)
{
    glint_pool_config_init_sized(cfg, POOL_CONFIG_V0_SIZE);
}

static void deadline_after(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Might this sandbox keep more than the pool allows resident? Its restores
 * cleared at least that many pages outside the image since its last trim
 * (an upper bound: a page cleared twice counts twice). O(1), so give_back
 * can ask on the caller's thread; the maintainer measures. */
static bool wants_trim(const glint_pool *p, const glint_sandbox *sb)
{
    return p->idle_resident_max != UINT64_MAX && !sb->hot &&
           sb->zeroed > p->idle_resident_max / GLINT_ABI_PAGE_SIZE;
}

/* Take an idle sandbox that may need trimming off the free stack, or NULL.
 * Called with the lock held. */
static glint_sandbox *take_for_trim(glint_pool *p)
{
    for (size_t i = 0; i < p->nfree; i++) {
        glint_sandbox *sb = p->free[i];
        if (!wants_trim(p, sb))
            continue;
        memmove(&p->free[i], &p->free[i + 1], (p->nfree - i - 1) * sizeof *p->free);
        p->nfree--;
        return sb;
    }
    return NULL;
}

/* Trim sb (taken off the free stack) with the lock released, then put it
 * back. A failed trim leaves memory exact (glint__sandbox_trim): the
 * sandbox stays usable; its count is reset so the pool does not retry at
 * once. Called and returns with the lock held. */
static void trim_idle(glint_pool *p, glint_sandbox *sb)
{
    p->trimming = true;
    pthread_mutex_unlock(&p->lock);
    uint64_t resident, trimmed;
    if (glint__sandbox_trim(sb, p->idle_resident_max, &resident, &trimmed) != 0 ||
        wants_trim(p, sb))
        sb->zeroed = 0; /* failed, or nothing it could give back: not again at once */
    pthread_mutex_lock(&p->lock);
    p->trimming = false;
    if (trimmed)
        p->trims++;
    p->free[p->nfree++] = sb;
    pthread_cond_broadcast(&p->ready);
}

/* Background thread: keeps `size` sandboxes alive, destroys retired ones
 * and trims idle ones, so that callers never pay for KVM_CREATE_VM, close()
 * or madvise(). */
static void *maintain(void *arg)
{
    glint_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping || p->nretired) {
        if (p->nretired) {
            glint_sandbox *sb = p->retired[--p->nretired];
            if (sb->hot)
                p->nhot--;
            pthread_mutex_unlock(&p->lock);
            glint_sandbox_destroy(sb);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        if (p->live < p->size) {
            p->live++;
            bool hot = p->nhot < p->hot_target;
            if (hot)
                p->nhot++;
            pthread_mutex_unlock(&p->lock);
            glint_sandbox *sb = NULL;
            int rc = glint_sandbox_create(p->img, p->fns, &sb);
            /* Admission may refuse: the sandbox then serves in exit mode. */
            bool made_hot = rc == 0 && hot && glint__hot_enable_isolated(sb, 200) == 0;
            pthread_mutex_lock(&p->lock);
            if (hot && !made_hot)
                p->nhot--;
            if (rc == 0) {
                p->free[p->nfree++] = sb;
                p->create_rc = 0;
                pthread_cond_broadcast(&p->ready);
                continue;
            }
            p->live--;
            p->create_rc = rc;
            snprintf(p->create_msg, sizeof p->create_msg, "%s", glint_errmsg());
            pthread_cond_broadcast(&p->ready);
            /* Back off before trying again (e.g. out of memory). */
            struct timespec ts;
            deadline_after(&ts, 100);
            pthread_cond_timedwait(&p->work, &p->lock, &ts);
            continue;
        }
        glint_sandbox *sb = p->stopping ? NULL : take_for_trim(p);
        if (sb) {
            trim_idle(p, sb);
            continue;
        }
        pthread_cond_wait(&p->work, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void free_pool(glint_pool *p)
{
    free(p->workers);
    pthread_cond_destroy(&p->requests);
    for (size_t i = 0; i < p->nfree; i++)
        glint_sandbox_destroy(p->free[i]);
    p->nhot = 0;
    free(p->free);
    free(p->retired);
    pthread_cond_destroy(&p->ready);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    glint_host_fns_destroy(p->fns);
    glint_image_destroy(p->img);
    free(p);
}

/* The caller's config (NULL: defaults), struct_size- and range-checked. */
static int read_config(const glint_pool_config *cfg, glint_pool_config *c)
{
    glint_pool_config_init(c);
    if (cfg) {
        /* 0.1.0's struct lacks idle_resident_max: it keeps its default. */
        int rc = glint__struct_size_check("pool config", cfg->struct_size, POOL_CONFIG_V0_SIZE,
                                          sizeof *c);
        if (rc)
            return rc;
        /* Only whole releases' structs: no size that cuts a field. */
        if (cfg->struct_size != POOL_CONFIG_V0_SIZE && cfg->struct_size != POOL_CONFIG_V1_SIZE &&
            cfg->struct_size != sizeof *c)
            return glint__fail(GLINT_EINVAL,
                               "pool config: struct_size %u is neither 0.1.0's (%zu), the one "
                               "before hot (%zu) nor this library's (%zu)",
                               cfg->struct_size, (size_t)POOL_CONFIG_V0_SIZE,
                               (size_t)POOL_CONFIG_V1_SIZE, sizeof *c);
        memcpy(c, cfg, cfg->struct_size);
    }
    if (c->size < 1 || c->size > 4096)
        return glint__fail(GLINT_EINVAL, "pool config: size %u is out of range 1..4096", c->size);
    if (c->workers > 256)
        return glint__fail(GLINT_EINVAL, "pool config: workers %u is out of range 0..256",
                           c->workers);
    if (c->hot > c->size)
        return glint__fail(GLINT_EINVAL, "pool config: hot %u is more than size %u", c->hot,
                           c->size);
    return 0;
}

/* The pool object with its locks and sandbox stacks; no thread yet. */
static int alloc_pool(glint_image *img, const glint_host_fns *fns, const glint_pool_config *c,
                      glint_pool **out)
{
    glint_pool *p = calloc(1, sizeof *p);
    if (!p)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    glint__image_ref(img);
    p->img = img;
    p->size = c->size;
    p->wait_ms = c->wait_ms;
    p->idle_resident_max = c->idle_resident_max;
    p->hot_target = c->hot;
    p->confine = c->confine;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->ready, &ca);
    pthread_cond_init(&p->work, &ca);
    pthread_cond_init(&p->requests, &ca);
    pthread_condattr_destroy(&ca);
    p->free = calloc(c->size, sizeof *p->free);
    p->retired = calloc(c->size, sizeof *p->retired);
    int rc = 0;
    if (!p->free || !p->retired)
        rc = glint__fail(GLINT_ENOMEM, "out of memory");
    else if (fns)
        rc = glint__host_fns_clone(fns, &p->fns);
    if (rc) {
        free_pool(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* Wait until one sandbox works and every worker is confined, or report
 * why not (rc: the workers' start). */
static int wait_first_sandbox(glint_pool *p, int rc)
{
    pthread_mutex_lock(&p->lock);
    while (rc == 0 && ((p->nfree == 0 && p->create_rc == 0) || p->confined < p->started) &&
           p->worker_rc == 0)
        pthread_cond_wait(&p->ready, &p->lock);
    if (rc == 0 && p->worker_rc)
        rc = glint__fail(p->worker_rc, "pool worker: %s", p->create_msg);
    else if (rc == 0 && p->nfree == 0)
        rc = glint__fail(p->create_rc, "pool cannot create sandboxes: %s", p->create_msg);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int glint_pool_create(glint_image *img, const glint_host_fns *fns, const glint_pool_config *cfg,
                      glint_pool **out)
{
    if (!img || !out)
        return glint__fail(GLINT_EINVAL, "glint_pool_create: NULL argument");
    glint_pool_config c;
    glint_pool *p = NULL;
    int rc;
    if ((rc = read_config(cfg, &c)) || (rc = alloc_pool(img, fns, &c, &p)))
        return rc;
    if ((rc = pthread_create(&p->maintainer, NULL, maintain, p)) != 0) {
        rc = glint__fail(GLINT_ENOMEM, "cannot start the pool thread: %s", strerror(rc));
        free_pool(p);
        return rc;
    }
    /* From here on threads run: only glint_pool_destroy stops them. */
    if ((rc = wait_first_sandbox(p, start_workers(p, c.workers)))) {
        glint_pool_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

void glint_pool_destroy(glint_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_cond_broadcast(&p->requests);
    pthread_mutex_unlock(&p->lock);
    for (uint32_t i = 0; i < p->started; i++)
        pthread_join(p->workers[i], NULL);
    pthread_join(p->maintainer, NULL);
    free_pool(p);
}

glint_sandbox *glint__pool_test_idle(glint_pool *p, uint32_t timeout_ms, uint64_t *trims)
{
    struct timespec until;
    deadline_after(&until, timeout_ms);
    glint_sandbox *sb = NULL;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        bool pending = p->trimming;
        for (size_t i = 0; i < p->nfree && !pending; i++)
            pending = wants_trim(p, p->free[i]);
        if (!pending && p->nfree == p->size) {
            sb = p->free[p->nfree - 1];
            break;
        }
        if (pthread_cond_timedwait(&p->ready, &p->lock, &until) == ETIMEDOUT)
            break;
    }
    if (trims)
        *trims = p->trims;
    pthread_mutex_unlock(&p->lock);
    return sb;
}

size_t glint_pool_hot(glint_pool *p)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&p->lock);
    size_t n = p->nhot;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void glint_pool_calls(glint_pool *p, uint64_t *hot, uint64_t *exit_mode)
{
    if (hot)
        *hot = p ? atomic_load_explicit(&p->calls_hot, memory_order_relaxed) : 0;
    if (exit_mode)
        *exit_mode = p ? atomic_load_explicit(&p->calls_exit, memory_order_relaxed) : 0;
}

size_t glint_pool_ready(glint_pool *p)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&p->lock);
    size_t n = p->nfree;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* Per-thread copy of the last pool call's string/bytes result. */
static pthread_key_t result_key;
static pthread_once_t result_once = PTHREAD_ONCE_INIT;

struct result_buf {
    size_t cap;
    char data[];
};

static void make_key(void)
{
    pthread_key_create(&result_key, free);
}

/* The calling thread's result buffer, at least need bytes. */
static char *result_buffer(size_t need)
{
    pthread_once(&result_once, make_key);
    struct result_buf *b = pthread_getspecific(result_key);
    if (!b || b->cap < need) {
        struct result_buf *n = realloc(b, sizeof *n + need);
        if (!n)
            return NULL;
        n->cap = need;
        b = n;
        pthread_setspecific(result_key, b);
    }
    return b->data;
}

/* Retire sb (taken off the stack, its background restore failed). Called
 * with the lock held. */
static void retire_locked(glint_pool *p, glint_sandbox *sb)
{
    p->retired[p->nretired++] = sb;
    p->live--;
    pthread_cond_signal(&p->work);
}

/* Take the free sandbox nearest the top of the stack that may be used now
 * (a hot one whose background restore finished, or any exit-mode one); if
 * all are still being restored, the top one, *wait set. Called with the lock
 * held and p->nfree > 0. */
static glint_sandbox *pick(glint_pool *p, bool *wait)
{
    size_t at = p->nfree - 1;
    *wait = true;
    for (size_t k = p->nfree; k-- > 0;)
        if (glint__hot_ready(p->free[k]) != 0) {
            at = k;
            *wait = false;
            break;
        }
    glint_sandbox *sb = p->free[at];
    memmove(&p->free[at], &p->free[at + 1], (p->nfree - at - 1) * sizeof *p->free);
    p->nfree--;
    return sb;
}

/* Wait (lock released) until sb's background restore finished or `until`.
 * Returns 1 (usable), 0 (still restoring at `until`) or a negative GLINT_E*
 * (the restore failed). */
static int wait_restored(glint_sandbox *sb, const struct timespec *until)
{
    for (unsigned i = 0;; i++) {
        int r = glint__hot_ready(sb);
        if (r != 0)
            return r;
        if ((i & 63) == 63) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > until->tv_sec ||
                (now.tv_sec == until->tv_sec && now.tv_nsec >= until->tv_nsec))
                return 0;
        }
        if (i < 256)
            __builtin_ia32_pause();
        else
            sched_yield();
    }
}

/* Wait until `until` (the caller's wait_ms, counted from its call) for a
 * free sandbox that is not being restored in the background. */
static int take(glint_pool *p, const struct timespec *until, glint_sandbox **out)
{
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->nfree) {
            bool wait;
            glint_sandbox *sb = pick(p, &wait);
            int r = 1;
            if (wait) {
                pthread_mutex_unlock(&p->lock);
                r = wait_restored(sb, until);
                pthread_mutex_lock(&p->lock);
            } else {
                r = glint__hot_ready(sb);
            }
            if (r > 0) {
                *out = sb;
                break;
            }
            if (r < 0) {
                retire_locked(p, sb);
                continue;
            }
            p->free[p->nfree++] = sb; /* still restoring at the caller's deadline */
            rc = glint__fail(GLINT_EBUSY, "all %u pool sandboxes stayed busy for %u ms", p->size,
                             p->wait_ms);
            break;
        }
        if (p->live == 0 && p->create_rc) {
            rc = glint__fail(p->create_rc, "pool has no sandboxes: %s", p->create_msg);
            break;
        }
        if (pthread_cond_timedwait(&p->ready, &p->lock, until) == ETIMEDOUT && p->nfree == 0) {
            rc = glint__fail(GLINT_EBUSY, "all %u pool sandboxes stayed busy for %u ms", p->size,
                             p->wait_ms);
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* Back into the pool pristine, or to the maintainer if it cannot be. A hot
 * sandbox that is not poisoned goes back at once: its vCPU thread restores
 * it in the background, and take() does not hand it out before. */
static void give_back(glint_pool *p, glint_sandbox *sb)
{
    if (sb->hot && !sb->poisoned) {
        glint__hot_release(sb);
        pthread_mutex_lock(&p->lock);
        p->free[p->nfree++] = sb;
        pthread_cond_signal(&p->ready);
        pthread_mutex_unlock(&p->lock);
        return;
    }
    bool ok = glint_sandbox_restore(sb, NULL) == 0;
    pthread_mutex_lock(&p->lock);
    if (ok) {
        p->free[p->nfree++] = sb;
        pthread_cond_signal(&p->ready);
        if (wants_trim(p, sb))
            pthread_cond_signal(&p->work);
    } else {
        p->retired[p->nretired++] = sb;
        p->live--;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Report rc, a failure before any sandbox ran, in *failure too. */
static int usage_failure(glint_failure *failure, int rc)
{
    if (failure) {
        failure->error = rc;
        failure->kind = GLINT_FAIL_USAGE;
        snprintf(failure->message, sizeof failure->message, "%s", glint_errmsg());
    }
    return rc;
}

/* Take a sandbox, call, copy a string/bytes result into buf, restore, give
 * back. Runs on the caller's thread or on a worker. */
static int pooled_call(glint_pool *p, const struct timespec *until, const char *name,
                       const glint_value *args, size_t nargs, glint_value *ret,
                       glint_failure *failure, char *buf)
{
    glint_sandbox *sb = NULL;
    int rc = take(p, until, &sb);
    if (rc)
        return usage_failure(failure, rc);
    glint_value r;
    bool hot = sb->hot != NULL;
    rc = glint_sandbox_call(sb, name, args, nargs, &r);
    atomic_fetch_add_explicit(hot ? &p->calls_hot : &p->calls_exit, 1, memory_order_relaxed);
    if (failure)
        glint_sandbox_last_failure(sb, failure);
    if (rc == 0 && ret) {
        *ret = r;
        /* The sandbox's copy is reused by its next call: copy it again. */
        if (r.type == GLINT_STRING) {
            memcpy(buf, r.as.str.ptr, r.as.str.len + 1);
            ret->as.str.ptr = buf;
        } else if (r.type == GLINT_BYTES) {
            memcpy(buf, r.as.bytes.ptr, r.as.bytes.len);
            buf[r.as.bytes.len] = 0;
            ret->as.bytes.ptr = buf;
        }
    }
    /* glint_errmsg() must survive the restore: save and re-set it. */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", glint_errmsg());
    give_back(p, sb);
    if (rc)
        glint__fail(rc, "%s", msg);
    return rc;
}

/* Worker thread: confine itself, then serve queued requests. */
static void *work(void *arg)
{
    glint_pool *p = arg;
    int rc = p->confine ? glint_confine_thread() : 0;
    pthread_mutex_lock(&p->lock);
    if (rc) {
        p->worker_rc = rc;
        snprintf(p->create_msg, sizeof p->create_msg, "%s", glint_errmsg());
    } else {
        p->confined++;
    }
    pthread_cond_broadcast(&p->ready);
    while (rc == 0) {
        p->idle++;
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->requests, &p->lock);
        p->idle--;
        if (!p->head)
            break; /* stopping and nothing left */
        struct request *r = p->head;
        p->head = r->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        r->taken = true;
        pthread_mutex_unlock(&p->lock);
        struct inside self = {p, r->up};
        inside = &self;
        r->rc = pooled_call(p, &r->until, r->name, r->args, r->nargs, r->ret, r->failure, r->buf);
        inside = NULL;
        snprintf(r->msg, sizeof r->msg, "%s", r->rc ? glint_errmsg() : "");
        pthread_mutex_lock(&p->lock);
        r->done = true;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static int start_workers(glint_pool *p, uint32_t n)
{
    if (!n)
        return 0;
    p->workers = calloc(n, sizeof *p->workers);
    if (!p->workers)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    for (; p->started < n; p->started++) {
        int rc = pthread_create(&p->workers[p->started], NULL, work, p);
        if (rc)
            return glint__fail(GLINT_ENOMEM, "cannot start pool worker: %s", strerror(rc));
    }
    p->nworkers = n;
    return 0;
}

int glint_pool_call(glint_pool *p, const char *name, const glint_value *args, size_t nargs,
                    glint_value *ret, glint_failure *failure)
{
    if (failure)
        memset(failure, 0, sizeof *failure);
    char *buf = NULL;
    int rc = 0;
    if (!p || !name)
        rc = glint__fail(GLINT_EINVAL, "glint_pool_call: NULL argument");
    else if (!(buf = result_buffer(glint__image_layout(p->img)->output_size + 1)))
        rc = glint__fail(GLINT_ENOMEM, "out of memory for the call result");
    for (const struct inside *in = inside; in && rc == 0; in = in->up)
        if (in->pool == p)
            rc = glint__fail(GLINT_EBUSY,
                             "glint_pool_call: this thread is already inside a call on this pool "
                             "(a host function called its own pool, directly or through other "
                             "pools); refused, as it could only wait for itself");
    if (rc)
        return usage_failure(failure, rc);
    /* Every wait below ends wait_ms after this point. */
    struct timespec until;
    deadline_after(&until, p->wait_ms);
    if (!p->nworkers) {
        struct inside self = {p, inside};
        inside = &self;
        rc = pooled_call(p, &until, name, args, nargs, ret, failure, buf);
        inside = self.up;
        return rc;
    }
    struct request r = {.name = name,
                        .args = args,
                        .nargs = nargs,
                        .ret = ret,
                        .failure = failure,
                        .buf = buf,
                        .until = until,
                        .up = inside};
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_lock(&p->lock);
    /* An idle worker for every queued request, this one included: it will
     * be taken at once, so it is not given up at wait_ms (which may be 0). */
    bool assured = p->idle > p->queued;
    if (p->tail)
        p->tail->next = &r;
    else
        p->head = &r;
    p->tail = &r;
    p->queued++;
    pthread_cond_signal(&p->requests);
    /* Until a worker takes it, the request waits at most until `until`;
     * afterwards the worker's take() keeps to the same limit, and the guest
     * call to the guest timeout. */
    while (!r.taken && !assured) {
        if (pthread_cond_timedwait(&r.cv, &p->lock, &until) == ETIMEDOUT && !r.taken) {
            struct request **pp = &p->head, *prev = NULL;
            while (*pp != &r) {
                prev = *pp;
                pp = &(*pp)->next;
            }
            *pp = r.next;
            if (p->tail == &r)
                p->tail = prev;
            p->queued--;
            pthread_mutex_unlock(&p->lock);
            pthread_cond_destroy(&r.cv);
            rc = glint__fail(GLINT_EBUSY, "all %u pool workers stayed busy for %u ms", p->nworkers,
                             p->wait_ms);
            return usage_failure(failure, rc);
        }
    }
    while (!r.done)
        pthread_cond_wait(&r.cv, &p->lock);
    pthread_mutex_unlock(&p->lock);
    pthread_cond_destroy(&r.cv);
    if (r.rc)
        glint__fail(r.rc, "%s", r.msg);
    return r.rc;
}
