/* VM tests for seccomp confinement: confined threads run guests but cannot open, connect or fork.
 */
#include <asm/prctl.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "whitebox.h"

/* TryOpen(i64, i64) -> i64: what a (compromised) thread would try first;
 * returns 0 if open() worked, else errno. */
static int try_open(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)args;
    (void)nargs;
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    ret->as.i64 = fd >= 0 ? 0 : errno;
    if (fd >= 0)
        close(fd);
    return 0;
}

/* TrySocket(i64, i64) -> i64: same for socket(). */
static int try_socket(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)args;
    (void)nargs;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ret->as.i64 = fd >= 0 ? 0 : errno;
    if (fd >= 0)
        close(fd);
    return 0;
}

static glint_host_fns *probe_fns(void)
{
    glint_host_fns *fns;
    static const glint_type ii[] = {GLINT_I64, GLINT_I64};
    cr_assert_eq(glint_host_fns_create(&fns), 0);
    cr_assert_eq(glint_host_fns_add(fns, "TryOpen", GLINT_I64, ii, 2, try_open, NULL), 0);
    cr_assert_eq(glint_host_fns_add(fns, "TrySocket", GLINT_I64, ii, 2, try_socket, NULL), 0);
    return fns;
}

static int64_t probe(glint_pool *pool, const char *fn)
{
    glint_value args[] = {glint_string(fn), glint_i64(0), glint_i64(0)}, ret;
    int rc = glint_pool_call(pool, "CallHost", args, 3, &ret, NULL);
    cr_assert_eq(rc, 0, "CallHost(%s): %s", fn, glint_errmsg());
    return ret.as.i64;
}

Test(vm_confine, pool_workers_are_confined_by_default)
{
    vm_require_kvm();
    glint_host_fns *fns = probe_fns();
    glint_image *img = vm_load_test("types", NULL, fns);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    cr_assert(pc.confine, "confinement must be the default");
    pc.size = 2;
    pc.workers = 2;
    glint_pool *pool;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    /* Guest calls, host calls, restores: all still work on confined workers. */
    for (int i = 0; i < 200; i++) {
        glint_value a = glint_i32(i), ret;
        cr_assert_eq(glint_pool_call(pool, "EchoI32", &a, 1, &ret, NULL), 0, "%s", glint_errmsg());
        cr_assert_eq(ret.as.i32, i);
    }
    glint_value s = glint_string("through a confined worker"), ret;
    cr_assert_eq(glint_pool_call(pool, "EchoString", &s, 1, &ret, NULL), 0);
    cr_assert_str_eq(ret.as.str.ptr, "through a confined worker");
    /* The forbidden system calls are refused, and the process lives on. */
    cr_assert_eq(probe(pool, "TryOpen"), EPERM, "open() on a confined worker must fail");
    cr_assert_eq(probe(pool, "TrySocket"), EPERM, "socket() on a confined worker must fail");
    /* This (unconfined) thread still can. */
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    close(fd);
    glint_pool_destroy(pool);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

Test(vm_confine, confinement_can_be_turned_off)
{
    vm_require_kvm();
    glint_host_fns *fns = probe_fns();
    glint_image *img = vm_load_test("types", NULL, fns);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 1;
    pc.workers = 1;
    pc.confine = false;
    glint_pool *pool;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    cr_assert_eq(probe(pool, "TryOpen"), 0, "an unconfined worker may open files");
    glint_pool_destroy(pool);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

struct thread_result {
    glint_image *img;
    int confine_rc, open_errno, fork_errno, call_rc, restore_rc;
    int32_t echoed;
};

static void *confined_thread(void *arg)
{
    struct thread_result *r = arg;
    glint_sandbox *sb;
    if (glint_sandbox_create(r->img, NULL, &sb) != 0)
        return NULL;
    r->confine_rc = glint_confine_thread();
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    r->open_errno = fd >= 0 ? 0 : errno;
    if (fd >= 0)
        close(fd);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    r->fork_errno = pid >= 0 ? 0 : errno;
    glint_value a = glint_i32(77), ret;
    r->call_rc = glint_sandbox_call(sb, "EchoI32", &a, 1, &ret);
    r->echoed = ret.as.i32;
    r->restore_rc = glint_sandbox_restore(sb, NULL);
    glint_sandbox_destroy(sb); /* close and munmap are allowed */
    return NULL;
}

Test(vm_confine, confine_thread_refuses_open_and_fork_but_runs_guests)
{
    vm_require_kvm();
    struct thread_result r = {.img = vm_load_test("types", NULL, NULL), .confine_rc = -1};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, confined_thread, &r), 0);
    pthread_join(t, NULL);
    cr_assert_eq(r.confine_rc, 0, "glint_confine_thread failed");
    cr_assert_eq(r.open_errno, EPERM, "open: errno %d", r.open_errno);
    cr_assert_eq(r.fork_errno, EPERM, "fork: errno %d", r.fork_errno);
    cr_assert_eq(r.call_rc, 0, "a call on a confined thread failed");
    cr_assert_eq(r.echoed, 77);
    cr_assert_eq(r.restore_rc, 0, "a restore on a confined thread failed");
    glint_image_destroy(r.img);
}

Test(vm_confine, bad_worker_count_is_rejected)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("types", NULL, NULL);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.workers = 257;
    glint_pool *pool = NULL;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), GLINT_EINVAL);
    cr_assert_null(pool);
    glint_image_destroy(img);
}

/* ---- guest initialisation (glint_config.confine_init) ---------------------- */

/* What a print callback saw of its own thread during the guest's init. */
struct init_probe {
    int prints;
    int seccomp;       /* prctl(PR_GET_SECCOMP): 0 none, 2 filter, -1 refused */
    int prctl_errno;   /* errno when refused */
    int open_errno;    /* 0 if open() worked */
    bool other_thread; /* not the thread that loaded the image */
    pthread_t loader;
};

static void probe_print(void *user, const char *text, size_t len)
{
    (void)text;
    (void)len;
    struct init_probe *p = user;
    p->prints++;
    errno = 0;
    p->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    p->prctl_errno = errno;
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    p->open_errno = fd >= 0 ? 0 : errno;
    if (fd >= 0)
        close(fd);
    p->other_thread = !pthread_equal(pthread_self(), p->loader);
}

static struct init_probe load_initprint(bool confine)
{
    struct init_probe p = {.seccomp = -2, .loader = pthread_self()};
    glint_host_fns *fns;
    cr_assert_eq(glint_host_fns_create(&fns), 0);
    cr_assert_eq(glint_host_fns_set_print(fns, probe_print, &p), 0);
    glint_config cfg;
    glint_config_init(&cfg);
    cr_assert(cfg.confine_init, "confining init must be the default");
    cfg.confine_init = confine;
    glint_image *img = vm_load_test("initprint", &cfg, fns);
    /* The image works afterwards, from this unconfined thread. */
    glint_sandbox *sb = vm_sandbox(img, NULL);
    cr_assert_eq(vm_call_ok(sb, "Initialised", NULL, 0).as.i32, 7);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
    cr_assert_eq(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0, "the loading thread must stay unconfined");
    cr_assert_eq(p.prints, 1, "init printed %d times", p.prints);
    return p;
}

Test(vm_confine, guest_init_runs_confined_by_default)
{
    vm_require_kvm();
    struct init_probe p = load_initprint(true);
    cr_assert(p.seccomp == 2 || (p.seccomp == -1 && p.prctl_errno == EPERM),
              "print during init ran unconfined (PR_GET_SECCOMP %d, errno %d)", p.seccomp,
              p.prctl_errno);
    cr_assert_eq(p.open_errno, EPERM, "open() during init: errno %d", p.open_errno);
    cr_assert(p.other_thread, "init must run on a helper thread, not the caller's");
}

Test(vm_confine, guest_init_unconfined_when_turned_off)
{
    vm_require_kvm();
    struct init_probe p = load_initprint(false);
    cr_assert_eq(p.seccomp, 0, "PR_GET_SECCOMP %d (errno %d) with confine_init false", p.seccomp,
                 p.prctl_errno);
    cr_assert_eq(p.open_errno, 0, "open() during unconfined init: errno %d", p.open_errno);
}

/* ---- every rule of the allowlist is needed --------------------------------------------------
 * A forked child builds every filter (its own, the pool worker's, the init
 * thread's, another thread's) without rule i and runs a workload over the
 * whole confined call path; it must fail somewhere (a step reports an error,
 * the child dies, or it hangs and is killed). The workload reports the first
 * failing step as its exit status; 0 means everything worked. */

static char *grown[64]; /* main-heap blocks of the Grow host function */

/* Grow(i64 n, i64) -> i64: n blocks of 64 KiB from malloc (the main heap on
 * the main thread: brk), each touched. */
static int host_grow(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    int64_t n = args[0].as.i64 < 64 ? args[0].as.i64 : 64;
    for (int64_t k = 0; k < n; k++) {
        if (!grown[k] && !(grown[k] = malloc(64 << 10)))
            return -1;
        memset(grown[k], (int)k, 64 << 10);
    }
    ret->as.i64 = n;
    return 0;
}

/* HostUpper(string) -> string: a malloc'd copy (large strings: mmap), freed by glint. */
static int host_upper(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    size_t n = args[0].as.str.len;
    char *s = malloc(n + 1);
    if (!s)
        return -1;
    for (size_t k = 0; k < n; k++)
        s[k] = (char)toupper((unsigned char)args[0].as.str.ptr[k]);
    s[n] = 0;
    *ret = glint_string_n(s, n);
    ret->flags = GLINT_VALUE_FREE;
    return 0;
}

static atomic_int interrupter_round, interrupter_ready;

/* Arm(i64, i64) -> i64: the guest is about to spin; ask for an interrupt. */
static int host_arm(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)args;
    (void)nargs;
    atomic_fetch_add(&interrupter_round, 1);
    ret->as.i64 = 0;
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Interrupts each round's call 20 ms after Arm, when the vCPU is well inside
 * KVM_RUN (so the signal, not the kick flag alone, ends it); -1 ends. */
static void *interrupter(void *arg)
{
    glint_sandbox *target = arg;
    if (glint_confine_thread() != 0)
        return NULL;
    atomic_store(&interrupter_ready, 1);
    for (int done = 0;;) {
        int r;
        while ((r = atomic_load(&interrupter_round)) == done)
            ;
        if (r < 0)
            break;
        done = r;
        double t0 = now_ms();
        while (now_ms() - t0 < 20)
            ;
        glint_sandbox_interrupt(target);
    }
    return NULL; /* thread exit under the filter */
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause(); /* keeps the process alive if exit_group is refused */
    return NULL;
}

static __thread volatile int tls_probe = 1;
static uint64_t gs_word = 0x6c6f6f6b6564ull;

static sigjmp_buf segv_jump;

static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(segv_jump, 1); /* no signal mask to restore: SA_NODEFER */
}

/* Does reading p work? (It must not after munmap.) */
static bool still_mapped(const void *p)
{
    if (sigsetjmp(segv_jump, 0))
        return false;
    (void)*(const volatile char *)p;
    return true;
}

/* Step numbers are exit statuses. */
#define STEP(n, cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return (n);                                                                            \
    } while (0)

static int workload(void)
{
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    STEP(1, devnull >= 0 && dup2(devnull, STDOUT_FILENO) == STDOUT_FILENO);
    glint_host_fns *fns;
    static const glint_type ii[] = {GLINT_I64, GLINT_I64}, s1[] = {GLINT_STRING};
    STEP(2, glint_host_fns_create(&fns) == 0);
    STEP(2, glint_host_fns_add(fns, "Grow", GLINT_I64, ii, 2, host_grow, NULL) == 0);
    STEP(2, glint_host_fns_add(fns, "HostUpper", GLINT_STRING, s1, 1, host_upper, NULL) == 0);
    STEP(2, glint_host_fns_add(fns, "Arm", GLINT_I64, ii, 2, host_arm, NULL) == 0);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.input_size = cfg.output_size = 1 << 20;
    cfg.heap_size = 4 << 20;
    cfg.timeout_ms = 3000;
    char path[512];
    glint_image *types, *faults, *iso, *hostile;
    /* Each load initialises its guest on a confined helper thread. */
    vm_test_guest_path(path, sizeof path, "types");
    STEP(3, glint_image_load_file(path, &cfg, fns, &types) == 0);
    vm_test_guest_path(path, sizeof path, "faults");
    STEP(3, glint_image_load_file(path, &cfg, fns, &faults) == 0);
    vm_test_guest_path(path, sizeof path, "isolation");
    STEP(3, glint_image_load_file(path, &cfg, fns, &iso) == 0);
    vm_test_guest_path(path, sizeof path, "hostile");
    STEP(3, glint_image_load_file(path, &cfg, fns, &hostile) == 0);
    glint_sandbox *t, *t2, *f, *is, *h;
    STEP(4, glint_sandbox_create(types, NULL, &t) == 0 &&
                glint_sandbox_create(types, NULL, &t2) == 0 &&
                glint_sandbox_create(faults, NULL, &f) == 0 &&
                glint_sandbox_create(iso, NULL, &is) == 0 &&
                glint_sandbox_create(hostile, NULL, &h) == 0);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 1;
    pc.workers = 1;
    glint_pool *pool;
    STEP(5, glint_pool_create(types, NULL, &pc, &pool) == 0);
    pthread_t it, st;
    STEP(6, pthread_create(&it, NULL, interrupter, t2) == 0);
    STEP(6, pthread_create(&st, NULL, sleeper, NULL) == 0);
    while (!atomic_load(&interrupter_ready))
        ;
    STEP(7, syscall(SYS_arch_prctl, ARCH_SET_GS, &gs_word) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_NODEFER;
    STEP(8, sigaction(SIGSEGV, &sa, NULL) == 0);

    STEP(10, glint_confine_thread() == 0);
    glint_value a = glint_i32(5), ret;
    STEP(11, glint_sandbox_call(t, "EchoI32", &a, 1, &ret) == 0 && ret.as.i32 == 5);
    size_t big = 300 << 10;
    char *text = malloc(big + 1);
    STEP(12, text != NULL);
    memset(text, 'a', big);
    text[big] = 0;
    a = glint_string_n(text, big);
    STEP(13, glint_sandbox_call(t, "CallHostString", &a, 1, &ret) == 0 && ret.as.str.len == big &&
                 ret.as.str.ptr[0] == 'A');
    glint_value g[] = {glint_string("Grow"), glint_i64(48), glint_i64(0)};
    STEP(14, glint_sandbox_call(t, "CallHost", g, 3, &ret) == 0 && ret.as.i64 == 48);
    a = glint_u32(3);
    STEP(15, glint_sandbox_call(t, "PrintMany", &a, 1, NULL) == 0);
    glint_sandbox_set_timeout(f, 50);
    STEP(16, glint_sandbox_call(f, "Spin", NULL, 0, NULL) == GLINT_ETIMEDOUT);
    STEP(17, glint_sandbox_restore(f, NULL) == 0);
    STEP(18, glint_sandbox_call(f, "NullDeref", NULL, 0, NULL) == GLINT_EFAULT);
    STEP(19, glint_sandbox_restore(f, NULL) == 0);
    STEP(19, glint_sandbox_call(f, "Ok", NULL, 0, &ret) == 0 && ret.as.i32 == 42);
    glint_snapshot *snap;
    STEP(20, glint_sandbox_call(t, "Counter", NULL, 0, &ret) == 0);
    STEP(20, glint_sandbox_snapshot(t, &snap) == 0);
    int64_t at_snap;
    STEP(21, glint_sandbox_call(t, "Counter", NULL, 0, &ret) == 0);
    at_snap = ret.as.i64;
    STEP(21, glint_sandbox_call(t, "Counter", NULL, 0, &ret) == 0);
    STEP(22, glint_sandbox_restore(t, snap) == 0);
    STEP(22, glint_sandbox_call(t, "Counter", NULL, 0, &ret) == 0 && ret.as.i64 == at_snap);
    glint_snapshot_destroy(snap);
    STEP(23, glint_sandbox_restore(t, NULL) == 0);
    for (uint64_t k = 0; k < 4; k++) { /* outgrow the sticky working set */
        glint_value d[] = {glint_u32(600), glint_u64(k)};
        STEP(24, glint_sandbox_call(is, "DirtyPages", d, 2, &ret) == 0 && ret.as.u32 == 600);
        STEP(25, glint_sandbox_restore(is, NULL) == 0);
    }
    /* Interrupts from another (confined) thread, three times. */
    for (int k = 0; k < 3; k++) {
        glint_value sp[] = {glint_string("Arm"), glint_u64(UINT64_MAX / 2)};
        int rc = glint_sandbox_call(t2, "CallHostThenSpin", sp, 2, &ret);
        if (rc != GLINT_EINTR)
            atomic_store(&interrupter_round, -1);
        STEP(26, rc == GLINT_EINTR);
        STEP(26, glint_sandbox_restore(t2, NULL) == 0);
    }
    atomic_store(&interrupter_round, -1);
    STEP(27, pthread_join(it, NULL) == 0);
    /* Segment loads that reach the host thread on PVM. */
    glint_sandbox_call(h, "MovFsUserData", NULL, 0, &ret);
    glint_sandbox_call(h, "MovGsTss", NULL, 0, &ret);
    tls_probe++;
    uint64_t via_gs;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(via_gs));
    STEP(28, tls_probe == 2 && via_gs == gs_word);
    STEP(29, glint_sandbox_restore(h, NULL) == 0);
    /* Pool calls through the confined worker; the first needs a result buffer. */
    a = glint_string_n(text, big);
    STEP(30, glint_pool_call(pool, "CallHostString", &a, 1, &ret, NULL) == 0 &&
                 ret.as.str.len == big && ret.as.str.ptr[big - 1] == 'A');
    a = glint_u32(500 << 10);
    STEP(31, glint_pool_call(pool, "MakeBytes", &a, 1, &ret, NULL) == 0 &&
                 ret.as.bytes.len == 500 << 10);
    free(text);
    /* Destroying a sandbox releases its descriptors, memory and timer. */
    int vm_fd, vcpu_fd;
    glint__vm_fds(t2->vm, &vm_fd, &vcpu_fd);
    void *mem = t2->mem;
    timer_t timer = t2->deadline.timer; /* made by its call with a timeout */
    glint_sandbox_destroy(t2);
    struct itimerspec off;
    memset(&off, 0, sizeof off);
    STEP(34, timer_settime(timer, 0, &off, NULL) < 0 && errno == EINVAL);
    STEP(32, write(vcpu_fd, "", 0) < 0 && errno == EBADF);
    STEP(33, !still_mapped(mem));
    glint_pool_destroy(pool);
    glint_sandbox_destroy(t);
    glint_sandbox_destroy(f);
    glint_sandbox_destroy(is);
    glint_sandbox_destroy(h);
    glint_image_destroy(types);
    glint_image_destroy(faults);
    glint_image_destroy(iso);
    glint_image_destroy(hostile);
    glint_host_fns_destroy(fns);
    for (int k = 0; k < 64; k++)
        free(grown[k]);
    return 0;
}

/* Run fn in a forked child; its exit status, or 128 + signal, or 255 if it
 * had to be killed after limit_ms. */
static int in_child(int (*fn)(long), long arg, int limit_ms)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(fn(arg));
    int status;
    for (int waited = 0;; waited += 10) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        cr_assert_geq(w, 0);
        if (w == pid)
            break;
        if (waited >= limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return 255;
        }
        usleep(10000);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int without_rule(long i)
{
    glint__confine_omit(i);
    return workload();
}

Test(vm_confine, every_rule_is_needed, .timeout = 600)
{
    vm_require_kvm();
    cr_assert_eq(in_child(without_rule, -1, 30000), 0,
                 "the workload must pass under the full filter (status = failing step)");
    size_t n = glint__confine_rules();
    char redundant[1024] = "";
    for (size_t i = 0; i < n; i++) {
        bool dep;
        const char *name = glint__confine_rule(i, &dep);
        if (!name)
            continue; /* not part of the filter on this host */
        int st = in_child(without_rule, (long)i, 15000);
        if (st == 0 && dep) {
            /* Needed only on some hosts or builds (see its reason in src/confine.c). */
            cr_log_info("rule %s is not exercised on this host or build", name);
            continue;
        }
        if (st == 0)
            snprintf(redundant + strlen(redundant), sizeof redundant - strlen(redundant), " %s",
                     name);
        else
            cr_log_info("without %s: the workload fails (status %d)", name, st);
    }
    cr_assert_str_empty(redundant, "redundant rules (the workload works without them):%s",
                        redundant);
}

/* ---- each argument filter blocks what it exists to block ------------------------------------ */

struct arg_probe {
    glint_sandbox *mine, *other;
    pid_t stranger;
    int mmap_exec, mprotect_exec, mmap_rw, tgkill_other, tgkill_self, arch_other, ioctl_other,
        ioctl_mine, call_other;
};

static void ignore_signal(int sig)
{
    (void)sig;
}

static void *arg_filter_thread(void *arg)
{
    struct arg_probe *p = arg;
    if (glint_confine_thread_to_sandboxes(&p->mine, 1) != 0)
        return NULL;
    void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p->mmap_exec = m == MAP_FAILED ? errno : 0;
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p->mmap_rw = m == MAP_FAILED ? errno : 0;
    if (m != MAP_FAILED) {
        p->mprotect_exec = mprotect(m, 4096, PROT_READ | PROT_EXEC) ? errno : 0;
        munmap(m, 4096);
    }
    p->tgkill_other = syscall(SYS_tgkill, p->stranger, p->stranger, SIGUSR1) ? errno : 0;
    p->tgkill_self = syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1) ? errno : 0;
    unsigned long v = 0;
    p->arch_other = syscall(SYS_arch_prctl, ARCH_GET_CPUID, &v) < 0 ? errno : 0;
    int vm_fd, vcpu_fd;
    struct kvm_regs regs;
    glint__vm_fds(p->other->vm, &vm_fd, &vcpu_fd);
    p->ioctl_other = ioctl(vcpu_fd, KVM_GET_REGS, &regs) ? errno : 0;
    glint__vm_fds(p->mine->vm, &vm_fd, &vcpu_fd);
    p->ioctl_mine = ioctl(vcpu_fd, KVM_GET_REGS, &regs) ? errno : 0;
    glint_value one = glint_i32(1);
    p->call_other = glint_sandbox_call(p->other, "EchoI32", &one, 1, NULL);
    return NULL;
}

Test(vm_confine, argument_filters_block)
{
    vm_require_kvm();
    signal(SIGUSR1, ignore_signal);
    glint_image *img = vm_load_test("types", NULL, NULL);
    struct arg_probe p = {.mine = vm_sandbox(img, NULL), .other = vm_sandbox(img, NULL)};
    p.stranger = fork();
    cr_assert_geq(p.stranger, 0);
    if (p.stranger == 0) {
        pause();
        _exit(0);
    }
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, arg_filter_thread, &p), 0);
    pthread_join(t, NULL);
    int status;
    bool stranger_alive = waitpid(p.stranger, &status, WNOHANG) == 0;
    kill(p.stranger, SIGKILL);
    waitpid(p.stranger, &status, 0);
    cr_assert_eq(p.mmap_exec, EPERM, "mmap PROT_EXEC: errno %d", p.mmap_exec);
    cr_assert_eq(p.mmap_rw, 0, "mmap read/write: errno %d", p.mmap_rw);
    cr_assert_eq(p.mprotect_exec, EPERM, "mprotect PROT_EXEC: errno %d", p.mprotect_exec);
    cr_assert_eq(p.tgkill_other, EPERM, "tgkill to another process: errno %d", p.tgkill_other);
    cr_assert(stranger_alive, "the other process got the signal");
    cr_assert_eq(p.tgkill_self, 0, "tgkill to this process: errno %d", p.tgkill_self);
    cr_assert_eq(p.arch_other, EPERM, "arch_prctl(ARCH_GET_CPUID): errno %d", p.arch_other);
    cr_assert_eq(p.ioctl_other, EPERM, "KVM_GET_REGS on another sandbox's vCPU: errno %d",
                 p.ioctl_other);
    cr_assert_eq(p.ioctl_mine, 0, "KVM_GET_REGS on its own vCPU: errno %d", p.ioctl_mine);
    cr_assert_neq(p.call_other, 0, "a call on a sandbox outside the list must fail");
    glint_sandbox_destroy(p.mine);
    glint_sandbox_destroy(p.other);
    glint_image_destroy(img);
}
