/* Pools: ready sandboxes of one image, a pristine one per call, VM churn on a background thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "internal.h"

struct glint_pool {
    glint_image *img;
    glint_host_fns *fns; /* NULL: the image's */
    uint32_t size, wait_ms;

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
};

void glint_pool_config_init(glint_pool_config *cfg)
{
    cfg->struct_size = sizeof *cfg;
    cfg->size = 4;
    cfg->wait_ms = 1000;
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

/* Background thread: keeps `size` sandboxes alive and destroys retired
 * ones, so that callers never pay for KVM_CREATE_VM or close(). */
static void *maintain(void *arg)
{
    glint_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping || p->nretired) {
        if (p->nretired) {
            glint_sandbox *sb = p->retired[--p->nretired];
            pthread_mutex_unlock(&p->lock);
            glint_sandbox_destroy(sb);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        if (p->live < p->size) {
            p->live++;
            pthread_mutex_unlock(&p->lock);
            glint_sandbox *sb = NULL;
            int rc = glint_sandbox_create(p->img, p->fns, &sb);
            pthread_mutex_lock(&p->lock);
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
        pthread_cond_wait(&p->work, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void free_pool(glint_pool *p)
{
    for (size_t i = 0; i < p->nfree; i++)
        glint_sandbox_destroy(p->free[i]);
    free(p->free);
    free(p->retired);
    pthread_cond_destroy(&p->ready);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    glint_host_fns_destroy(p->fns);
    glint_image_destroy(p->img);
    free(p);
}

int glint_pool_create(glint_image *img, const glint_host_fns *fns, const glint_pool_config *cfg,
                      glint_pool **out)
{
    if (!img || !out)
        return glint__fail(GLINT_EINVAL, "glint_pool_create: NULL argument");
    glint_pool_config c;
    glint_pool_config_init(&c);
    if (cfg) {
        if (cfg->struct_size < sizeof c)
            return glint__fail(GLINT_EINVAL, "pool config: struct_size %u, want %zu",
                               cfg->struct_size, sizeof c);
        c = *cfg;
    }
    if (c.size < 1 || c.size > 4096)
        return glint__fail(GLINT_EINVAL, "pool config: size %u is out of range 1..4096", c.size);
    glint_pool *p = calloc(1, sizeof *p);
    if (!p)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    glint__image_ref(img);
    p->img = img;
    p->size = c.size;
    p->wait_ms = c.wait_ms;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->ready, &ca);
    pthread_cond_init(&p->work, &ca);
    pthread_condattr_destroy(&ca);
    p->free = calloc(c.size, sizeof *p->free);
    p->retired = calloc(c.size, sizeof *p->retired);
    int rc = 0;
    if (!p->free || !p->retired) {
        rc = glint__fail(GLINT_ENOMEM, "out of memory");
        goto fail;
    }
    if (fns && (rc = glint__host_fns_clone(fns, &p->fns)))
        goto fail;
    if ((rc = pthread_create(&p->maintainer, NULL, maintain, p)) != 0) {
        rc = glint__fail(GLINT_ENOMEM, "cannot start the pool thread: %s", strerror(rc));
        goto fail;
    }
    /* Return once one sandbox works, or report why none can be made. */
    pthread_mutex_lock(&p->lock);
    while (p->nfree == 0 && p->create_rc == 0)
        pthread_cond_wait(&p->ready, &p->lock);
    rc = p->nfree ? 0 : p->create_rc;
    pthread_mutex_unlock(&p->lock);
    if (rc) {
        rc = glint__fail(rc, "pool cannot create sandboxes: %s", p->create_msg);
        glint_pool_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
fail:
    free_pool(p);
    return rc;
}

void glint_pool_destroy(glint_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->maintainer, NULL);
    free_pool(p);
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

static int keep_result(glint_value *ret)
{
    if (ret->type != GLINT_STRING && ret->type != GLINT_BYTES)
        return 0;
    size_t len = ret->type == GLINT_STRING ? ret->as.str.len : ret->as.bytes.len;
    const void *src = ret->type == GLINT_STRING ? (const void *)ret->as.str.ptr : ret->as.bytes.ptr;
    pthread_once(&result_once, make_key);
    struct result_buf *b = pthread_getspecific(result_key);
    if (!b || b->cap < len + 1) {
        struct result_buf *n = realloc(b, sizeof *n + len + 1);
        if (!n)
            return glint__fail(GLINT_ENOMEM, "out of memory for the call result");
        n->cap = len + 1;
        b = n;
        pthread_setspecific(result_key, b);
    }
    memcpy(b->data, src, len);
    b->data[len] = 0;
    if (ret->type == GLINT_STRING)
        ret->as.str.ptr = b->data;
    else
        ret->as.bytes.ptr = b->data;
    return 0;
}

static int take(glint_pool *p, glint_sandbox **out)
{
    struct timespec until;
    deadline_after(&until, p->wait_ms);
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    while (p->nfree == 0) {
        if (p->live == 0 && p->create_rc) {
            rc = glint__fail(p->create_rc, "pool has no sandboxes: %s", p->create_msg);
            break;
        }
        if (pthread_cond_timedwait(&p->ready, &p->lock, &until) == ETIMEDOUT && p->nfree == 0) {
            rc = glint__fail(GLINT_EBUSY, "all %u pool sandboxes stayed busy for %u ms", p->size,
                             p->wait_ms);
            break;
        }
    }
    if (rc == 0)
        *out = p->free[--p->nfree];
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* Back into the pool pristine, or to the maintainer if it cannot be. */
static void give_back(glint_pool *p, glint_sandbox *sb)
{
    bool ok = glint_sandbox_restore(sb, NULL) == 0;
    pthread_mutex_lock(&p->lock);
    if (ok) {
        p->free[p->nfree++] = sb;
        pthread_cond_signal(&p->ready);
    } else {
        p->retired[p->nretired++] = sb;
        p->live--;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->lock);
}

int glint_pool_call(glint_pool *p, const char *name, const glint_value *args, size_t nargs,
                    glint_value *ret, glint_failure *failure)
{
    if (failure)
        memset(failure, 0, sizeof *failure);
    glint_sandbox *sb = NULL;
    int rc =
        !p || !name ? glint__fail(GLINT_EINVAL, "glint_pool_call: NULL argument") : take(p, &sb);
    if (rc) {
        if (failure) {
            failure->error = rc;
            failure->kind = GLINT_FAIL_USAGE;
            snprintf(failure->message, sizeof failure->message, "%s", glint_errmsg());
        }
        return rc;
    }
    glint_value r;
    rc = glint_sandbox_call(sb, name, args, nargs, &r);
    if (failure)
        glint_sandbox_last_failure(sb, failure);
    if (rc == 0 && ret) {
        *ret = r;
        rc = keep_result(ret);
    }
    /* glint_errmsg() must survive the restore: save and re-set it. */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", glint_errmsg());
    give_back(p, sb);
    if (rc)
        glint__fail(rc, "%s", msg);
    return rc;
}
