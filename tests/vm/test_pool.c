/* VM tests for sandbox pools: pristine guests per call, failures, concurrency, exhaustion, leaks.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

TestSuite(vm_pool, .timeout = 60);

static glint_pool *make_pool(glint_image *img, const glint_host_fns *fns, uint32_t size,
                             uint32_t wait_ms)
{
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = size;
    pc.wait_ms = wait_ms;
    glint_pool *pool = NULL;
    int rc = glint_pool_create(img, fns, &pc, &pool);
    cr_assert_eq(rc, 0, "glint_pool_create: %s (%s)", glint_strerror(rc), glint_errmsg());
    cr_assert_not_null(pool);
    return pool;
}

/* Wait until the pool has `n` ready sandboxes; returns the milliseconds it took. */
static double wait_ready(glint_pool *pool, size_t n, double limit_ms)
{
    double t0 = vm_now_ms();
    while (glint_pool_ready(pool) < n) {
        cr_assert(vm_now_ms() - t0 < limit_ms,
                  "pool has %zu ready sandboxes after %.0f ms, want %zu", glint_pool_ready(pool),
                  limit_ms, n);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return vm_now_ms() - t0;
}

static void sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static uint64_t pool_calls(glint_pool *pool)
{
    glint_value r;
    glint_failure f;
    int rc = glint_pool_call(pool, "Calls", NULL, 0, &r, &f);
    cr_assert_eq(rc, 0, "Calls: %s (%s)", glint_strerror(rc), glint_errmsg());
    cr_assert_eq(f.kind, GLINT_FAIL_NONE, "failure kind %s on success",
                 glint_failure_kind_name(f.kind));
    cr_assert_eq(f.error, 0);
    cr_assert_eq(r.type, GLINT_U64);
    return r.as.u64;
}

/* ---- every call sees a pristine guest ------------------------------------------------ */

Test(vm_pool, every_call_sees_a_pristine_guest)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_pool *pool = make_pool(img, NULL, 2, 1000);
    for (int i = 0; i < 200; i++) {
        uint64_t n = pool_calls(pool);
        cr_assert_eq(n, 1, "call %d: Calls() = %lu: state survived from an earlier call", i,
                     (unsigned long)n);
    }
    glint_value s = glint_string("alice's password"), r;
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(glint_pool_call(pool, "StoreSecret", &s, 1, NULL, NULL), 0, "%s",
                     glint_errmsg());
        cr_assert_eq(glint_pool_call(pool, "LoadSecret", NULL, 0, &r, NULL), 0, "%s",
                     glint_errmsg());
        cr_assert_eq(r.type, GLINT_STRING);
        cr_assert_eq(r.as.str.len, 0);
        cr_assert_str_eq(r.as.str.ptr, "", "call %d saw the previous call's secret", i);
    }
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* ---- failures are reported and the sandbox comes back -------------------------------- */

Test(vm_pool, fault_and_timeout_reported_then_pool_recovers)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.timeout_ms = 50;
    glint_image *img = vm_load_test("isolation", &cfg, NULL);
    glint_pool *pool = make_pool(img, NULL, 1, 2000); /* one sandbox, reused every time */
    glint_failure f;
    for (int round = 0; round < 3; round++) {
        glint_value seed = glint_u64(7 + (uint64_t)round);
        int rc = glint_pool_call(pool, "ScribbleThenFault", &seed, 1, NULL, &f);
        cr_assert_eq(rc, GLINT_EFAULT, "ScribbleThenFault: %s (%s)", glint_strerror(rc),
                     glint_errmsg());
        cr_assert_eq(f.error, GLINT_EFAULT);
        cr_assert_eq(f.kind, GLINT_FAIL_FAULT, "kind %s", glint_failure_kind_name(f.kind));
        cr_assert_eq(f.vector, 6, "vector %u (%s), want #UD", f.vector,
                     glint_vector_name(f.vector));
        cr_assert(vm_contains(glint_errmsg(), "#UD"), "errmsg after restore: '%s'", glint_errmsg());
        cr_assert_eq(pool_calls(pool), 1, "the faulted guest's state survived");

        double t0 = vm_now_ms();
        rc = glint_pool_call(pool, "Spin", NULL, 0, NULL, &f);
        double ms = vm_now_ms() - t0;
        cr_assert_eq(rc, GLINT_ETIMEDOUT, "Spin: %s (%s)", glint_strerror(rc), glint_errmsg());
        cr_assert_eq(f.error, GLINT_ETIMEDOUT);
        cr_assert_eq(f.kind, GLINT_FAIL_TIMEOUT, "kind %s", glint_failure_kind_name(f.kind));
        cr_assert(ms >= 45 && ms < 1000, "timeout after %.1f ms, want ~50", ms);
        cr_assert_eq(pool_calls(pool), 1, "the timed-out guest's state survived");

        /* Usage errors: the sandbox is not even touched. */
        rc = glint_pool_call(pool, "NoSuchFunction", NULL, 0, NULL, &f);
        cr_assert_eq(rc, GLINT_ENOFUNC, "%s", glint_strerror(rc));
        cr_assert_eq(f.error, GLINT_ENOFUNC);
        cr_assert_eq(f.kind, GLINT_FAIL_USAGE);
        glint_value wrong = glint_string("not a u64");
        rc = glint_pool_call(pool, "ScribbleAll", &wrong, 1, NULL, &f);
        cr_assert_eq(rc, GLINT_ESIG, "%s", glint_strerror(rc));
        cr_assert_eq(f.error, GLINT_ESIG);
        cr_assert_eq(f.kind, GLINT_FAIL_USAGE);
        cr_assert_eq(pool_calls(pool), 1);
    }
    /* The failures were restored in place, not replaced: still exactly one sandbox. */
    cr_assert_eq(glint_pool_ready(pool), 1);
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

Test(vm_pool, guest_error_reported_then_pool_recovers)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("types", NULL, NULL);
    glint_pool *pool = make_pool(img, NULL, 1, 2000);
    glint_failure f;
    glint_value r;
    for (int i = 0; i < 5; i++) {
        glint_value code = glint_i32(42 + i);
        int rc = glint_pool_call(pool, "ReturnError", &code, 1, &r, &f);
        cr_assert_eq(rc, GLINT_EGUEST, "%s (%s)", glint_strerror(rc), glint_errmsg());
        cr_assert_eq(f.error, GLINT_EGUEST);
        cr_assert_eq(f.kind, GLINT_FAIL_GUEST_ERROR, "kind %s", glint_failure_kind_name(f.kind));
        cr_assert_eq(f.guest_code, 42 + i);
        cr_assert(vm_contains(f.message, "requested error"), "message '%s'", f.message);
        cr_assert(vm_contains(glint_errmsg(), "requested error"), "errmsg '%s'", glint_errmsg());
        /* Counter() is 1 in a pristine sandbox. */
        rc = glint_pool_call(pool, "Counter", NULL, 0, &r, &f);
        cr_assert_eq(rc, 0, "%s", glint_errmsg());
        cr_assert_eq(f.kind, GLINT_FAIL_NONE);
        cr_assert_eq(r.as.i64, 1);
    }
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* The failure out-param describes every failed call, including calls rejected before the guest
 * runs: failure.error is the returned code and the kind is "usage". */
Test(vm_pool, every_failed_call_is_described_in_failure)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_pool *pool = make_pool(img, NULL, 1, 1000);
    glint_failure f;
    memset(&f, 0x55, sizeof f);
    int rc = glint_pool_call(pool, NULL, NULL, 0, NULL, &f);
    cr_assert_eq(rc, GLINT_EINVAL);
    cr_expect_eq(f.error, GLINT_EINVAL, "NULL name: failure.error %d for a call that returned %d",
                 f.error, rc);
    cr_expect_eq(f.kind, GLINT_FAIL_USAGE, "NULL name: failure.kind '%s'",
                 glint_failure_kind_name(f.kind));
    cr_assert_eq(glint_pool_call(NULL, "Nop", NULL, 0, NULL, NULL), GLINT_EINVAL);

    /* Arguments NULL with nargs 1: glint_sandbox_call() rejects it without recording a failure
     * in the sandbox, so the pool copies the sandbox's stale (empty) failure. */
    memset(&f, 0x55, sizeof f);
    rc = glint_pool_call(pool, "ScribbleAll", NULL, 1, NULL, &f);
    cr_assert_eq(rc, GLINT_EINVAL, "%s", glint_strerror(rc));
    cr_expect_eq(f.error, GLINT_EINVAL,
                 "NULL args: failure.error %d (kind '%s') for a call that returned %d", f.error,
                 glint_failure_kind_name(f.kind), rc);
    cr_expect_eq(f.kind, GLINT_FAIL_USAGE, "NULL args: failure.kind '%s'",
                 glint_failure_kind_name(f.kind));

    cr_assert_eq(glint_pool_call(pool, "Nop", NULL, 0, NULL, &f), 0);
    cr_assert_eq(f.kind, GLINT_FAIL_NONE);
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* ---- concurrency ------------------------------------------------------------------ */

struct worker {
    glint_pool *pool;
    int id, iters;
    int ok, bad, faults;
    int first_rc;
    char first_msg[300];
};

static void worker_fail(struct worker *w, int rc, const char *what, unsigned long got)
{
    if (w->bad++ == 0) {
        w->first_rc = rc;
        snprintf(w->first_msg, sizeof w->first_msg, "thread %d: %s: rc %d (%s), value %lu: %s",
                 w->id, what, rc, glint_strerror(rc), got, glint_errmsg());
    }
}

/* Calls (== 1), DirtyPages (== n) and now and then a fault: no call may see another's state. */
static void *mixed_worker(void *arg)
{
    struct worker *w = arg;
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(w->id + 1);
    for (int i = 0; i < w->iters; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        glint_value r;
        glint_failure f;
        int rc;
        if (i % 97 == 96) {
            glint_value seed = glint_u64(x);
            rc = glint_pool_call(w->pool, "ScribbleThenFault", &seed, 1, NULL, &f);
            if (rc == GLINT_EFAULT && f.kind == GLINT_FAIL_FAULT)
                w->faults++;
            else
                worker_fail(w, rc, "ScribbleThenFault", f.kind);
        } else if (i % 2) {
            uint32_t n = 1 + (uint32_t)(x % 16);
            glint_value a[2] = {glint_u32(n), glint_u64(x)};
            rc = glint_pool_call(w->pool, "DirtyPages", a, 2, &r, &f);
            if (rc == 0 && r.type == GLINT_U32 && r.as.u32 == n && f.kind == GLINT_FAIL_NONE)
                w->ok++;
            else
                worker_fail(w, rc, "DirtyPages", rc ? f.kind : r.as.u32);
        } else {
            rc = glint_pool_call(w->pool, "Calls", NULL, 0, &r, &f);
            if (rc == 0 && r.type == GLINT_U64 && r.as.u64 == 1 && f.kind == GLINT_FAIL_NONE)
                w->ok++;
            else
                worker_fail(w, rc, "Calls", rc ? f.kind : r.as.u64);
        }
    }
    return NULL;
}

Test(vm_pool, eight_threads_share_four_sandboxes)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_pool *pool = make_pool(img, NULL, 4, 10000);
    wait_ready(pool, 4, 5000);
    enum { THREADS = 8, ITERS = 2000 };
    struct worker w[THREADS];
    pthread_t t[THREADS];
    double t0 = vm_now_ms();
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.pool = pool, .id = i, .iters = ITERS};
        cr_assert_eq(pthread_create(&t[i], NULL, mixed_worker, &w[i]), 0);
    }
    int ok = 0, faults = 0, bad = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
        faults += w[i].faults;
        bad += w[i].bad;
    }
    double ms = vm_now_ms() - t0;
    fprintf(stderr,
            "vm_pool: %d threads x %d calls on 4 sandboxes: %d ok, %d faults (expected), "
            "%d wrong in %.0f ms (%.0f calls/s)\n",
            THREADS, ITERS, ok, faults, bad, ms, THREADS * ITERS / (ms / 1000));
    for (int i = 0; i < THREADS; i++)
        cr_expect_eq(w[i].bad, 0, "%s", w[i].first_msg);
    cr_assert_eq(bad, 0);
    cr_assert_eq(ok + faults, THREADS * ITERS);
    cr_assert_eq(faults, THREADS * (ITERS / 97));
    /* Every sandbox came back. */
    wait_ready(pool, 4, 5000);
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* ---- exhaustion: all sandboxes busy ---------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int entered; /* calls of Block so far */
    bool release;
} blk = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false};

/* Block(i64 a, i64 b) -> i64: wait until the test releases it, then a + b. */
static int host_block(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    pthread_mutex_lock(&blk.lock);
    blk.entered++;
    pthread_cond_broadcast(&blk.cond);
    while (!blk.release)
        pthread_cond_wait(&blk.cond, &blk.lock);
    pthread_mutex_unlock(&blk.lock);
    ret->as.i64 = args[0].as.i64 + args[1].as.i64;
    return 0;
}

static glint_host_fns *block_fns(void)
{
    glint_host_fns *fns = vm_host_fns_one("Block", host_block, NULL);
    cr_assert_eq(glint_host_fns_set_print(fns, NULL, NULL), 0);
    return fns;
}

struct pool_call {
    glint_pool *pool;
    const char *name;
    glint_value args[3];
    size_t nargs;
    int rc;
    glint_value ret;
    glint_failure failure;
    double ms, t_end; /* duration; when it returned (vm_now_ms) */
};

static void *pool_call_thread(void *arg)
{
    struct pool_call *c = arg;
    double t0 = vm_now_ms();
    c->rc = glint_pool_call(c->pool, c->name, c->args, c->nargs, &c->ret, &c->failure);
    c->t_end = vm_now_ms();
    c->ms = c->t_end - t0;
    return NULL;
}

static void wait_entered(int n)
{
    double t0 = vm_now_ms();
    pthread_mutex_lock(&blk.lock);
    while (blk.entered < n) {
        pthread_mutex_unlock(&blk.lock);
        cr_assert(vm_now_ms() - t0 < 5000, "Block was never called");
        sleep_ms(1);
        pthread_mutex_lock(&blk.lock);
    }
    pthread_mutex_unlock(&blk.lock);
}

static void release_blocked(void)
{
    pthread_mutex_lock(&blk.lock);
    blk.release = true;
    pthread_cond_broadcast(&blk.cond);
    pthread_mutex_unlock(&blk.lock);
}

static void start_blocking_call(struct pool_call *c, glint_pool *pool, pthread_t *t)
{
    *c = (struct pool_call){.pool = pool, .name = "CallHost", .nargs = 3};
    c->args[0] = glint_string("Block");
    c->args[1] = glint_i64(40);
    c->args[2] = glint_i64(2);
    cr_assert_eq(pthread_create(t, NULL, pool_call_thread, c), 0);
}

Test(vm_pool, busy_pool_fails_with_ebusy_after_wait_ms)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.timeout_ms = 10000;
    glint_host_fns *fns = block_fns();
    glint_image *img = vm_load_test("types", &cfg, fns);
    glint_pool *pool = make_pool(img, NULL, 1, 50);
    blk.entered = 0;
    blk.release = false;

    struct pool_call holder;
    pthread_t th;
    start_blocking_call(&holder, pool, &th);
    wait_entered(1);
    cr_assert_eq(glint_pool_ready(pool), 0);

    for (int i = 0; i < 3; i++) {
        glint_value a = glint_i64(5), r;
        glint_failure f;
        double t0 = vm_now_ms();
        int rc = glint_pool_call(pool, "EchoI64", &a, 1, &r, &f);
        double ms = vm_now_ms() - t0;
        cr_assert_eq(rc, GLINT_EBUSY, "second call while the only sandbox is busy: %s (%s)",
                     glint_strerror(rc), glint_errmsg());
        cr_assert_eq(f.error, GLINT_EBUSY);
        cr_assert_eq(f.kind, GLINT_FAIL_USAGE, "kind %s", glint_failure_kind_name(f.kind));
        cr_assert(ms >= 49 && ms < 1000, "EBUSY after %.1f ms, want ~50", ms);
        if (i == 0)
            fprintf(stderr, "vm_pool: EBUSY after %.1f ms (wait_ms 50)\n", ms);
    }

    release_blocked();
    pthread_join(th, NULL);
    cr_assert_eq(holder.rc, 0, "blocked call: %s", glint_strerror(holder.rc));
    cr_assert_eq(holder.ret.as.i64, 42);
    glint_value a = glint_i64(5), r;
    cr_assert_eq(glint_pool_call(pool, "EchoI64", &a, 1, &r, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.i64, 5);
    glint_pool_destroy(pool);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

/* Worker mode: with one worker busy in a long call, a second caller must not wait for that
 * worker beyond wait_ms although sandboxes are idle; it fails with GLINT_EBUSY. (Before the fix
 * it waited for the busy worker: until the long call ended, forever with guest timeout 0.) */
Test(vm_pool, busy_worker_fails_with_ebusy_after_wait_ms, .timeout = 30)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.timeout_ms = 10000;
    glint_host_fns *fns = block_fns();
    glint_image *img = vm_load_test("types", &cfg, fns);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 2;
    pc.wait_ms = 100;
    pc.workers = 1;
    pc.confine = false;
    glint_pool *pool = NULL;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    wait_ready(pool, 2, 5000);
    blk.entered = 0;
    blk.release = false;
    struct pool_call holder;
    pthread_t th;
    start_blocking_call(&holder, pool, &th);
    wait_entered(1);
    cr_assert_eq(glint_pool_ready(pool), 1, "an idle sandbox is left");

    /* Both outcomes end the wait: EBUSY here, or the release after 5 s (the unfixed wait). */
    for (int i = 0; i < 3; i++) {
        glint_value a = glint_i64(5), r;
        glint_failure f;
        struct pool_call waiter = {.pool = pool, .name = "EchoI64", .nargs = 1};
        waiter.args[0] = a;
        pthread_t tw;
        cr_assert_eq(pthread_create(&tw, NULL, pool_call_thread, &waiter), 0);
        double t0 = vm_now_ms();
        while (pthread_tryjoin_np(tw, NULL) != 0) {
            if (vm_now_ms() - t0 > 5000) {
                release_blocked();
                pthread_join(tw, NULL);
                break;
            }
            sleep_ms(5);
        }
        (void)r;
        f = waiter.failure;
        cr_assert_eq(waiter.rc, GLINT_EBUSY,
                     "caller with wait_ms 100 while the only worker is busy: %s after %.0f ms (%s)",
                     glint_strerror(waiter.rc), waiter.ms, f.message);
        cr_assert(waiter.ms < 1000, "EBUSY only after %.0f ms (wait_ms 100)", waiter.ms);
        cr_assert_eq(f.error, GLINT_EBUSY);
        cr_assert_eq(f.kind, GLINT_FAIL_USAGE, "kind %s", glint_failure_kind_name(f.kind));
        cr_assert(vm_contains(f.message, "100 ms"), "message '%s'", f.message);
        if (i == 0)
            fprintf(stderr, "vm_pool: worker mode: EBUSY after %.1f ms (wait_ms 100): %s\n",
                    waiter.ms, f.message);
    }
    release_blocked();
    pthread_join(th, NULL);
    cr_assert_eq(holder.rc, 0, "blocked call: %s", holder.failure.message);
    cr_assert_eq(holder.ret.as.i64, 42);
    /* The removed requests left nothing behind: the pool works as before. */
    for (int i = 0; i < 5; i++) {
        glint_value a = glint_i64(i), r;
        cr_assert_eq(glint_pool_call(pool, "EchoI64", &a, 1, &r, NULL), 0, "%s", glint_errmsg());
        cr_assert_eq(r.as.i64, i);
    }
    glint_pool_destroy(pool);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

/* ---- a host function calling its own pool ------------------------------------------------ */

struct recurse {
    glint_pool *target; /* the pool the host function calls */
    const char *name;   /* and the guest function (CallHost: a chain of pools) */
    const char *host;   /* CallHost's host function */
    int rc;
    double ms;
    char msg[300];
};

/* Recurse(i64, i64) -> i64: glint_pool_call(target, ...) from inside a pooled call. */
static int host_recurse(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)nargs;
    struct recurse *c = user;
    glint_value a[3] = {glint_string(c->host ? c->host : ""), args[0], args[1]}, r;
    bool chain = c->host != NULL;
    glint_failure f;
    double t0 = vm_now_ms();
    int rc = glint_pool_call(c->target, chain ? "CallHost" : "EchoI64", chain ? a : &args[0],
                             chain ? 3 : 1, &r, &f);
    c->ms = vm_now_ms() - t0;
    c->rc = rc;
    snprintf(c->msg, sizeof c->msg, "%s", rc ? glint_errmsg() : "");
    ret->as.i64 = rc == 0 ? r.as.i64 : rc;
    return 0;
}

static glint_pool *recurse_pool(glint_image *img, const char *fn, struct recurse *c,
                                uint32_t workers)
{
    glint_host_fns *fns = vm_host_fns_one(fn, host_recurse, c);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 2; /* a second sandbox is idle: only the recursion itself is refused */
    pc.wait_ms = 3000;
    pc.workers = workers;
    pc.confine = false;
    glint_pool *pool = NULL;
    cr_assert_eq(glint_pool_create(img, fns, &pc, &pool), 0, "%s", glint_errmsg());
    glint_host_fns_destroy(fns);
    wait_ready(pool, 2, 5000);
    return pool;
}

static void expect_refused(const struct recurse *c, const char *what)
{
    cr_assert_eq(c->rc, GLINT_EBUSY, "%s: inner glint_pool_call returned %s after %.0f ms (%s)",
                 what, glint_strerror(c->rc), c->ms, c->msg);
    cr_assert(c->ms < 1000, "%s: refused only after %.0f ms (wait_ms 3000)", what, c->ms);
    cr_assert(vm_contains(c->msg, "inside"), "%s: message '%s'", what, c->msg);
}

static void recurse_once(glint_pool *pool, const char *host, const char *what)
{
    glint_value a[3] = {glint_string(host), glint_i64(1), glint_i64(2)}, r;
    vm_watchdog_start(10000, what);
    int rc = glint_pool_call(pool, "CallHost", a, 3, &r, NULL);
    vm_watchdog_stop();
    cr_assert_eq(rc, 0, "%s: outer call: %s", what, glint_errmsg());
    cr_assert_eq(r.as.i64, GLINT_EBUSY, "%s: the host function saw %ld", what, (long)r.as.i64);
}

Test(vm_pool, host_function_calling_its_own_pool_is_refused, .timeout = 60)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("types", NULL, NULL);
    for (uint32_t workers = 0; workers <= 1; workers++) {
        struct recurse c = {.rc = 1};
        glint_pool *pool = recurse_pool(img, "Recurse", &c, workers);
        c.target = pool;
        const char *what = workers ? "worker mode" : "caller-thread mode";
        recurse_once(pool, "Recurse", what);
        expect_refused(&c, what);
        /* Outside a call, the same thread may call the pool again. */
        glint_value a = glint_i64(7), r;
        cr_assert_eq(glint_pool_call(pool, "EchoI64", &a, 1, &r, NULL), 0, "%s", glint_errmsg());
        cr_assert_eq(r.as.i64, 7);
        glint_pool_destroy(pool);
    }
    glint_image_destroy(img);
}

/* P1 -> host fn -> P2 -> host fn -> P1, for each mix of modes. */
Test(vm_pool, chain_of_pools_back_to_the_first_is_refused, .timeout = 60)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("types", NULL, NULL);
    for (uint32_t mode = 0; mode < 4; mode++) {
        struct recurse to2 = {.rc = 1, .host = "ToP1"}, to1 = {.rc = 1};
        glint_pool *p1 = recurse_pool(img, "ToP2", &to2, mode & 1);
        glint_pool *p2 = recurse_pool(img, "ToP1", &to1, mode >> 1);
        to2.target = p2;
        to1.target = p1;
        char what[80];
        snprintf(what, sizeof what, "P1 %s, P2 %s", mode & 1 ? "workers" : "caller-thread",
                 mode >> 1 ? "workers" : "caller-thread");
        recurse_once(p1, "ToP2", what);
        expect_refused(&to1, what);
        glint_pool_destroy(p2);
        glint_pool_destroy(p1);
    }
    glint_image_destroy(img);
}

Test(vm_pool, waiting_caller_gets_the_returned_sandbox)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.timeout_ms = 10000;
    glint_host_fns *fns = block_fns();
    glint_image *img = vm_load_test("types", &cfg, NULL);
    /* The pool's own registry replaces the image's. */
    glint_pool *pool = make_pool(img, fns, 1, 5000);
    glint_host_fns_destroy(fns); /* copied */
    blk.entered = 0;
    blk.release = false;

    struct pool_call holder, waiter = {.pool = pool, .name = "EchoI64", .nargs = 1};
    waiter.args[0] = glint_i64(-9);
    pthread_t th, tw;
    start_blocking_call(&holder, pool, &th);
    wait_entered(1);
    cr_assert_eq(pthread_create(&tw, NULL, pool_call_thread, &waiter), 0);
    sleep_ms(150);
    double t_release = vm_now_ms();
    release_blocked();
    pthread_join(th, NULL);
    pthread_join(tw, NULL);
    cr_assert_eq(holder.rc, 0, "%s", holder.failure.message);
    cr_assert_eq(holder.ret.as.i64, 42);
    cr_assert_eq(waiter.rc, 0, "waiter: %s (%s)", glint_strerror(waiter.rc),
                 waiter.failure.message);
    cr_assert_eq(waiter.ret.as.i64, -9);
    /* (Not waiter.ms >= 150: the waiter's thread may start late and measure from then.) */
    cr_assert(waiter.t_end >= t_release, "waiter finished %.1f ms before the sandbox was free",
              t_release - waiter.t_end);
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* ---- result lifetime ---------------------------------------------------------------- */

struct echo_worker {
    glint_pool *pool;
    int id, iters, bad;
    char msg[200];
};

static void *echo_worker(void *arg)
{
    struct echo_worker *w = arg;
    char want[64];
    for (int i = 0; i < w->iters; i++) {
        int n = snprintf(want, sizeof want, "thread %d call %d", w->id, i);
        glint_value a = glint_string(want), r;
        int rc = glint_pool_call(w->pool, "EchoString", &a, 1, &r, NULL);
        if (rc != 0 || r.type != GLINT_STRING || r.as.str.len != (size_t)n ||
            memcmp(r.as.str.ptr, want, (size_t)n) != 0 || r.as.str.ptr[n] != 0) {
            if (w->bad++ == 0)
                snprintf(w->msg, sizeof w->msg, "thread %d call %d: rc %d: '%.*s' != '%s'", w->id,
                         i, rc, rc ? 0 : (int)r.as.str.len, rc ? "" : r.as.str.ptr, want);
        }
        /* The result must survive a call by another thread: yield to one now and then. */
        if (i % 64 == 0)
            sched_yield();
    }
    return NULL;
}

Test(vm_pool, string_result_valid_until_the_threads_next_call)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("types", NULL, NULL);
    glint_pool *pool = make_pool(img, NULL, 2, 5000);
    static const char mine[] = "held by the main thread across other threads' calls";
    glint_value a = glint_string(mine), r;
    cr_assert_eq(glint_pool_call(pool, "EchoString", &a, 1, &r, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(r.type, GLINT_STRING);
    const char *held = r.as.str.ptr;
    size_t held_len = r.as.str.len;
    cr_assert(held != mine, "the result must be a copy");

    enum { THREADS = 4, ITERS = 1500 };
    struct echo_worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct echo_worker){.pool = pool, .id = i, .iters = ITERS};
        cr_assert_eq(pthread_create(&t[i], NULL, echo_worker, &w[i]), 0);
    }
    /* Meanwhile the held result is checked over and over. */
    bool joined[THREADS] = {false};
    int checks = 0, left = THREADS;
    while (left > 0) {
        cr_assert_eq(held_len, sizeof mine - 1);
        cr_assert_eq(memcmp(held, mine, sizeof mine), 0, "held result changed to '%.*s'",
                     (int)held_len, held);
        checks++;
        for (int i = 0; i < THREADS; i++) {
            if (!joined[i] && pthread_tryjoin_np(t[i], NULL) == 0) {
                joined[i] = true;
                left--;
            }
        }
        if (left > 0)
            sleep_ms(1);
    }
    fprintf(stderr, "vm_pool: held result checked %d times during %d other calls\n", checks,
            THREADS * ITERS);
    for (int i = 0; i < THREADS; i++)
        cr_expect_eq(w[i].bad, 0, "%s", w[i].msg);
    cr_assert_str_eq(held, mine);

    /* Bytes too; and a bigger result than before (the thread's buffer grows). */
    glint_value n = glint_u32(10000);
    cr_assert_eq(glint_pool_call(pool, "MakeBytes", &n, 1, &r, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(r.type, GLINT_BYTES);
    cr_assert_eq(r.as.bytes.len, 10000);
    const uint8_t *b = r.as.bytes.ptr;
    for (uint32_t i = 0; i < 10000; i++)
        cr_assert_eq(b[i], (uint8_t)i, "byte %u", i);
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* ---- configuration ---------------------------------------------------------------- */

Test(vm_pool, config_validation_and_ready_count)
{
    vm_require_kvm();
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    cr_assert_eq(pc.struct_size, sizeof pc);
    cr_assert_eq(pc.size, 4);
    cr_assert_eq(pc.wait_ms, 1000);

    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_pool *pool = NULL;
    static const uint32_t bad_sizes[] = {0, 4097, 5000, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        glint_pool_config_init(&pc);
        pc.size = bad_sizes[i];
        int rc = glint_pool_create(img, NULL, &pc, &pool);
        cr_assert_eq(rc, GLINT_EINVAL, "size %u: %s", bad_sizes[i], glint_strerror(rc));
        cr_assert(vm_contains(glint_errmsg(), "size"), "errmsg '%s'", glint_errmsg());
    }
    glint_pool_config_init(&pc);
    pc.struct_size = 0;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), GLINT_EINVAL);
    glint_pool_config_init(&pc);
    pc.struct_size = sizeof pc - 1;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), GLINT_EINVAL);
    cr_assert_eq(glint_pool_create(NULL, NULL, NULL, &pool), GLINT_EINVAL);
    glint_pool_config_init(&pc);
    cr_assert_eq(glint_pool_create(img, NULL, &pc, NULL), GLINT_EINVAL);
    glint_pool_destroy(NULL);
    cr_assert_eq(glint_pool_ready(NULL), 0);

    /* Defaults (cfg NULL): 4 sandboxes. At least one is ready on return; the rest follow. */
    pool = NULL;
    cr_assert_eq(glint_pool_create(img, NULL, NULL, &pool), 0, "%s", glint_errmsg());
    cr_assert_geq(glint_pool_ready(pool), 1);
    double ms = wait_ready(pool, 4, 5000);
    fprintf(stderr, "vm_pool: default pool had 4 ready sandboxes %.1f ms after create\n", ms);
    cr_assert_eq(pool_calls(pool), 1);
    glint_pool_destroy(pool);

    pc.size = 12;
    pool = NULL;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    ms = wait_ready(pool, 12, 5000);
    fprintf(stderr, "vm_pool: 12-sandbox pool ready %.1f ms after create\n", ms);
    sleep_ms(20);
    cr_assert_eq(glint_pool_ready(pool), 12, "the pool grew past its size");
    glint_pool_destroy(pool);

    /* The pool holds its own image reference. */
    pool = NULL;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    glint_image_destroy(img);
    cr_assert_eq(pool_calls(pool), 1);
    glint_pool_destroy(pool);
}

/* ---- no fd or memory growth ---------------------------------------------------------- */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    cr_assert_not_null(f);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    cr_assert(kib > 0, "no VmRSS in /proc/self/status");
    return kib;
}

/* 100000 calls take 3.5-4.5 s here (2 cores; ~5.5 s under TSan), so the full count is kept;
 * GLINT_TEST_SCALE=0.1 (0 < x <= 1) scales it down for slow machines. */
Test(vm_pool, no_fd_or_memory_growth, .timeout = 120)
{
    vm_require_kvm();
    const char *scale_env = getenv("GLINT_TEST_SCALE");
    double scale = scale_env ? atof(scale_env) : 1.0;
    if (scale <= 0 || scale > 1)
        scale = 1.0;
    const int calls = (int)(100000 * scale);
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    int fds0 = count_fds(); /* after the process-wide /dev/kvm fd is open */
    glint_pool *pool = make_pool(img, NULL, 2, 5000);
    wait_ready(pool, 2, 5000);
    int fds_pool = count_fds();
    for (int i = 0; i < 2000; i++)
        cr_assert_eq(glint_pool_call(pool, "Nop", NULL, 0, NULL, NULL), 0, "%s", glint_errmsg());
    int fds1 = count_fds();
    long rss1 = rss_kib();
    double t0 = vm_now_ms();
    for (int i = 0; i < calls; i++) {
        int rc = glint_pool_call(pool, "Nop", NULL, 0, NULL, NULL);
        if (rc != 0)
            cr_assert_fail("call %d: %s (%s)", i, glint_strerror(rc), glint_errmsg());
    }
    double ms = vm_now_ms() - t0;
    int fds2 = count_fds();
    long rss2 = rss_kib();
    glint_pool_destroy(pool);
    glint_image_destroy(img);
    int fds3 = count_fds();
    fprintf(stderr,
            "vm_pool: %d Nop pool calls in %.0f ms (%.0f calls/s, %.1f us/call); fds %d -> %d "
            "(pool of 2) -> %d -> %d, after destroy %d; VmRSS %ld -> %ld KiB (%+ld KiB)\n",
            calls, ms, calls / (ms / 1000), ms * 1000 / calls, fds0, fds_pool, fds1, fds2, fds3,
            rss1, rss2, rss2 - rss1);
    cr_assert_eq(fds2, fds1, "fds grew from %d to %d over %d calls", fds1, fds2, calls);
    cr_assert_lt(rss2 - rss1, 2048, "VmRSS grew by %ld KiB over %d calls", rss2 - rss1, calls);
    cr_assert_eq(fds3, fds0, "fds %d before the pool, %d after destroying it", fds0, fds3);
}
