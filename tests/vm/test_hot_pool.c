/* VM tests: hot pools: isolated calls through the mailbox, restored off the caller's path. */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "helpers.h"

static glint_image *img;
static glint_pool *pool;

static void setup(void)
{
    vm_require_kvm();
    img = vm_load_test("isolation", NULL, NULL);
}

static void teardown(void)
{
    vm_watchdog_stop();
    glint_pool_destroy(pool);
    pool = NULL;
    glint_image_destroy(img);
    img = NULL;
}

TestSuite(vm_hot_pool, .init = setup, .fini = teardown, .timeout = 60);

/* A pool of `size` with `hot` of them hot; skips loudly if admission gives none. */
static void make_hot_pool(uint32_t size, uint32_t hot)
{
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = size;
    pc.hot = hot;
    pc.wait_ms = 5000;
    int rc = glint_pool_create(img, NULL, &pc, &pool);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    double t0 = vm_now_ms();
    while (glint_pool_hot(pool) < hot && vm_now_ms() - t0 < 5000)
        ;
    if (glint_pool_hot(pool) == 0)
        cr_skip_test("no hot sandbox admitted here");
}

static uint64_t call_u64(const char *fn)
{
    glint_value r;
    glint_failure f;
    int rc = glint_pool_call(pool, fn, NULL, 0, &r, &f);
    cr_assert_eq(rc, 0, "%s: %s", fn, f.message);
    return r.as.u64;
}

/* glint_pool_calls counts each call once, by the mode of the sandbox that made it. */
Test(vm_hot_pool, calls_are_counted_by_mode)
{
    make_hot_pool(1, 1);
    for (int i = 0; i < 20; i++)
        call_u64("Calls");
    uint64_t hot = 0, exit_mode = 0;
    glint_pool_calls(pool, &hot, &exit_mode);
    cr_assert_eq(hot, 20, "hot calls %llu", (unsigned long long)hot);
    cr_assert_eq(exit_mode, 0);
    glint_pool_destroy(pool);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 1;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    for (int i = 0; i < 7; i++)
        call_u64("Calls");
    glint_pool_calls(pool, &hot, NULL);
    glint_pool_calls(pool, NULL, &exit_mode);
    cr_assert_eq(hot, 0);
    cr_assert_eq(exit_mode, 7);
    glint_pool_calls(NULL, &hot, &exit_mode);
    cr_assert_eq(hot + exit_mode, 0, "a NULL pool has made no calls");
}

Test(vm_hot_pool, every_call_sees_a_pristine_guest)
{
    make_hot_pool(1, 1);
    cr_assert_eq(glint_pool_hot(pool), 1u);
    for (int i = 0; i < 300; i++)
        cr_assert_eq(call_u64("Calls"), 1u, "call %d saw an earlier call's state", i);
    for (int i = 0; i < 50; i++) {
        glint_value s = glint_string("top secret"), r;
        glint_failure f;
        cr_assert_eq(glint_pool_call(pool, "StoreSecret", &s, 1, NULL, &f), 0, "%s", f.message);
        cr_assert_eq(glint_pool_call(pool, "LoadSecret", NULL, 0, &r, &f), 0, "%s", f.message);
        cr_assert_str_eq(r.as.str.ptr, "", "the secret survived into the next call");
    }
}

Test(vm_hot_pool, scribbling_calls_leave_nothing_behind)
{
    make_hot_pool(1, 1);
    for (int i = 0; i < 30; i++) {
        glint_value seed = glint_u64(0x5eed0000u + (uint64_t)i);
        glint_failure f;
        cr_assert_eq(glint_pool_call(pool, "ScribbleAll", &seed, 1, NULL, &f), 0, "%s", f.message);
        cr_assert_eq(call_u64("Calls"), 1u);
    }
}

Test(vm_hot_pool, failures_are_reported_and_the_pool_recovers)
{
    make_hot_pool(1, 1);
    glint_value msg = glint_string("nope"), r;
    glint_failure f;
    int rc = glint_pool_call(pool, "Fail", &msg, 1, NULL, &f);
    cr_assert_eq(rc, GLINT_EGUEST);
    cr_assert_eq(f.kind, GLINT_FAIL_GUEST_ERROR);
    cr_assert_eq(call_u64("Calls"), 1u);
    rc = glint_pool_call(pool, "Abort", &msg, 1, NULL, &f);
    cr_assert_eq(rc, GLINT_EABORT, "%s", f.message);
    cr_assert_eq(f.kind, GLINT_FAIL_ABORT);
    cr_assert_eq(call_u64("Calls"), 1u);
    rc = glint_pool_call(pool, "NoSuchFunction", NULL, 0, &r, &f);
    cr_assert_eq(rc, GLINT_ENOFUNC);
    cr_assert_eq(call_u64("Calls"), 1u);
    cr_assert_eq(glint_pool_hot(pool), 1u, "the sandbox stayed hot through its restores");
}

Test(vm_hot_pool, timeout_is_reported_and_the_pool_recovers)
{
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.timeout_ms = 50;
    glint_image_destroy(img);
    img = vm_load_test("isolation", &cfg, NULL);
    make_hot_pool(1, 1);
    glint_failure f;
    vm_watchdog_start(10000, "a hot pool call past its timeout");
    int rc = glint_pool_call(pool, "Spin", NULL, 0, NULL, &f);
    vm_watchdog_stop();
    cr_assert_eq(rc, GLINT_ETIMEDOUT, "%s", f.message);
    cr_assert_eq(f.kind, GLINT_FAIL_TIMEOUT);
    cr_assert_eq(call_u64("Calls"), 1u);
}

static void *caller(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        glint_value r;
        glint_failure f;
        int rc = glint_pool_call(pool, "Calls", NULL, 0, &r, &f);
        if (rc != 0 || r.as.u64 != 1)
            return (void *)1;
    }
    return NULL;
}

/* Hot and exit-mode sandboxes of one pool serve two threads; every call is pristine. */
Test(vm_hot_pool, mixed_pool_serves_threads, .timeout = 120)
{
    make_hot_pool(3, 1);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, caller, NULL);
    for (int i = 0; i < 2; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        cr_assert_null(bad, "a call failed or saw an earlier call's state");
    }
}

Test(vm_hot_pool, hot_count_is_checked)
{
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 2;
    pc.hot = 3;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "hot 3 is more than size 2"), "%s", glint_errmsg());
    pool = NULL;
}

/* A caller built before `hot` existed (struct_size without it) keeps working: no hot sandbox. */
Test(vm_hot_pool, config_from_before_hot_still_works)
{
    glint_pool_config pc;
    glint_pool_config_init_sized(&pc, offsetof(glint_pool_config, hot));
    pc.size = 1;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    cr_assert_eq(glint_pool_hot(pool), 0u);
    cr_assert_eq(call_u64("Calls"), 1u);
}
