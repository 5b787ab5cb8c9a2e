/* The NATS worker's request threads: one slot per thread, so in-flight work is bounded. */
#include "nats_dispatch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* A request thread parses JSON and waits for a pool worker (or, with --no-confine, runs the
 * call): serve's connection threads need 256 KiB; leave room. */
#define DISPATCH_STACK (512u << 10)

struct nats_dispatch {
    pthread_mutex_t lock;
    pthread_cond_t work; /* an item was queued, or stopping */
    pthread_cond_t done; /* an item finished */
    void (*run)(void *ctx, void *item);
    void *ctx;
    void **ring;                                      /* nthreads slots */
    unsigned nthreads, started, head, queued, active; /* active: queued + running */
    bool stopping;
    pthread_t *threads;
};

static void *thread_main(void *arg)
{
    struct nats_dispatch *d = arg;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (d->queued == 0 && !d->stopping)
            pthread_cond_wait(&d->work, &d->lock);
        if (d->queued == 0)
            break;
        void *item = d->ring[d->head];
        d->head = (d->head + 1) % d->nthreads;
        d->queued--;
        pthread_mutex_unlock(&d->lock);
        d->run(d->ctx, item);
        pthread_mutex_lock(&d->lock);
        d->active--;
        pthread_cond_broadcast(&d->done);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

struct nats_dispatch *nats_dispatch_start(unsigned threads, void (*run)(void *ctx, void *item),
                                          void *ctx, int *rc)
{
    *rc = EINVAL;
    if (threads == 0 || threads > 4096)
        return NULL;
    struct nats_dispatch *d = calloc(1, sizeof *d);
    *rc = ENOMEM;
    if (!d)
        return NULL;
    d->ring = calloc(threads, sizeof *d->ring);
    d->threads = calloc(threads, sizeof *d->threads);
    if (!d->ring || !d->threads) {
        free(d->ring);
        free(d->threads);
        free(d);
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->work, &ca);
    pthread_cond_init(&d->done, &ca);
    pthread_condattr_destroy(&ca);
    d->run = run;
    d->ctx = ctx;
    d->nthreads = threads;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, DISPATCH_STACK);
    *rc = 0;
    for (unsigned i = 0; i < threads && *rc == 0; i++) {
        *rc = pthread_create(&d->threads[i], &attr, thread_main, d);
        if (*rc == 0)
            d->started++;
    }
    pthread_attr_destroy(&attr);
    if (*rc != 0) {
        int err = *rc;
        nats_dispatch_stop(d);
        *rc = err;
        return NULL;
    }
    return d;
}

bool nats_dispatch_submit(struct nats_dispatch *d, void *item)
{
    pthread_mutex_lock(&d->lock);
    bool ok = !d->stopping && d->active < d->nthreads;
    if (ok) {
        d->ring[(d->head + d->queued) % d->nthreads] = item;
        d->queued++;
        d->active++;
        pthread_cond_signal(&d->work);
    }
    pthread_mutex_unlock(&d->lock);
    return ok;
}

unsigned nats_dispatch_active(struct nats_dispatch *d)
{
    pthread_mutex_lock(&d->lock);
    unsigned n = d->active;
    pthread_mutex_unlock(&d->lock);
    return n;
}

unsigned nats_dispatch_free(struct nats_dispatch *d)
{
    pthread_mutex_lock(&d->lock);
    unsigned n = d->nthreads - d->active;
    pthread_mutex_unlock(&d->lock);
    return n;
}

bool nats_dispatch_wait(struct nats_dispatch *d, bool all_idle, uint32_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&d->lock);
    bool ok;
    while (!(ok = all_idle ? d->active == 0 : d->active < d->nthreads)) {
        if (pthread_cond_timedwait(&d->done, &d->lock, &until) == ETIMEDOUT) {
            ok = all_idle ? d->active == 0 : d->active < d->nthreads;
            break;
        }
    }
    pthread_mutex_unlock(&d->lock);
    return ok;
}

void nats_dispatch_stop(struct nats_dispatch *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_cond_broadcast(&d->work);
    pthread_mutex_unlock(&d->lock);
    for (unsigned i = 0; i < d->started; i++)
        pthread_join(d->threads[i], NULL);
    pthread_cond_destroy(&d->work);
    pthread_cond_destroy(&d->done);
    pthread_mutex_destroy(&d->lock);
    free(d->ring);
    free(d->threads);
    free(d);
}
