/* VM tests for seccomp confinement: confined threads run guests but cannot open, connect or fork.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"

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
    glint_value ret;
    cr_assert_eq(glint_sandbox_call(sb, "Initialised", NULL, 0, &ret), 0, "%s", glint_errmsg());
    cr_assert_eq(ret.as.i32, 7);
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
