/* Hot-mode rows: the mailbox protocol between two host threads, hot calls, calls finding the
 * guest parked; compared with thread_pingpong and warm_call of the same run. */
#include <glint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "bench.h"

#define BATCH 100 /* calls per sample: one clock read per batch, not per call */

/* The same protocol as glint/abi.h's hot mailbox: a request word and a done word on separate
 * cache lines, `pause` while waiting. */
static struct {
    _Alignas(64) _Atomic uint64_t req;
    _Alignas(64) _Atomic uint64_t done;
} box;

static void *echo_thread(void *arg)
{
    (void)arg;
    for (uint64_t seen = 0;;) {
        uint64_t r = atomic_load_explicit(&box.req, memory_order_acquire);
        if (r == UINT64_MAX)
            return NULL;
        if (r != seen) {
            seen = r;
            atomic_store_explicit(&box.done, r, memory_order_release);
        } else
            _mm_pause();
    }
}

static struct row *bench_pingpong(int iters)
{
    struct row *r =
        row_new("thread_pingpong", "host threads: the mailbox protocol, one round trip");
    pthread_t t;
    if (pthread_create(&t, NULL, echo_thread, NULL))
        die("pthread_create");
    uint64_t seq = 0;
    for (int i = 0; i < iters / BATCH + 10; i++) {
        double t0 = now_us();
        for (int k = 0; k < BATCH; k++) {
            atomic_store_explicit(&box.req, ++seq, memory_order_release);
            while (atomic_load_explicit(&box.done, memory_order_acquire) != seq)
                _mm_pause();
        }
        if (i >= 10)
            row_add(r, (now_us() - t0) / BATCH);
    }
    atomic_store(&box.req, UINT64_MAX);
    pthread_join(t, NULL);
    return r;
}

static glint_sandbox *hot_sandbox(glint_image *img, uint32_t max_spin_us)
{
    glint_sandbox *sb;
    int rc = glint_sandbox_create(img, NULL, &sb);
    if (rc)
        die_glint("sandbox", rc);
    glint_hot_config hc;
    glint_hot_config_init(&hc);
    hc.max_spin_us = max_spin_us;
    if ((rc = glint_sandbox_set_hot(sb, &hc)))
        die_glint("glint_sandbox_set_hot", rc);
    return sb;
}

/* Batches of Echo(arg) calls on sb, one sample per batch (per-call average). */
static void echo_batches(struct row *r, glint_sandbox *sb, const char *arg, size_t len, int n)
{
    glint_value a = glint_string(arg), out;
    for (int i = 0; i < n + 10; i++) {
        double t0 = now_us();
        for (int k = 0; k < BATCH; k++) {
            int rc = glint_sandbox_call(sb, "Echo", &a, 1, &out);
            if (rc || out.as.str.len != len)
                die_glint("hot Echo", rc);
        }
        if (i >= 10)
            row_add(r, (now_us() - t0) / BATCH);
    }
}

/* Hot isolated calls: a pool of one hot sandbox. hot_isolated_wait spaces the calls so that the
 * background restore has finished (the caller-visible latency); hot_isolated_per_s makes them
 * back to back (bound by one park exit + restore + re-entry per call). */
static void bench_hot_pool(glint_image *img, int iters)
{
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 1;
    pc.hot = 1;
    glint_pool *pool;
    int rc = glint_pool_create(img, NULL, &pc, &pool);
    if (rc)
        die_glint("hot pool", rc);
    double t0 = now_us();
    while (glint_pool_hot(pool) == 0 && now_us() - t0 < 5e6)
        ;
    if (glint_pool_hot(pool) == 0) {
        printf("hot_isolated_*: skipped, no hot sandbox admitted\n");
        glint_pool_destroy(pool);
        return;
    }
    glint_value a = glint_string("hello"), out;
    glint_failure f;
    struct row *wait =
        row_new("hot_isolated_wait", "glint hot pool: isolated Echo, a restored sandbox ready");
    if (floors.warm_echo)
        row_floor(wait, floors.warm_echo, 1, 0, "warm_call");
    for (int i = 0; i < iters / 4 + 10; i++) {
        double spaced = now_us();
        while (now_us() - spaced < 120) /* the restore runs meanwhile; keep this CPU busy */
            _mm_pause();
        double s = now_us();
        if ((rc = glint_pool_call(pool, "Echo", &a, 1, &out, &f)))
            die(f.message);
        if (i >= 10)
            row_add(wait, now_us() - s);
    }
    int n = 0;
    double start = now_us();
    while (now_us() - start < 500000) {
        if ((rc = glint_pool_call(pool, "Echo", &a, 1, &out, &f)))
            die(f.message);
        n++;
    }
    double per_s = n / ((now_us() - start) / 1e6);
    struct row *rate = row_value("hot_isolated_per_s",
                                 "glint hot pool: back-to-back isolated calls/s, one vCPU thread",
                                 per_s, "calls/s");
    if (floors.roundtrip) {
        struct row *ceiling =
            row_value("raw_exit_roundtrips_per_s", "1e6 / raw_exit_roundtrip median",
                      1e6 / row_median(floors.roundtrip), "calls/s");
        ceiling->is_floor = 1;
        row_floor(rate, ceiling, 1, 0, "1e6/raw_exit_roundtrip");
    }
    glint_pool_destroy(pool);
}

void bench_hot(const char *guest, int iters)
{
    struct row *ping = bench_pingpong(iters);
    ping->is_floor = 1;
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.timeout_ms = 0;
    glint_image *img;
    int rc = glint_image_load_file(guest, &cfg, NULL, &img);
    if (rc)
        die_glint(guest, rc);

    glint_sandbox *sb = hot_sandbox(img, 200);
    struct row *call = row_new("hot_call", "glint hot: Echo(\"hello\"), guest spinning");
    row_floor(call, ping, 1, 0, "thread_pingpong");
    echo_batches(call, sb, "hello", 5, iters / BATCH);
    static char big[4097];
    memset(big, 'x', 4096);
    struct row *call4k = row_new("hot_call_4k", "glint hot: Echo of 4 KiB (4 KiB copied out)");
    row_floor(call4k, ping, 1, 0, "thread_pingpong");
    echo_batches(call4k, sb, big, 4096, iters / BATCH);
    glint_sandbox_destroy(sb);

    /* max_spin_us 0: the guest parks after every call; a pause between calls lets the vCPU
     * thread fall asleep, so each call wakes it. */
    sb = hot_sandbox(img, 0);
    struct row *parked =
        row_new("hot_parked_call", "glint hot: Echo(\"hello\") that finds the guest parked");
    if (floors.warm_echo)
        row_floor(parked, floors.warm_echo, 1, 0, "warm_call");
    glint_value a = glint_string("hello"), out;
    for (int i = 0; i < iters / 4 + 10; i++) {
        struct timespec pause_ts = {0, 300000};
        nanosleep(&pause_ts, NULL);
        double t0 = now_us();
        if ((rc = glint_sandbox_call(sb, "Echo", &a, 1, &out)))
            die_glint("parked Echo", rc);
        if (i >= 10)
            row_add(parked, now_us() - t0);
    }
    glint_hot_status st;
    glint_sandbox_hot_status(sb, &st);
    printf("hot_parked_call: %llu calls, %llu woke a parked guest\n", (unsigned long long)st.calls,
           (unsigned long long)st.wakes);
    glint_sandbox_destroy(sb);
    bench_hot_pool(img, iters);
    glint_image_destroy(img);
}
