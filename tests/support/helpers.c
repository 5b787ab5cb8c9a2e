/* Shared helpers for the VM tests: KVM check, guest paths and loading, host functions, capture. */
#include "helpers.h"

#include <criterion/criterion.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SKIP_TEXT "*** /dev/kvm missing: VM test skipped ***"

void vm_require_kvm(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return;
    }
    int err = errno;
    const char *req = getenv("GLINT_REQUIRE_KVM");
    if (req && strcmp(req, "1") == 0) {
        fprintf(stderr, "*** /dev/kvm unusable (%s) and GLINT_REQUIRE_KVM=1: VM test FAILS ***\n",
                strerror(err));
        cr_assert_fail("/dev/kvm unusable (%s) and GLINT_REQUIRE_KVM=1", strerror(err));
    }
    fprintf(stderr, "%s (%s)\n", SKIP_TEXT, strerror(err));
    cr_skip_test(SKIP_TEXT);
}

static void guest_path(char *buf, size_t n, const char *env, const char *def, const char *name)
{
    const char *dir = getenv(env);
    if (!dir || !*dir)
        dir = def;
    int k = snprintf(buf, n, "%s/%s.elf", dir, name);
    cr_assert(k > 0 && (size_t)k < n, "guest path too long");
}

void vm_test_guest_path(char *buf, size_t n, const char *name)
{
    guest_path(buf, n, "GLINT_TEST_GUESTS", "build/tests/guests", name);
}

void vm_example_guest_path(char *buf, size_t n, const char *name)
{
    guest_path(buf, n, "GLINT_GUESTS", "build/guests", name);
}

static glint_image *load(const char *path, const glint_config *cfg, const glint_host_fns *fns)
{
    glint_image *img = NULL;
    int rc = glint_image_load_file(path, cfg, fns, &img);
    cr_assert_eq(rc, 0, "loading %s: %s (%s)", path, glint_strerror(rc), glint_errmsg());
    cr_assert_not_null(img);
    return img;
}

glint_image *vm_load_test(const char *name, const glint_config *cfg, const glint_host_fns *fns)
{
    char path[4096];
    vm_test_guest_path(path, sizeof path, name);
    return load(path, cfg, fns);
}

glint_image *vm_load_example(const char *name, const glint_config *cfg, const glint_host_fns *fns)
{
    char path[4096];
    vm_example_guest_path(path, sizeof path, name);
    return load(path, cfg, fns);
}

glint_sandbox *vm_sandbox(glint_image *img, const glint_host_fns *fns)
{
    glint_sandbox *sb = NULL;
    int rc = glint_sandbox_create(img, fns, &sb);
    cr_assert_eq(rc, 0, "glint_sandbox_create: %s (%s)", glint_strerror(rc), glint_errmsg());
    cr_assert_not_null(sb);
    return sb;
}

glint_host_fns *vm_host_fns_one(const char *name, glint_host_fn fn, void *user)
{
    glint_host_fns *fns = NULL;
    cr_assert_eq(glint_host_fns_create(&fns), 0);
    static const glint_type ii[] = {GLINT_I64, GLINT_I64};
    int rc = glint_host_fns_add(fns, name, GLINT_I64, ii, 2, fn, user);
    cr_assert_eq(rc, 0, "glint_host_fns_add(%s): %s", name, glint_errmsg());
    return fns;
}

void vm_open(const char *name, const glint_config *cfg, const glint_host_fns *fns,
             glint_image **img, glint_sandbox **sb)
{
    vm_require_kvm();
    *img = vm_load_test(name, cfg, fns);
    *sb = vm_sandbox(*img, NULL);
}

void vm_close(glint_image **img, glint_sandbox **sb)
{
    glint_sandbox_destroy(*sb);
    glint_image_destroy(*img);
    *sb = NULL;
    *img = NULL;
}

glint_value vm_call_ok(glint_sandbox *sb, const char *fn, const glint_value *args, size_t nargs)
{
    glint_value r;
    memset(&r, 0, sizeof r);
    int rc = glint_sandbox_call(sb, fn, args, nargs, &r);
    glint_failure f;
    glint_sandbox_last_failure(sb, &f);
    cr_assert_eq(rc, 0, "%s: %s (%s)", fn, glint_strerror(rc), f.message);
    return r;
}

void *vm_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert(n > 0, "%s is empty", path);
    rewind(f);
    void *p = malloc((size_t)n);
    cr_assert_not_null(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n, "short read of %s", path);
    fclose(f);
    *len = (size_t)n;
    return p;
}

double vm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool vm_contains(const char *haystack, const char *needle)
{
    return haystack && needle && strstr(haystack, needle) != NULL;
}

void vm_capture_init(struct vm_capture *cap)
{
    memset(cap, 0, sizeof *cap);
    pthread_mutex_init(&cap->lock, NULL);
}

void vm_capture_print(void *user, const char *text, size_t len)
{
    struct vm_capture *cap = user;
    pthread_mutex_lock(&cap->lock);
    size_t room = sizeof cap->text - 1 - cap->len;
    size_t k = len < room ? len : room;
    memcpy(cap->text + cap->len, text, k);
    cap->len += k;
    cap->text[cap->len] = 0;
    cap->total += len;
    cap->prints++;
    pthread_mutex_unlock(&cap->lock);
}

/* ---- test host functions ----------------------------------------------------- */

static int host_add(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    if (nargs != 2 || args[0].type != GLINT_I64 || args[1].type != GLINT_I64)
        return -100; /* glint promised exact types */
    ret->as.i64 = (int64_t)((uint64_t)args[0].as.i64 + (uint64_t)args[1].as.i64);
    return 0;
}

static int host_sub(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    ret->as.i64 = (int64_t)((uint64_t)args[0].as.i64 - (uint64_t)args[1].as.i64);
    return 0;
}

static int host_fail(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)args;
    (void)nargs;
    (void)ret;
    return -3;
}

static int host_upper(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    if (nargs != 1 || args[0].type != GLINT_STRING || args[0].as.str.ptr[args[0].as.str.len] != 0)
        return -100;
    size_t n = args[0].as.str.len;
    char *s = malloc(n + 1);
    if (!s)
        return -2;
    for (size_t i = 0; i < n; i++)
        s[i] = (char)toupper((unsigned char)args[0].as.str.ptr[i]);
    s[n] = 0;
    ret->as.str.ptr = s;
    ret->as.str.len = n;
    ret->flags = GLINT_VALUE_FREE;
    return 0;
}

glint_host_fns *vm_host_fns(struct vm_capture *cap)
{
    glint_host_fns *fns = NULL;
    int rc = glint_host_fns_create(&fns);
    cr_assert_eq(rc, 0, "glint_host_fns_create: %s", glint_errmsg());
    static const glint_type ii[] = {GLINT_I64, GLINT_I64};
    static const glint_type s[] = {GLINT_STRING};
    cr_assert_eq(glint_host_fns_add(fns, "HostAdd", GLINT_I64, ii, 2, host_add, NULL), 0, "%s",
                 glint_errmsg());
    cr_assert_eq(glint_host_fns_add(fns, "HostSub", GLINT_I64, ii, 2, host_sub, NULL), 0, "%s",
                 glint_errmsg());
    cr_assert_eq(glint_host_fns_add(fns, "HostFail", GLINT_I64, ii, 2, host_fail, NULL), 0, "%s",
                 glint_errmsg());
    cr_assert_eq(glint_host_fns_add(fns, "HostUpper", GLINT_STRING, s, 1, host_upper, NULL), 0,
                 "%s", glint_errmsg());
    if (cap)
        cr_assert_eq(glint_host_fns_set_print(fns, vm_capture_print, cap), 0);
    else
        cr_assert_eq(glint_host_fns_set_print(fns, NULL, NULL), 0);
    return fns;
}

glint_failure vm_expect_failure(glint_sandbox *sb, int rc, int err, glint_failure_kind kind)
{
    glint_failure f;
    glint_sandbox_last_failure(sb, &f);
    cr_assert_eq(rc, err, "expected %s (%d), got %s (%d): %s", glint_strerror(err), err,
                 glint_strerror(rc), rc, glint_errmsg());
    cr_assert_eq(f.error, err, "failure.error %d, expected %d", f.error, err);
    cr_assert_eq(f.kind, kind, "failure kind '%s', expected '%s' (%s)",
                 glint_failure_kind_name(f.kind), glint_failure_kind_name(kind), f.message);
    cr_assert(memchr(f.message, 0, sizeof f.message) != NULL, "message not NUL-terminated");
    return f;
}

/* ---- watchdog -------------------------------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool running, stop;
    double ms;
    char what[256];
} dog = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *watch(void *arg)
{
    (void)arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long long ns = (long long)(dog.ms * 1e6);
    until.tv_sec += (time_t)(ns / 1000000000);
    until.tv_nsec += (long)(ns % 1000000000);
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&dog.lock);
    int rc = 0;
    while (!dog.stop && rc == 0)
        rc = pthread_cond_timedwait(&dog.cond, &dog.lock, &until);
    bool fired = !dog.stop;
    pthread_mutex_unlock(&dog.lock);
    if (fired) {
        fprintf(stderr, "*** HANG: %s did not finish within %.0f ms ***\n", dog.what, dog.ms);
        fflush(stderr);
        _exit(99);
    }
    return NULL;
}

void vm_watchdog_start(double ms, const char *what)
{
    cr_assert(!dog.running, "watchdog already running");
    dog.ms = ms;
    dog.stop = false;
    snprintf(dog.what, sizeof dog.what, "%s", what);
    cr_assert_eq(pthread_create(&dog.thread, NULL, watch, NULL), 0);
    dog.running = true;
}

void vm_watchdog_stop(void)
{
    if (!dog.running)
        return;
    pthread_mutex_lock(&dog.lock);
    dog.stop = true;
    pthread_cond_signal(&dog.cond);
    pthread_mutex_unlock(&dog.lock);
    pthread_join(dog.thread, NULL);
    dog.running = false;
}

double vm_spin_loops_per_ms(glint_sandbox *types_sb)
{
    static double per_ms;
    if (per_ms > 0)
        return per_ms;
    double best = 1e30;
    const uint64_t n = 2000000;
    for (int i = 0; i < 5; i++) {
        glint_value a = glint_u64(n), r;
        double t0 = vm_now_ms();
        int rc = glint_sandbox_call(types_sb, "SpinLoops", &a, 1, &r);
        double ms = vm_now_ms() - t0;
        cr_assert_eq(rc, 0, "SpinLoops: %s", glint_errmsg());
        cr_assert_eq(r.as.u64, n);
        if (ms < best)
            best = ms;
    }
    per_ms = (double)n / (best > 0.001 ? best : 0.001);
    return per_ms;
}

void vm_go_hot(glint_sandbox *s, uint32_t max_spin_us)
{
    glint_hot_config hc;
    glint_hot_config_init(&hc);
    if (max_spin_us)
        hc.max_spin_us = max_spin_us;
    int rc = glint_sandbox_set_hot(s, &hc);
    if (rc == GLINT_EBUSY && vm_contains(glint_errmsg(), "hot mode refused"))
        cr_skip_test("hot mode not admitted here: %s", glint_errmsg());
    cr_assert_eq(rc, 0, "set_hot: %s", glint_errmsg());
    glint_hot_status st;
    glint_sandbox_hot_status(s, &st);
    cr_assert(st.active, "hot mode set but not active: %s", st.reason);
}

uint64_t vm_budget_threshold(glint_sandbox *sb, const char *src, const char *want, uint64_t from,
                             uint64_t to, uint64_t step)
{
    uint64_t first_ok = 0;
    for (uint64_t b = from; b <= to; b += step) {
        int outcome = -1;
        for (int run = 0; run < 3; run++) {
            cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
            cr_assert_eq(glint_sandbox_set_budget(sb, b), 0, "%s", glint_errmsg());
            glint_value a = glint_string(src), r;
            int rc = glint_sandbox_call(sb, "Eval", &a, 1, &r);
            cr_assert(rc == 0 || rc == GLINT_EBUDGET, "budget %llu: %s", (unsigned long long)b,
                      glint_errmsg());
            if (rc == 0)
                cr_assert_str_eq(r.as.str.ptr, want);
            if (outcome < 0)
                outcome = rc == 0;
            cr_assert_eq(outcome, rc == 0, "budget %llu: run %d differs", (unsigned long long)b,
                         run);
        }
        if (outcome == 1 && !first_ok)
            first_ok = b;
        cr_assert(!(first_ok && outcome == 0), "budget %llu fails above a passing one",
                  (unsigned long long)b);
    }
    return first_ok;
}
