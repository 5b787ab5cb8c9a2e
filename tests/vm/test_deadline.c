/* VM tests: per-call deadlines across consecutive calls, threads and nested calls. */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

static glint_image *img;
static glint_sandbox *sb;

static void setup(void)
{
    vm_open("types", NULL, NULL, &img, &sb);
}

static void teardown(void)
{
    vm_watchdog_stop();
    vm_close(&img, &sb);
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
    glint_host_fns *f = vm_host_fns_one("Nested", nested_call, n);
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

/* ---- an outer deadline stops a nested call -------------------------------------------------- */

struct nested_spin {
    glint_sandbox *inner; /* B: the fixture's sandbox */
    int rc;
    glint_failure f;
    double ms;
    glint_sandbox *outer; /* A: calls NestedSpin, destroyed by the test */
    double outer_ms;
};

/* NestedSpin(i64, i64) -> i64: spin forever in the inner sandbox. */
static int nested_spin(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)args;
    (void)nargs;
    struct nested_spin *n = user;
    glint_value a = glint_u64(~0ull), r;
    double t0 = vm_now_ms();
    n->rc = glint_sandbox_call(n->inner, "SpinLoops", &a, 1, &r);
    n->ms = vm_now_ms() - t0;
    glint_sandbox_last_failure(n->inner, &n->f);
    ret->as.i64 = n->rc;
    return 0;
}

/* A (timeout a_ms) calls CallHostThenSpin("NestedSpin", loops) under a watchdog; its host
 * function NestedSpin runs SpinLoops forever in B (the fixture's sandbox, timeout b_ms). Returns
 * A's result code; A and its wall time in n->outer and n->outer_ms, B's outcome in n. */
static int call_nested_spin(struct nested_spin *n, uint32_t a_ms, uint32_t b_ms, uint64_t loops,
                            const char *what, glint_value *r)
{
    *n = (struct nested_spin){.rc = 1, .inner = sb};
    glint_host_fns *f = vm_host_fns_one("NestedSpin", nested_spin, n);
    n->outer = vm_sandbox(img, f);
    glint_host_fns_destroy(f);
    glint_sandbox_set_timeout(n->outer, a_ms);
    glint_sandbox_set_timeout(sb, b_ms);
    glint_value a[2] = {glint_string("NestedSpin"), glint_u64(loops)};
    vm_watchdog_start(8000, what);
    double t0 = vm_now_ms();
    int rc = glint_sandbox_call(n->outer, "CallHostThenSpin", a, 2, r);
    n->outer_ms = vm_now_ms() - t0;
    vm_watchdog_stop();
    return rc;
}

/* A host function of A (100 ms) calls B, which spins: A's deadline must stop B's run and then A,
 * whatever B's own timeout (longer, or none). Before the fix A returned only when B's 1500 ms
 * deadline fired, and never with B's timeout 0. */
static void outer_deadline_stops_inner(uint32_t inner_timeout)
{
    struct nested_spin n;
    glint_value r;
    char what[100];
    snprintf(what, sizeof what, "A (100 ms) -> host fn -> B (%u ms) spinning", inner_timeout);
    int rc = call_nested_spin(&n, 100, inner_timeout, 0, what, &r);
    glint_sandbox *outer = n.outer;
    double ms = n.outer_ms;
    glint_failure fo;
    glint_sandbox_last_failure(outer, &fo);
    fprintf(stderr, "vm_deadline: %s: A %s after %.0f ms (%s); B %s after %.0f ms (%s)\n", what,
            glint_strerror(rc), ms, fo.message, glint_strerror(n.rc), n.ms, n.f.message);
    cr_assert_eq(rc, GLINT_ETIMEDOUT, "%s: A returned %s after %.0f ms", what, glint_strerror(rc),
                 ms);
    cr_assert_eq(fo.kind, GLINT_FAIL_TIMEOUT);
    cr_assert(vm_contains(fo.message, "100 ms"), "A's message '%s'", fo.message);
    cr_assert(ms < 1000, "%s: A returned after %.0f ms", what, ms);
    cr_assert(n.rc == GLINT_ETIMEDOUT || n.rc == GLINT_EINTR, "B returned %s",
              glint_strerror(n.rc));
    cr_assert(vm_contains(n.f.message, "enclosing"), "B's message '%s'", n.f.message);
    cr_assert(glint_sandbox_poisoned(sb));
    cr_assert(glint_sandbox_poisoned(outer));
    /* Both come back, and their deadlines work alone again. */
    for (int i = 0; i < 2; i++) {
        glint_sandbox *s = i ? outer : sb;
        cr_assert_eq(glint_sandbox_restore(s, NULL), 0, "%s", glint_errmsg());
        glint_sandbox_set_timeout(s, 100);
        glint_value spin = glint_u64(~0ull);
        vm_watchdog_start(5000, "a spin with a 100 ms deadline after the nested timeout");
        rc = glint_sandbox_call(s, "SpinLoops", &spin, 1, NULL);
        vm_watchdog_stop();
        vm_expect_failure(s, rc, GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT);
        cr_assert(!vm_contains(glint_errmsg(), "enclosing"), "%s", glint_errmsg());
        cr_assert_eq(glint_sandbox_restore(s, NULL), 0, "%s", glint_errmsg());
        glint_sandbox_set_timeout(s, 0);
        cr_assert_eq(glint_sandbox_call(s, "Counter", NULL, 0, &r), 0, "%s", glint_errmsg());
    }
    glint_sandbox_destroy(outer);
}

Test(vm_deadline, outer_deadline_stops_a_longer_nested_call, .timeout = 30)
{
    outer_deadline_stops_inner(1500);
}

Test(vm_deadline, outer_deadline_stops_a_nested_call_without_deadline, .timeout = 30)
{
    outer_deadline_stops_inner(0);
}

/* The inner deadline, shorter, still fires first and only stops the inner call. */
Test(vm_deadline, inner_deadline_fires_before_the_outer, .timeout = 30)
{
    struct nested_spin n;
    glint_value r;
    int rc =
        call_nested_spin(&n, 3000, 100, 1000, "A (3000 ms) -> host fn -> B (100 ms) spinning", &r);
    glint_sandbox *outer = n.outer;
    double ms = n.outer_ms;
    cr_assert_eq(rc, 0, "A: %s", glint_errmsg());
    cr_assert_eq(r.as.u64, 1000);
    cr_assert_eq(n.rc, GLINT_ETIMEDOUT, "B: %s", glint_strerror(n.rc));
    cr_assert_eq(n.f.kind, GLINT_FAIL_TIMEOUT);
    cr_assert(vm_contains(n.f.message, "100 ms") && !vm_contains(n.f.message, "enclosing"),
              "B's message '%s'", n.f.message);
    cr_assert(n.ms >= 90 && ms < 2500, "B stopped after %.0f ms, A after %.0f ms", n.ms, ms);
    cr_assert(!glint_sandbox_poisoned(outer));
    glint_sandbox_destroy(outer);
}

/* ---- a thread id reused by a later thread ---------------------------------------------------
 *
 * A sandbox keeps its POSIX timer between calls. If it recognised "the same thread" by its tid,
 * a new thread that got a dead thread's tid would reuse a timer that still targets the dead
 * thread: the deadline would never fire and a spinning guest would run forever. The test reuses
 * a tid for real: in a private PID namespace (the grandchild is its pid 1), thread T1 makes a
 * timed call, exits and is joined; /proc/sys/kernel/ns_last_pid (which acts on the writer's
 * namespace) then makes the next thread, T2, get T1's tid; T2 spins with a 100 ms timeout. */

struct tid_reuse {
    glint_sandbox *sb;
    pid_t tid, want_tid;
    int rc, fd;
    char msg[256];
    double ms;
};

static void *tid_reuse_thread(void *arg)
{
    struct tid_reuse *t = arg;
    t->tid = gettid();
    if (t->want_tid)
        dprintf(t->fd, "T2 has tid %d (T1 had %d)\n", (int)t->tid, (int)t->want_tid);
    glint_value a = glint_u64(t->rc ? ~0ull : 1000), r;
    double t0 = vm_now_ms();
    t->rc = glint_sandbox_call(t->sb, "SpinLoops", &a, 1, &r);
    t->ms = vm_now_ms() - t0;
    snprintf(t->msg, sizeof t->msg, "%s", glint_errmsg());
    return NULL;
}

/* Runs as pid 1 of the new namespace; reports on fd and returns its exit status. */
static int tid_reuse_grandchild(int fd)
{
    char path[4096];
    vm_test_guest_path(path, sizeof path, "types");
    glint_image *im = NULL;
    glint_sandbox *s = NULL;
    if (glint_image_load_file(path, NULL, NULL, &im) || glint_sandbox_create(im, NULL, &s)) {
        dprintf(fd, "FAIL: cannot load the types guest: %s\n", glint_errmsg());
        return 1;
    }
    glint_sandbox_set_timeout(s, 5000);
    struct tid_reuse t1 = {.sb = s, .rc = 0};
    pthread_t th;
    if (pthread_create(&th, NULL, tid_reuse_thread, &t1) || pthread_join(th, NULL)) {
        dprintf(fd, "FAIL: pthread_create T1\n");
        return 1;
    }
    if (t1.rc != 0) {
        dprintf(fd, "FAIL: T1's timed call failed: %s\n", t1.msg);
        return 1;
    }
    int k = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (k < 0 || dprintf(k, "%d", (int)t1.tid - 1) < 0) {
        dprintf(fd, "SKIP: cannot write /proc/sys/kernel/ns_last_pid: %s\n", strerror(errno));
        return 77;
    }
    close(k);
    glint_sandbox_set_timeout(s, 100);
    struct tid_reuse t2 = {.sb = s, .rc = 1, .fd = fd, .want_tid = t1.tid}; /* rc 1: spin */
    if (pthread_create(&th, NULL, tid_reuse_thread, &t2) || pthread_join(th, NULL)) {
        dprintf(fd, "FAIL: pthread_create T2\n");
        return 1;
    }
    dprintf(fd, "T1 tid %d, T2 tid %d; T2's call: rc %d (%s) after %.0f ms: %s\n", (int)t1.tid,
            (int)t2.tid, t2.rc, glint_strerror(t2.rc), t2.ms, t2.msg);
    if (t2.tid != t1.tid) {
        dprintf(fd, "FAIL: the tid was not reused, the test proves nothing\n");
        return 1;
    }
    if (t2.rc != GLINT_ETIMEDOUT) {
        dprintf(fd, "FAIL: the call on the reused tid did not time out\n");
        return 1;
    }
    glint_sandbox_destroy(s);
    glint_image_destroy(im);
    return 0;
}

/* Waits up to ms for pid; SIGKILLs it after that. Returns its wait status, or -1 if killed. */
static int wait_bounded(pid_t pid, double ms)
{
    double t0 = vm_now_ms();
    int st;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return st;
        if (w < 0)
            return -2;
        if (vm_now_ms() - t0 > ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
}

TestSuite(vm_deadline_tid, .timeout = 40);

Test(vm_deadline_tid, timeout_fires_on_a_reused_thread_id)
{
    vm_require_kvm();
    if (geteuid() != 0) {
        fprintf(stderr,
                "*** vm_deadline_tid: not root, cannot make a PID namespace: SKIPPED ***\n");
        cr_skip_test("not root: cannot create a PID namespace to reuse a tid");
    }
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t child = fork();
    cr_assert(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        close(p[0]);
        if (unshare(CLONE_NEWPID) != 0) {
            dprintf(p[1], "SKIP: unshare(CLONE_NEWPID): %s\n", strerror(errno));
            _exit(77);
        }
        pid_t g = fork();
        if (g < 0) {
            dprintf(p[1], "FAIL: fork in the new namespace: %s\n", strerror(errno));
            _exit(1);
        }
        if (g == 0)
            _exit(tid_reuse_grandchild(p[1]));
        int st = wait_bounded(g, 15000);
        if (st == -1) {
            dprintf(p[1], "FAIL: hung for 15 s: the 100 ms timeout never fired on the reused "
                          "tid (grandchild killed)\n");
            _exit(1);
        }
        _exit(st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 1);
    }
    close(p[1]);
    int st = wait_bounded(child, 25000);
    char out[2048] = "";
    ssize_t n = read(p[0], out, sizeof out - 1);
    out[n > 0 ? n : 0] = 0;
    close(p[0]);
    cr_log_info("%s", out);
    fprintf(stderr, "vm_deadline_tid: %s", out);
    cr_assert(st >= 0, "the test child hung (killed after 25 s): %s", out);
    cr_assert(WIFEXITED(st), "the test child died (status 0x%x): %s", st, out);
    if (WEXITSTATUS(st) == 77) {
        fprintf(stderr, "*** vm_deadline_tid: SKIPPED: %s", out);
        cr_skip_test("%s", out);
    }
    cr_assert_eq(WEXITSTATUS(st), 0, "%s", out);
}
