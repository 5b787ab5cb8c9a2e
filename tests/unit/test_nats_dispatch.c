/* Unit tests: the NATS worker's request threads (serve/nats_dispatch.c): at most one item per
 * thread, a full set refuses at once, every item runs, stop waits for the running ones. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>

#include "nats_dispatch.h"

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool open;
    atomic_int ran;
};

static void run_gated(void *ctx, void *item)
{
    struct gate *g = ctx;
    (void)item;
    pthread_mutex_lock(&g->lock);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
    atomic_fetch_add(&g->ran, 1);
}

static void open_gate(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

Test(nats_dispatch, bounded_by_threads, .timeout = 20)
{
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};
    int rc = -1;
    struct nats_dispatch *d = nats_dispatch_start(3, run_gated, &g, &rc);
    cr_assert_not_null(d, "start failed: %d", rc);
    int items[5];
    for (int i = 0; i < 3; i++)
        cr_assert(nats_dispatch_submit(d, &items[i]), "item %d refused with a thread free", i);
    cr_assert_not(nats_dispatch_submit(d, &items[3]), "a fourth item was queued");
    cr_assert_eq(nats_dispatch_active(d), 3);
    cr_assert_eq(nats_dispatch_free(d), 0);
    cr_assert_not(nats_dispatch_wait(d, false, 20), "a thread is free while all are held");
    open_gate(&g);
    cr_assert(nats_dispatch_wait(d, true, 10000), "items never finished");
    cr_assert_eq(atomic_load(&g.ran), 3);
    cr_assert_eq(nats_dispatch_free(d), 3);
    cr_assert(nats_dispatch_submit(d, &items[4]));
    nats_dispatch_stop(d); /* waits for the last item */
    cr_assert_eq(atomic_load(&g.ran), 4);
}

Test(nats_dispatch, bad_sizes)
{
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, true, 0};
    int rc = 0;
    cr_assert_null(nats_dispatch_start(0, run_gated, &g, &rc));
    cr_assert_null(nats_dispatch_start(5000, run_gated, &g, &rc));
    nats_dispatch_stop(NULL);
}
