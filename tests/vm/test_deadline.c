/* VM tests: per-call deadlines across consecutive calls, threads and nested calls. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static glint_image *img;
static glint_sandbox *sb;

static void setup(void)
{
    vm_require_kvm();
    img = vm_load_test("types", NULL, NULL);
    sb = vm_sandbox(img, NULL);
}

static void teardown(void)
{
    vm_watchdog_stop();
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    sb = NULL;
    img = NULL;
}

TestSuite(vm_deadline, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t loops_for(double ms)
{
    return (uint64_t)(vm_spin_loops_per_ms(sb) * ms);
}

/* A call that ends just before its deadline can take the deadline's signal after the guest's
 * last exit but before the timer is disarmed. That signal sets the vCPU's kick flag
 * (kvm_run.immediate_exit), which is only cleared when the next deadline is armed. If the next
 * call has no deadline (timeout 0), every KVM_RUN returns EINTR at once and
 * glint__sandbox_run() resumes forever: the call hangs at 100% CPU. */
Test(vm_deadline, no_stale_kick_after_near_deadline_call, .timeout = 30)
{
    const uint32_t deadline = 2;
    uint64_t n = loops_for(deadline);
    cr_assert(n > 0);
    int near = 0, timeouts = 0;
    double t0 = vm_now_ms();
    srand(1);
    while (vm_now_ms() - t0 < 4000) {
        glint_sandbox_set_timeout(sb, deadline);
        glint_value a = glint_u64(n * (uint64_t)(70 + rand() % 60) / 100), r;
        int rc = glint_sandbox_call(sb, "SpinLoops", &a, 1, &r);
        if (rc == GLINT_ETIMEDOUT) {
            timeouts++;
            glint_sandbox_destroy(sb);
            sb = vm_sandbox(img, NULL);
            continue;
        }
        cr_assert_eq(rc, 0, "%s", glint_errmsg());
        near++;
        glint_sandbox_set_timeout(sb, 0);
        vm_watchdog_start(3000, "a call without deadline after a call that ended near its "
                                "deadline (stale kvm_run.immediate_exit)");
        rc = glint_sandbox_call(sb, "Counter", NULL, 0, &r);
        vm_watchdog_stop();
        cr_assert_eq(rc, 0, "%s", glint_errmsg());
    }
    cr_log_info("%d calls finished near the deadline, %d timed out", near, timeouts);
}

/* The deadline belongs to the thread that makes the call, not the one that made the sandbox. */
static void *spin_in_thread(void *arg)
{
    glint_sandbox *s = arg;
    static int rc;
    glint_sandbox_set_timeout(s, 100);
    rc = glint_sandbox_call(s, "SpinLoops", &(glint_value){.type = GLINT_U64, .as.u64 = ~0ull}, 1,
                            NULL);
    return &rc;
}

Test(vm_deadline, deadline_in_another_thread)
{
    /* First arm the deadline on this thread, then use the sandbox from another one. */
    glint_value r;
    glint_sandbox_set_timeout(sb, 1000);
    cr_assert_eq(glint_sandbox_call(sb, "Counter", NULL, 0, &r), 0, "%s", glint_errmsg());
    pthread_t th;
    vm_watchdog_start(5000, "Spin with a 100 ms deadline in a second thread");
    double t0 = vm_now_ms();
    cr_assert_eq(pthread_create(&th, NULL, spin_in_thread, sb), 0);
    void *res;
    pthread_join(th, &res);
    double ms = vm_now_ms() - t0;
    vm_watchdog_stop();
    cr_assert_eq(*(int *)res, GLINT_ETIMEDOUT, "got %d", *(int *)res);
    cr_assert(ms >= 90 && ms < 2000, "%.1f ms", ms);
    /* And back on this thread, a fresh sandbox times out too. */
    glint_sandbox *s = vm_sandbox(img, NULL);
    glint_sandbox_set_timeout(s, 100);
    glint_value a = glint_u64(~0ull);
    vm_watchdog_start(5000, "Spin with a 100 ms deadline back on the first thread");
    int rc = glint_sandbox_call(s, "SpinLoops", &a, 1, NULL);
    vm_watchdog_stop();
    vm_expect_failure(s, rc, GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT);
    glint_sandbox_destroy(s);
}

/* ---- calls made from inside host functions ------------------------------------------------ */

struct nested {
    glint_sandbox *inner;
    int rc;
};

static int nested_call(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)args;
    (void)nargs;
    struct nested *n = user;
    glint_value r;
    n->rc = glint_sandbox_call(n->inner, "Counter", NULL, 0, &r);
    ret->as.i64 = n->rc == 0 ? r.as.i64 : -1;
    return 0;
}

static glint_host_fns *nested_fns(struct nested *n)
{
    glint_host_fns *f;
    cr_assert_eq(glint_host_fns_create(&f), 0);
    static const glint_type ii[] = {GLINT_I64, GLINT_I64};
    cr_assert_eq(glint_host_fns_add(f, "Nested", GLINT_I64, ii, 2, nested_call, n), 0);
    return f;
}

/* A host function may call into the same sandbox only to be told it is busy. */
Test(vm_deadline, reentrant_call_is_ebusy)
{
    struct nested n = {.rc = 1};
    glint_host_fns *f = nested_fns(&n);
    glint_sandbox *outer = vm_sandbox(img, f);
    glint_host_fns_destroy(f);
    n.inner = outer;
    glint_value a[2] = {glint_string("Nested"), glint_u64(10)}, r;
    int rc = glint_sandbox_call(outer, "CallHostThenSpin", a, 2, &r);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    cr_assert_eq(n.rc, GLINT_EBUSY);
    cr_assert_eq(r.as.u64, 10);
    cr_assert(!glint_sandbox_poisoned(outer));
    glint_sandbox_destroy(outer);
}

/* A host function that calls another sandbox (both with deadlines) must not cancel the outer
 * call's deadline: deadline.c keeps one armed deadline per thread, and the inner call's
 * disarm clears it, so the outer guest then runs with no deadline at all. */
Test(vm_deadline, nested_call_keeps_outer_deadline, .timeout = 30)
{
    struct nested n = {.rc = 1};
    glint_host_fns *f = nested_fns(&n);
    glint_sandbox *outer = vm_sandbox(img, f);
    glint_host_fns_destroy(f);
    n.inner = sb; /* default 1000 ms deadline */
    glint_sandbox_set_timeout(outer, 200);
    /* About 1.5 s of spinning after the nested call: far past the 200 ms deadline. */
    glint_value a[2] = {glint_string("Nested"), glint_u64(loops_for(1500))}, r;
    vm_watchdog_start(15000, "outer call after a nested call");
    double t0 = vm_now_ms();
    int rc = glint_sandbox_call(outer, "CallHostThenSpin", a, 2, &r);
    double ms = vm_now_ms() - t0;
    vm_watchdog_stop();
    cr_assert_eq(n.rc, 0, "nested call: %d", n.rc);
    cr_expect_eq(rc, GLINT_ETIMEDOUT, "outer call returned %s after %.0f ms (deadline 200 ms)",
                 glint_strerror(rc), ms);
    cr_expect(ms < 2000, "outer call took %.0f ms (deadline 200 ms)", ms);
    glint_sandbox_destroy(outer);
}
