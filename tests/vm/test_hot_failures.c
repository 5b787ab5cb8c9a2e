/* VM tests: hot-mode failures (timeouts, interrupts, faults, aborts) and admission control. */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glint/abi.h"
#include "helpers.h"

static glint_image *img;
static glint_sandbox *sb;

static void teardown(void)
{
    vm_watchdog_stop();
    vm_close(&img, &sb);
}

static void setup_types(void)
{
    vm_open("types", NULL, NULL, &img, &sb);
    vm_go_hot(sb, 0);
}

TestSuite(vm_hot_fail, .init = setup_types, .fini = teardown, .timeout = 60);

Test(vm_hot_fail, timeout_stops_a_spinning_call_and_poisons)
{
    uint64_t n = (uint64_t)(vm_spin_loops_per_ms(sb) * 5000);
    glint_sandbox_set_timeout(sb, 50);
    glint_value a = glint_u64(n), r;
    vm_watchdog_start(10000, "a hot call past its timeout");
    double t0 = vm_now_ms();
    int rc = glint_sandbox_call(sb, "SpinLoops", &a, 1, &r);
    double took = vm_now_ms() - t0;
    vm_watchdog_stop();
    glint_failure f = vm_expect_failure(sb, rc, GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT);
    cr_assert(vm_contains(f.message, "50 ms timeout"), "%s", f.message);
    cr_assert_lt(took, 4000, "stopped long before the 5 s spin ended (%.0f ms)", took);
    cr_assert(glint_sandbox_poisoned(sb));
    cr_assert_eq(glint_sandbox_call(sb, "Counter", NULL, 0, &r), GLINT_EPOISONED);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    glint_sandbox_set_timeout(sb, 1000);
    glint_value c = vm_call_ok(sb, "Counter", NULL, 0);
    cr_assert_eq(c.as.i64, 1, "restored to the image");
    glint_hot_status st;
    glint_sandbox_hot_status(sb, &st);
    cr_assert(st.active, "still hot after restore");
}

struct interrupter {
    glint_sandbox *sb;
    atomic_int stop;
};

static void *interrupt_loop(void *arg)
{
    struct interrupter *it = arg;
    while (!atomic_load(&it->stop)) {
        glint_sandbox_interrupt(it->sb);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

Test(vm_hot_fail, interrupt_from_another_thread_stops_the_call)
{
    glint_sandbox_set_timeout(sb, 0);
    uint64_t n = (uint64_t)(vm_spin_loops_per_ms(sb) * 20000);
    struct interrupter it = {.sb = sb};
    pthread_t t;
    pthread_create(&t, NULL, interrupt_loop, &it);
    glint_value a = glint_u64(n), r;
    vm_watchdog_start(15000, "an interrupted hot call");
    int rc = glint_sandbox_call(sb, "SpinLoops", &a, 1, &r);
    vm_watchdog_stop();
    atomic_store(&it.stop, 1);
    pthread_join(t, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EINTR, GLINT_FAIL_INTERRUPTED);
    cr_assert(vm_contains(f.message, "interrupt"), "%s", f.message);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    glint_value x = glint_i32(3);
    r = vm_call_ok(sb, "EchoI32", &x, 1);
    cr_assert_eq(r.as.i32, 3);
}

Test(vm_hot_fail, interrupt_between_calls_affects_no_later_call)
{
    for (int i = 0; i < 20; i++) {
        glint_sandbox_interrupt(sb);
        glint_value x = glint_i32(i), r = vm_call_ok(sb, "EchoI32", &x, 1);
        cr_assert_eq(r.as.i32, i);
    }
}

static int slow_host(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    struct timespec ts = {5, 0};
    nanosleep(&ts, NULL); /* interrupted by the deadline's signal: returns early */
    ret->as.i64 = args[0].as.i64 + args[1].as.i64;
    return 0;
}

/* The caller's deadline also covers a host function: as in exit mode, the call fails with the
 * timeout once the callback returns (its sleep is cut short by the deadline's signal). */
Test(vm_hot_fail, timeout_during_a_host_function)
{
    glint_host_fns *fns = vm_host_fns_one("HostSlow", slow_host, NULL);
    glint_sandbox *s2 = vm_sandbox(img, fns);
    glint_sandbox_destroy(sb);
    sb = s2;
    vm_go_hot(sb, 0);
    glint_sandbox_set_timeout(sb, 50);
    glint_value a[3] = {glint_string("HostSlow"), glint_i64(1), glint_i64(2)}, r;
    vm_watchdog_start(10000, "a hot call whose host function outlives the timeout");
    double t0 = vm_now_ms();
    int rc = glint_sandbox_call(sb, "CallHost", a, 3, &r);
    double took = vm_now_ms() - t0;
    vm_watchdog_stop();
    vm_expect_failure(sb, rc, GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT);
    cr_assert_lt(took, 4000, "the deadline's signal cut the host function's 5 s sleep (%.0f ms)",
                 took);
    glint_host_fns_destroy(fns);
}

/* Nested calls: a host function of a hot sandbox calls another (exit-mode) sandbox; the nested
 * call runs on the caller's thread and returns its value. */
static glint_sandbox *inner;

static int call_inner(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    glint_value x = glint_i64(args[0].as.i64 + args[1].as.i64), r;
    int rc = glint_sandbox_call(inner, "EchoI64", &x, 1, &r);
    if (rc)
        return rc;
    ret->as.i64 = r.as.i64 * 10;
    return 0;
}

Test(vm_hot_fail, host_function_may_call_another_sandbox)
{
    glint_host_fns *fns = vm_host_fns_one("HostInner", call_inner, NULL);
    glint_sandbox *outer = vm_sandbox(img, fns);
    inner = vm_sandbox(img, NULL);
    glint_sandbox_destroy(sb);
    sb = outer;
    vm_go_hot(sb, 0);
    glint_value a[3] = {glint_string("HostInner"), glint_i64(4), glint_i64(5)};
    glint_value r = vm_call_ok(sb, "CallHost", a, 3);
    cr_assert_eq(r.as.i64, 90);
    glint_sandbox_destroy(inner);
    inner = NULL;
    glint_host_fns_destroy(fns);
}

/* ---- faults and aborts: reported exactly as in exit mode --------------------------------- */

static void setup_faults(void)
{
    vm_open("faults", NULL, NULL, &img, &sb);
}

TestSuite(vm_hot_faults, .init = setup_faults, .fini = teardown, .timeout = 60);

/* The failure record of `fn` in exit mode and in hot mode, compared field by field. */
static void same_as_exit_mode(const char *fn)
{
    glint_sandbox *cold = vm_sandbox(img, NULL);
    glint_value r;
    int rc_cold = glint_sandbox_call(cold, fn, NULL, 0, &r);
    glint_failure fc;
    glint_sandbox_last_failure(cold, &fc);
    glint_sandbox_destroy(cold);

    glint_sandbox *hot = vm_sandbox(img, NULL);
    vm_go_hot(hot, 0);
    vm_watchdog_start(10000, fn);
    int rc_hot = glint_sandbox_call(hot, fn, NULL, 0, &r);
    vm_watchdog_stop();
    glint_failure fh;
    glint_sandbox_last_failure(hot, &fh);
    cr_assert_eq(rc_hot, rc_cold, "%s: hot %d, exit mode %d (%s)", fn, rc_hot, rc_cold, fh.message);
    cr_assert_eq(fh.kind, fc.kind, "%s", fn);
    cr_assert_eq(fh.vector, fc.vector, "%s", fn);
    cr_assert_eq(fh.error_code, fc.error_code, "%s", fn);
    cr_assert_eq(fh.rip, fc.rip, "%s", fn);
    cr_assert_eq(fh.fault_addr, fc.fault_addr, "%s", fn);
    cr_assert_eq(fh.guest_code, fc.guest_code, "%s", fn);
    cr_assert_str_eq(fh.message, fc.message, "%s", fn);
    cr_assert_eq(glint_sandbox_poisoned(hot), true, "%s poisons", fn);
    cr_assert_eq(glint_sandbox_restore(hot, NULL), 0, "%s", glint_errmsg());
    glint_value ok = vm_call_ok(hot, "Ok", NULL, 0);
    (void)ok;
    glint_hot_status st;
    glint_sandbox_hot_status(hot, &st);
    cr_assert(st.active);
    glint_sandbox_destroy(hot);
}

Test(vm_hot_faults, page_faults)
{
    same_as_exit_mode("NullDeref");
    same_as_exit_mode("NullWrite");
    same_as_exit_mode("WriteCode");
    same_as_exit_mode("StackOverflow");
}

Test(vm_hot_faults, other_exceptions)
{
    same_as_exit_mode("DivZero");
    same_as_exit_mode("Ud2");
    same_as_exit_mode("Hlt");
}

Test(vm_hot_faults, aborts_and_protocol_errors)
{
    same_as_exit_mode("Abort");
    same_as_exit_mode("AbortHuge");
    same_as_exit_mode("OutBadPort");
    same_as_exit_mode("OutFaultPort");
}

/* ---- admission control and refusals --------------------------------------------------------- */

TestSuite(vm_hot_admission, .fini = teardown, .timeout = 60);

Test(vm_hot_admission, limit_refuses_with_the_count_and_the_limit)
{
    vm_open("types", NULL, NULL, &img, &sb);
    glint_hot_config hc;
    glint_hot_config_init(&hc);
    hc.max_hot = 1;
    int rc = glint_sandbox_set_hot(sb, &hc);
    if (rc == GLINT_EBUSY)
        cr_skip_test("hot mode not admitted here: %s", glint_errmsg());
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    glint_sandbox *second = vm_sandbox(img, NULL);
    rc = glint_sandbox_set_hot(second, &hc);
    cr_assert_eq(rc, GLINT_EBUSY);
    cr_assert(vm_contains(glint_errmsg(), "1 hot sandboxes run"), "%s", glint_errmsg());
    cr_assert(vm_contains(glint_errmsg(), "the limit is 1"), "%s", glint_errmsg());
    /* Downgrade instead: exit mode, with the reason. */
    hc.on_busy = GLINT_HOT_DOWNGRADE;
    cr_assert_eq(glint_sandbox_set_hot(second, &hc), 0, "%s", glint_errmsg());
    glint_hot_status st;
    glint_sandbox_hot_status(second, &st);
    cr_assert_not(st.active);
    cr_assert(vm_contains(st.reason, "limit is 1"), "%s", st.reason);
    cr_assert(vm_contains(st.reason, "exit mode"), "%s", st.reason);
    glint_value x = glint_i32(8), r = vm_call_ok(second, "EchoI32", &x, 1);
    cr_assert_eq(r.as.i32, 8);
    /* The slot comes back when the first sandbox leaves hot mode. */
    cr_assert_eq(glint_sandbox_set_hot(sb, NULL), 0, "%s", glint_errmsg());
    hc.on_busy = GLINT_HOT_REFUSE;
    cr_assert_eq(glint_sandbox_set_hot(second, &hc), 0, "%s", glint_errmsg());
    r = vm_call_ok(second, "EchoI32", &x, 1);
    cr_assert_eq(r.as.i32, 8);
    glint_sandbox_destroy(second);
    /* ... and when a hot sandbox is destroyed. */
    cr_assert_eq(glint_sandbox_set_hot(sb, &hc), 0, "%s", glint_errmsg());
}

/* A guest built without hot support (no features note) is refused with the reason. */
Test(vm_hot_admission, guest_without_hot_support_is_refused)
{
    vm_require_kvm();
    char path[512];
    vm_test_guest_path(path, sizeof path, "types");
    size_t len;
    uint8_t *elf = vm_read_file(path, &len);
    /* Rename the features note's type ("gln3" -> "glnX"): the host ignores unknown notes. */
    uint32_t want = GLINT_ABI_NOTE_FEATURES_TYPE, other = 0x676c6e58u;
    int found = 0;
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(elf + i, &want, 4) == 0 && i + 12 <= len &&
            memcmp(elf + i + 4, "glint", 6) == 0) {
            memcpy(elf + i, &other, 4);
            found++;
        }
    cr_assert_eq(found, 1, "the features note was found once");
    cr_assert_eq(glint_image_load_memory(elf, len, NULL, NULL, &img), 0, "%s", glint_errmsg());
    free(elf);
    sb = vm_sandbox(img, NULL);
    glint_hot_config hc;
    glint_hot_config_init(&hc);
    cr_assert_eq(glint_sandbox_set_hot(sb, &hc), GLINT_EABI);
    cr_assert(vm_contains(glint_errmsg(), "without hot-mode support"), "%s", glint_errmsg());
    glint_value x = glint_i32(2), r = vm_call_ok(sb, "EchoI32", &x, 1);
    cr_assert_eq(r.as.i32, 2, "still fine in exit mode");
}

Test(vm_hot_admission, poisoned_or_busy_sandbox_is_refused)
{
    vm_open("faults", NULL, NULL, &img, &sb);
    glint_value r;
    cr_assert_eq(glint_sandbox_call(sb, "NullDeref", NULL, 0, &r), GLINT_EFAULT);
    glint_hot_config hc;
    glint_hot_config_init(&hc);
    cr_assert_eq(glint_sandbox_set_hot(sb, &hc), GLINT_EPOISONED);
}

/* Threads of this process in seccomp filter mode (/proc/self/task/N/status "Seccomp: 2"),
 * KVM's kernel workers aside. */
static int confined_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], line[128], comm[64] = "";
        /* KVM's own worker (kvm-nx-lpage-recovery) is listed as a task of the process that
         * ran the VM, and inherits that thread's filter: count only our threads. */
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(comm, sizeof comm, f))
                comm[0] = 0;
            fclose(f);
        }
        if (strncmp(comm, "kvm-", 4) == 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "Seccomp:", 8) == 0 && atoi(line + 8) == 2)
                n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

/* confined_threads() once it equals want (threads leave /proc shortly after they are joined),
 * or after 2 s. */
static int confined_threads_settled(int want)
{
    double t0 = vm_now_ms();
    int n;
    while ((n = confined_threads()) != want && vm_now_ms() - t0 < 2000)
        ;
    return n;
}

/* The vCPU thread runs the guest: it confines itself like a pool worker. */
Test(vm_hot_admission, vcpu_thread_is_confined)
{
#ifdef __SANITIZE_THREAD__
    cr_skip_test("not confined under ThreadSanitizer (src/runtime/hot_vcpu.c)");
#endif
    vm_open("types", NULL, NULL, &img, &sb);
    int before = confined_threads();
    vm_go_hot(sb, 0);
    int during = confined_threads_settled(before + 1);
    cr_assert_eq(during, before + 1, "the vCPU thread runs under seccomp (%d, %d before)", during,
                 before);
    glint_value x = glint_i32(6), r = vm_call_ok(sb, "EchoI32", &x, 1);
    cr_assert_eq(r.as.i32, 6);
    cr_assert_eq(glint_sandbox_set_hot(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(confined_threads_settled(before), before, "and is gone with hot mode");
}
