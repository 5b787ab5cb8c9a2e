/* VM tests: hot mode through the public API: every call type, host calls, errors, restore. */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <stdint.h>
#include <string.h>

#include "helpers.h"

static glint_image *img;
static glint_sandbox *sb;
static struct vm_capture cap;
static glint_host_fns *fns;

static void setup(void)
{
    vm_capture_init(&cap);
    fns = vm_host_fns(&cap);
    vm_open("types", NULL, fns, &img, &sb);
    vm_go_hot(sb, 200);
}

static void teardown(void)
{
    vm_watchdog_stop();
    vm_close(&img, &sb);
    glint_host_fns_destroy(fns);
    fns = NULL;
}

TestSuite(vm_hot, .init = setup, .fini = teardown, .timeout = 60);

Test(vm_hot, every_scalar_type_round_trips)
{
    for (int i = 0; i < 200; i++) {
        glint_value a = glint_i32(-i), r = vm_call_ok(sb, "EchoI32", &a, 1);
        cr_assert_eq(r.type, GLINT_I32);
        cr_assert_eq(r.as.i32, -i);
        a = glint_u64(0xfedcba9876543210ull + (uint64_t)i);
        r = vm_call_ok(sb, "EchoU64", &a, 1);
        cr_assert_eq(r.as.u64, 0xfedcba9876543210ull + (uint64_t)i);
        a = glint_f64(i * 0.5);
        r = vm_call_ok(sb, "EchoF64", &a, 1);
        cr_assert_eq(r.as.f64, i * 0.5);
        a = glint_bool(i & 1);
        r = vm_call_ok(sb, "EchoBool", &a, 1);
        cr_assert_eq(r.as.b, (i & 1) != 0);
    }
    glint_value a = glint_u32(7), r = vm_call_ok(sb, "EchoU32", &a, 1);
    cr_assert_eq(r.as.u32, 7u);
    a = glint_i64(-5);
    r = vm_call_ok(sb, "EchoI64", &a, 1);
    cr_assert_eq(r.as.i64, -5);
    a = glint_f32(1.5f);
    r = vm_call_ok(sb, "EchoF32", &a, 1);
    cr_assert_eq(r.as.f32, 1.5f);
    glint_hot_status st;
    glint_sandbox_hot_status(sb, &st);
    cr_assert(st.active);
    cr_assert_geq(st.calls, 803u, "every call went through the mailbox (%llu)",
                  (unsigned long long)st.calls);
}

Test(vm_hot, strings_and_bytes_are_copied_out)
{
    glint_value a = glint_string("hello, hot world"), r = vm_call_ok(sb, "EchoString", &a, 1);
    cr_assert_eq(r.type, GLINT_STRING);
    cr_assert_str_eq(r.as.str.ptr, "hello, hot world");
    const char *first = r.as.str.ptr;
    /* The result lives in host memory owned by the sandbox, never in guest memory. */
    glint_value n = glint_u32(4096);
    r = vm_call_ok(sb, "MakeBytes", &n, 1);
    cr_assert_eq(r.type, GLINT_BYTES);
    cr_assert_eq(r.as.bytes.len, 4096u);
    (void)first;
    static uint8_t big[8000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    glint_value b = glint_bytes(big, sizeof big);
    r = vm_call_ok(sb, "EchoBytes", &b, 1);
    cr_assert_eq(r.as.bytes.len, sizeof big);
    cr_assert(memcmp(r.as.bytes.ptr, big, sizeof big) == 0);
}

Test(vm_hot, sixteen_arguments)
{
    glint_value a[16];
    int64_t want = 0;
    for (int i = 0; i < 16; i++) {
        a[i] = glint_i64(i * 1000 + 1);
        want += i * 1000 + 1;
    }
    glint_value r = vm_call_ok(sb, "Sum16", a, 16);
    cr_assert_eq(r.as.i64, want);
}

Test(vm_hot, guest_state_persists_between_calls)
{
    glint_value r1 = vm_call_ok(sb, "Counter", NULL, 0);
    glint_value r2 = vm_call_ok(sb, "Counter", NULL, 0);
    cr_assert_eq(r2.as.i64, r1.as.i64 + 1);
}

Test(vm_hot, guest_error_is_reported_and_sandbox_stays_usable)
{
    glint_value a = glint_i32(42), r;
    int rc = glint_sandbox_call(sb, "ReturnError", &a, 1, &r);
    cr_assert_eq(rc, GLINT_EGUEST, "%s", glint_errmsg());
    glint_failure f;
    glint_sandbox_last_failure(sb, &f);
    cr_assert_eq(f.kind, GLINT_FAIL_GUEST_ERROR);
    cr_assert_not(glint_sandbox_poisoned(sb));
    a = glint_i32(3);
    r = vm_call_ok(sb, "EchoI32", &a, 1);
    cr_assert_eq(r.as.i32, 3);
}

Test(vm_hot, usage_errors_never_reach_the_guest)
{
    glint_value a = glint_string("x"), r;
    cr_assert_eq(glint_sandbox_call(sb, "EchoI32", &a, 1, &r), GLINT_ESIG);
    cr_assert_eq(glint_sandbox_call(sb, "NoSuchFunction", NULL, 0, &r), GLINT_ENOFUNC);
    a = glint_i32(9);
    r = vm_call_ok(sb, "EchoI32", &a, 1);
    cr_assert_eq(r.as.i32, 9);
}

Test(vm_hot, host_calls_run_and_return_values)
{
    glint_value a[3] = {glint_string("HostAdd"), glint_i64(40), glint_i64(2)};
    for (int i = 0; i < 50; i++) {
        glint_value r = vm_call_ok(sb, "CallHost", a, 3);
        cr_assert_eq(r.as.i64, 42);
    }
    glint_value s = glint_string("shout"), r = vm_call_ok(sb, "CallHostString", &s, 1);
    cr_assert_str_eq(r.as.str.ptr, "SHOUT");
    glint_value n = glint_u32(3);
    vm_call_ok(sb, "PrintMany", &n, 1);
    cr_assert_geq(cap.prints, 3u);
}

Test(vm_hot, host_function_error_reaches_the_guest)
{
    glint_value a[3] = {glint_string("HostFail"), glint_i64(1), glint_i64(2)}, r;
    int rc = glint_sandbox_call(sb, "CallHost", a, 3, &r);
    /* CallHost reports the host error as its own guest error. */
    cr_assert_eq(rc, GLINT_EGUEST, "%s", glint_errmsg());
    cr_assert_not(glint_sandbox_poisoned(sb));
}

Test(vm_hot, restore_resets_state_and_hot_mode_survives)
{
    glint_value first = vm_call_ok(sb, "Counter", NULL, 0);
    vm_call_ok(sb, "Counter", NULL, 0);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    glint_value again = vm_call_ok(sb, "Counter", NULL, 0);
    cr_assert_eq(again.as.i64, first.as.i64, "restore put the counter back");
    glint_hot_status st;
    glint_sandbox_hot_status(sb, &st);
    cr_assert(st.active);
}

Test(vm_hot, snapshot_of_a_hot_sandbox_restores_into_an_exit_mode_one)
{
    vm_call_ok(sb, "Counter", NULL, 0);
    glint_value at = vm_call_ok(sb, "Counter", NULL, 0);
    glint_snapshot *snap;
    cr_assert_eq(glint_sandbox_snapshot(sb, &snap), 0, "%s", glint_errmsg());
    glint_value after = vm_call_ok(sb, "Counter", NULL, 0);
    cr_assert_eq(after.as.i64, at.as.i64 + 1, "the hot sandbox goes on after the snapshot");
    glint_sandbox *cold = vm_sandbox(img, NULL);
    cr_assert_eq(glint_sandbox_restore(cold, snap), 0, "%s", glint_errmsg());
    glint_value r = vm_call_ok(cold, "Counter", NULL, 0);
    cr_assert_eq(r.as.i64, at.as.i64 + 1);
    glint_value a = glint_i32(5);
    r = vm_call_ok(cold, "EchoI32", &a, 1);
    cr_assert_eq(r.as.i32, 5, "an exit-mode call on the restored state gets its own result");
    glint_sandbox_destroy(cold);
    glint_snapshot_destroy(snap);
}

/* Snapshots park the guest with hot mode off in the mailbox; a call right after must run once
 * (a guest resumed at its park with hot mode off would take the old input for a new call). */
Test(vm_hot, every_call_after_a_snapshot_runs_exactly_once, .timeout = 120)
{
    int64_t last = vm_call_ok(sb, "Counter", NULL, 0).as.i64;
    for (int i = 0; i < 300; i++) {
        glint_snapshot *snap;
        cr_assert_eq(glint_sandbox_snapshot(sb, &snap), 0, "%s", glint_errmsg());
        glint_snapshot_destroy(snap);
        int64_t c = vm_call_ok(sb, "Counter", NULL, 0).as.i64;
        cr_assert_eq(c, last + 1, "iteration %d: the call ran %lld times", i,
                     (long long)(c - last));
        last = c;
    }
}

Test(vm_hot, turning_hot_mode_off_returns_to_exit_mode)
{
    glint_value c1 = vm_call_ok(sb, "Counter", NULL, 0);
    cr_assert_eq(glint_sandbox_set_hot(sb, NULL), 0, "%s", glint_errmsg());
    glint_hot_status st;
    glint_sandbox_hot_status(sb, &st);
    cr_assert_not(st.active);
    glint_value c2 = vm_call_ok(sb, "Counter", NULL, 0);
    cr_assert_eq(c2.as.i64, c1.as.i64 + 1, "state carried over into exit mode");
    glint_value a = glint_string("cold"), r = vm_call_ok(sb, "EchoString", &a, 1);
    cr_assert_str_eq(r.as.str.ptr, "cold");
    vm_go_hot(sb, 50);
    glint_value c3 = vm_call_ok(sb, "Counter", NULL, 0);
    cr_assert_eq(c3.as.i64, c2.as.i64 + 1, "and back into hot mode");
}

Test(vm_hot, guest_parks_when_idle_and_wakes_for_the_next_call)
{
    vm_go_hot(sb, 20); /* a new config: a short window */
    glint_value a = glint_i32(1);
    vm_call_ok(sb, "EchoI32", &a, 1);
    glint_hot_status st;
    double t0 = vm_now_ms();
    do {
        glint_sandbox_hot_status(sb, &st);
    } while (st.parks + st.forced_parks == 0 && vm_now_ms() - t0 < 5000);
    cr_assert_gt(st.parks + st.forced_parks, 0u, "the idle guest parked");
    a = glint_i32(2);
    glint_value r = vm_call_ok(sb, "EchoI32", &a, 1);
    cr_assert_eq(r.as.i32, 2);
    glint_sandbox_hot_status(sb, &st);
    cr_assert_gt(st.wakes, 0u, "the call woke the parked guest");
}

Test(vm_hot, park_at_once_still_answers_every_call)
{
    vm_go_hot(sb, 0);
    for (int i = 0; i < 100; i++) {
        glint_value a = glint_i32(i), r = vm_call_ok(sb, "EchoI32", &a, 1);
        cr_assert_eq(r.as.i32, i);
    }
}

Test(vm_hot, set_hot_rejects_bad_configs)
{
    glint_hot_config hc;
    glint_hot_config_init(&hc);
    hc.max_spin_us = 100001;
    cr_assert_eq(glint_sandbox_set_hot(sb, &hc), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "max_spin_us"));
    glint_hot_config_init(&hc);
    hc.on_busy = 7;
    cr_assert_eq(glint_sandbox_set_hot(sb, &hc), GLINT_EINVAL);
    glint_hot_config_init(&hc);
    hc.struct_size = 3;
    cr_assert_eq(glint_sandbox_set_hot(sb, &hc), GLINT_EINVAL);
    cr_assert_eq(glint_sandbox_set_hot(NULL, &hc), GLINT_EINVAL);
}
