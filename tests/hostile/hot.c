/* Hostile hot guests: refuse to park, flip results while copied, garbage in the mailbox. */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <string.h>

#include "glint.h"
#include "helpers.h"
#include "integrity.h"

static glint_image *img;
static glint_sandbox *sb;

static void setup(void)
{
    vm_open("hothostile", NULL, NULL, &img, &sb);
    glint_sandbox_set_timeout(sb, 2000);
    vm_go_hot(sb, 100);
}

static void teardown(void)
{
    vm_watchdog_stop();
    vm_close(&img, &sb);
}

TestSuite(hostile_hot, .init = setup, .fini = teardown, .timeout = 60);

/* After a failure: poisoned, then restore makes it answer hot calls again, and code and system
 * pages were never touched. */
static void expect_recovers(void)
{
    vm_expect_system_pages_intact(sb, "the hostile hot sandbox");
    glint_value x = glint_i32(1), r;
    if (glint_sandbox_poisoned(sb)) {
        cr_assert_eq(glint_sandbox_call(sb, "Ok", &x, 1, &r), GLINT_EPOISONED);
        cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "restore: %s", glint_errmsg());
    }
    r = vm_call_ok(sb, "Ok", &x, 1);
    cr_assert_eq(r.as.i32, 2);
    r = vm_call_ok(sb, "HotMode", NULL, 0);
    cr_assert(r.as.b, "still hot after recovery");
    glint_hot_status st;
    glint_sandbox_hot_status(sb, &st);
    cr_assert(st.active);
}

/* Wait (bounded) until the watchdog has stopped a guest spinning past its window. */
static void wait_forced_park(void)
{
    glint_hot_status st;
    double t0 = vm_now_ms();
    do
        glint_sandbox_hot_status(sb, &st);
    while (st.forced_parks == 0 && vm_now_ms() - t0 < 10000);
    cr_assert_gt(st.forced_parks, 0u, "the watchdog parked the spinning guest");
}

Test(hostile_hot, guest_refusing_to_park_is_parked_by_the_watchdog_and_then_times_out)
{
    glint_value r = vm_call_ok(sb, "AnswerThenRefuseToPark", NULL, 0);
    cr_assert_str_eq(r.as.str.ptr, "dddd", "its own answer, copied out");
    wait_forced_park();
    /* It serves no further call: the caller's deadline ends the next one. */
    glint_sandbox_set_timeout(sb, 100);
    glint_value x = glint_i32(1);
    vm_watchdog_start(10000, "a hot call to a guest that never serves it");
    int rc = glint_sandbox_call(sb, "Ok", &x, 1, &r);
    vm_watchdog_stop();
    vm_expect_failure(sb, rc, GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT);
    cr_assert(glint_sandbox_poisoned(sb));
    glint_sandbox_set_timeout(sb, 2000);
    expect_recovers();
}

Test(hostile_hot, turning_hot_mode_off_fails_cleanly_when_the_guest_never_parks)
{
    vm_call_ok(sb, "AnswerThenRefuseToPark", NULL, 0);
    vm_watchdog_start(10000, "set_hot(NULL) on a guest that never parks");
    int rc = glint_sandbox_set_hot(sb, NULL);
    vm_watchdog_stop();
    vm_expect_failure(sb, rc, GLINT_EPROTO, GLINT_FAIL_PROTOCOL);
    glint_hot_status st;
    glint_sandbox_hot_status(sb, &st);
    cr_assert_not(st.active, "hot mode is off anyway");
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    glint_value x = glint_i32(4), r = vm_call_ok(sb, "Ok", &x, 1);
    cr_assert_eq(r.as.i32, 5, "exit mode works after the restore");
}

/* Copy once, then validate: whatever the guest does to the buffer meanwhile, a result handed out
 * is a valid string the guest did write in full (all 'A', the length it wrote), or the call
 * fails with a protocol error. */
Test(hostile_hot, result_flipped_while_copied_is_valid_or_refused, .timeout = 120)
{
    int ok = 0, refused = 0;
    for (int i = 0; i < 40; i++) {
        glint_value n = glint_u32(3000), r;
        memset(&r, 0x5a, sizeof r);
        vm_watchdog_start(10000, "FlipWhileCopied");
        int rc = glint_sandbox_call(sb, "FlipWhileCopied", &n, 1, &r);
        vm_watchdog_stop();
        if (rc == 0) {
            cr_assert_eq(r.type, GLINT_STRING);
            cr_assert_eq(r.as.str.len, 3000u, "the length the guest wrote");
            for (size_t k = 0; k < r.as.str.len; k++)
                cr_assert_eq(r.as.str.ptr[k], 'A', "byte %zu of the copy is not the guest's", k);
            ok++;
        } else {
            glint_failure f = vm_expect_failure(sb, rc, GLINT_EPROTO, GLINT_FAIL_PROTOCOL);
            cr_assert(vm_contains(f.message, "result"), "%s", f.message);
            refused++;
        }
        cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    }
    cr_log_info("flipped results: %d valid copies, %d refused", ok, refused);
    expect_recovers();
}

Test(hostile_hot, garbage_done_seq_is_a_protocol_error)
{
    glint_value r;
    memset(&r, 0x5a, sizeof r);
    glint_value before = r;
    vm_watchdog_start(10000, "GarbageDone");
    int rc = glint_sandbox_call(sb, "GarbageDone", NULL, 0, &r);
    vm_watchdog_stop();
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EPROTO, GLINT_FAIL_PROTOCOL);
    cr_assert(vm_contains(f.message, "done_seq"), "%s", f.message);
    cr_assert(memcmp(&r, &before, sizeof r) == 0, "no result was fabricated");
    cr_assert(glint_sandbox_poisoned(sb));
    expect_recovers();
}

Test(hostile_hot, endless_spin_window_is_cut_by_the_watchdog_and_calls_go_on)
{
    glint_value r = vm_call_ok(sb, "EndlessWindow", NULL, 0);
    cr_assert_eq(r.as.i32, 1);
    wait_forced_park();
    glint_value x = glint_i32(10);
    r = vm_call_ok(sb, "Ok", &x, 1);
    cr_assert_eq(r.as.i32, 11, "the forcibly parked guest still serves the next call");
    cr_assert_not(glint_sandbox_poisoned(sb));
}

Test(hostile_hot, parking_without_answering_is_a_protocol_error)
{
    glint_value r;
    vm_watchdog_start(10000, "ParkWithoutAnswer");
    int rc = glint_sandbox_call(sb, "ParkWithoutAnswer", NULL, 0, &r);
    vm_watchdog_stop();
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EPROTO, GLINT_FAIL_PROTOCOL);
    cr_assert(vm_contains(f.message, "without answering"), "%s", f.message);
    expect_recovers();
}

Test(hostile_hot, guest_clearing_hot_mode_cannot_switch_the_host_off)
{
    glint_value r = vm_call_ok(sb, "HotOff", NULL, 0);
    cr_assert_eq(r.as.i32, 1);
    for (int i = 0; i < 20; i++) {
        glint_value x = glint_i32(i);
        r = vm_call_ok(sb, "Ok", &x, 1);
        cr_assert_eq(r.as.i32, i + 1);
    }
    r = vm_call_ok(sb, "HotMode", NULL, 0);
    cr_assert(r.as.b, "the host's state decides the mode");
}

/* A guest that answers, then exits out of its idle loop (an abort while no call is pending): the
 * answer stands if the host copied it before the guest wrote its ABORT over it (else that call is
 * a protocol error: its result changed while it was copied), and the next call reports the abort
 * exactly as exit mode reports one; the sandbox is poisoned until restore. Never a wrong answer. */
Test(hostile_hot, exit_after_answering_fails_the_next_call_with_the_abort)
{
    glint_value r;
    int rc = glint_sandbox_call(sb, "AnswerThenAbort", NULL, 0, &r);
    if (rc != 0) {
        glint_failure f = vm_expect_failure(sb, rc, GLINT_EPROTO, GLINT_FAIL_PROTOCOL);
        cr_assert(vm_contains(f.message, "not a result"), "%s", f.message);
        expect_recovers();
        return;
    }
    cr_assert_str_eq(r.as.str.ptr, "dddd");
    glint_value x = glint_i32(1);
    vm_watchdog_start(10000, "the call after an idle abort");
    rc = glint_sandbox_call(sb, "Ok", &x, 1, &r);
    vm_watchdog_stop();
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EABORT, GLINT_FAIL_ABORT);
    cr_assert_eq(f.guest_code, 77);
    cr_assert(vm_contains(f.message, "left the mailbox loop"), "%s", f.message);
    expect_recovers();
}
