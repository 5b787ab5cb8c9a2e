/* VM tests that nothing of one call survives restore: host-written guest memory, host buffers,
 * seeds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "whitebox.h"

#define MARK "TENANT-A-SECRET:"

/* A string of n bytes made of MARK repeated (n >= sizeof MARK). */
static char *secret_text(size_t n)
{
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = MARK[i % (sizeof MARK - 1)];
    s[n] = 0;
    return s;
}

/* The first page at which the sandbox's memory differs from want, or -1. */
static long first_difference(const glint_sandbox *sb, const uint8_t *want)
{
    for (uint64_t off = 0; off < sb->mem_size; off += 4096)
        if (memcmp(sb->mem + off, want + off, 4096) != 0)
            return (long)off;
    return -1;
}

/* ---- host functions for CallHost -------------------------------------------------- */

static int host_echo(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    char *s = malloc(args[0].as.str.len + 1);
    if (!s)
        return -2;
    memcpy(s, args[0].as.str.ptr, args[0].as.str.len + 1);
    ret->as.str.ptr = s;
    ret->as.str.len = args[0].as.str.len;
    ret->flags = GLINT_VALUE_FREE;
    return 0;
}

static int host_err(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)args;
    (void)nargs;
    (void)ret;
    return -1;
}

static int host_bad_utf8(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)args;
    (void)nargs;
    ret->as.str.ptr = "ok so far \xff\xfe";
    ret->as.str.len = strlen(ret->as.str.ptr);
    return 0;
}

/* A valid string as long as the whole output buffer: passes the length
 * check, but cannot fit with the message headers. */
static char too_big[16 << 10];

static int host_too_big(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)args;
    (void)nargs;
    ret->as.str.ptr = too_big;
    ret->as.str.len = sizeof too_big;
    return 0;
}

static int host_wrong_type(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    ret->type = GLINT_BYTES;
    ret->as.bytes.ptr = args[0].as.str.ptr;
    ret->as.bytes.len = args[0].as.str.len;
    return 0;
}

/* 1 MiB, above malloc's mmap threshold: each leak shows in mallinfo2(). */
#define BIG_RESULT (1u << 20)

static int host_free_then_fail(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)args;
    (void)nargs;
    char *p = malloc(BIG_RESULT);
    if (!p)
        return -2;
    memset(p, 'a', BIG_RESULT);
    ret->as.str.ptr = p;
    ret->as.str.len = BIG_RESULT;
    ret->flags = GLINT_VALUE_FREE;
    if (user) /* the wrong-type variant */
        ret->type = GLINT_BYTES;
    return user ? 0 : -1;
}

static glint_host_fns *leak_fns(void)
{
    memset(too_big, 'z', sizeof too_big);
    glint_host_fns *fns = NULL;
    cr_assert_eq(glint_host_fns_create(&fns), 0, "%s", glint_errmsg());
    static const glint_type s[] = {GLINT_STRING};
    static int wrong = 1;
    struct {
        const char *name;
        glint_host_fn fn;
        void *user;
    } tab[] = {
        {"HostEcho", host_echo, NULL},
        {"HostErr", host_err, NULL},
        {"HostBadUtf8", host_bad_utf8, NULL},
        {"HostTooBig", host_too_big, NULL},
        {"HostWrongType", host_wrong_type, NULL},
        {"HostFreeThenFail", host_free_then_fail, NULL},
        {"HostFreeWrongType", host_free_then_fail, &wrong},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        cr_assert_eq(
            glint_host_fns_add(fns, tab[i].name, GLINT_STRING, s, 1, tab[i].fn, tab[i].user), 0,
            "%s", glint_errmsg());
    cr_assert_eq(glint_host_fns_set_print(fns, NULL, NULL), 0);
    return fns;
}

/* ---- every kind of call outcome ------------------------------------------------------ */

struct interrupter {
    glint_sandbox *sb;
    atomic_bool stop;
};

static void *interrupt_until_stopped(void *arg)
{
    struct interrupter *it = arg;
    while (!atomic_load(&it->stop)) {
        glint_sandbox_interrupt(it->sb);
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    return NULL;
}

static int call_interrupted(glint_sandbox *sb)
{
    struct interrupter it = {.sb = sb};
    atomic_init(&it.stop, false);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, interrupt_until_stopped, &it), 0);
    glint_sandbox_set_timeout(sb, 0);
    int rc = glint_sandbox_call(sb, "Spin", NULL, 0, NULL);
    atomic_store(&it.stop, true);
    pthread_join(t, NULL);
    return rc;
}

enum outcome {
    OK_CALL,
    WRONG_COUNT,
    WRONG_TYPE_ARG2,
    BAD_UTF8_ARG2,
    TOO_BIG_TOTAL,
    TOO_BIG_ARG2,
    UNKNOWN_FUNCTION,
    GUEST_ERROR,
    ABORT,
    FAULT,
    TIMEOUT,
    INTERRUPT,
    PROTOCOL,
    HOST_OK,
    HOST_ERROR,
    HOST_BAD_VALUE,
    HOST_TOO_BIG,
    HOST_WRONG_TYPE,
    HOST_UNKNOWN,
    OUTCOMES
};

static const char *const outcome_names[] = {
    "success",
    "wrong argument count",
    "wrong type at 2",
    "invalid UTF-8 at 2",
    "too big in total",
    "argument 2 too big",
    "unknown function",
    "guest error",
    "abort",
    "fault",
    "timeout",
    "interrupt",
    "protocol error",
    "host call success",
    "host fn error",
    "host fn bad value",
    "host fn too big",
    "host fn wrong type",
    "unknown host fn",
};

/* Make a call ending in outcome o, with a secret of several pages as its
 * first argument where it has one; assert it ended as intended. */
static void do_outcome(glint_sandbox *sb, enum outcome o)
{
    char *secret = secret_text(10 << 10); /* 10 KiB of the 16 KiB input buffer */
    char *big = secret_text(8 << 10), *huge = secret_text(17 << 10);
    glint_value s = glint_string(secret), a[2] = {s, glint_string("x")};
    int rc, want = 0;
    glint_failure_kind kind = GLINT_FAIL_NONE;
    const char *fn = NULL;
    switch (o) {
    case OK_CALL:
        rc = glint_sandbox_call(sb, "TakeTwo", a, 2, NULL);
        break;
    case WRONG_COUNT:
        rc = glint_sandbox_call(sb, "TakeTwo", a, 1, NULL);
        want = GLINT_ESIG, kind = GLINT_FAIL_USAGE;
        break;
    case WRONG_TYPE_ARG2:
        a[1] = glint_u64(42);
        rc = glint_sandbox_call(sb, "TakeTwo", a, 2, NULL);
        want = GLINT_ESIG, kind = GLINT_FAIL_USAGE;
        break;
    case BAD_UTF8_ARG2:
        a[1] = glint_string("bad \xff\xfe");
        rc = glint_sandbox_call(sb, "TakeTwo", a, 2, NULL);
        want = GLINT_EINVAL, kind = GLINT_FAIL_USAGE;
        break;
    case TOO_BIG_TOTAL:
        a[1] = glint_string(big);
        rc = glint_sandbox_call(sb, "TakeTwo", a, 2, NULL);
        want = GLINT_ETOOBIG, kind = GLINT_FAIL_USAGE;
        break;
    case TOO_BIG_ARG2:
        a[1] = glint_string(huge);
        rc = glint_sandbox_call(sb, "TakeTwo", a, 2, NULL);
        want = GLINT_ETOOBIG, kind = GLINT_FAIL_USAGE;
        break;
    case UNKNOWN_FUNCTION:
        rc = glint_sandbox_call(sb, "NoSuchFunction", a, 2, NULL);
        want = GLINT_ENOFUNC, kind = GLINT_FAIL_USAGE;
        break;
    case GUEST_ERROR:
        rc = glint_sandbox_call(sb, "Fail", &s, 1, NULL);
        want = GLINT_EGUEST, kind = GLINT_FAIL_GUEST_ERROR;
        break;
    case ABORT:
        rc = glint_sandbox_call(sb, "Abort", &s, 1, NULL);
        want = GLINT_EABORT, kind = GLINT_FAIL_ABORT;
        break;
    case FAULT: {
        glint_value seed = glint_u64(77);
        rc = glint_sandbox_call(sb, "ScribbleThenFault", &seed, 1, NULL);
        want = GLINT_EFAULT, kind = GLINT_FAIL_FAULT;
        break;
    }
    case TIMEOUT:
        glint_sandbox_set_timeout(sb, 50);
        rc = glint_sandbox_call(sb, "Spin", NULL, 0, NULL);
        want = GLINT_ETIMEDOUT, kind = GLINT_FAIL_TIMEOUT;
        break;
    case INTERRUPT:
        rc = call_interrupted(sb);
        want = GLINT_EINTR, kind = GLINT_FAIL_INTERRUPTED;
        break;
    case PROTOCOL:
        rc = glint_sandbox_call(sb, "BadResult", &s, 1, NULL);
        want = GLINT_EPROTO, kind = GLINT_FAIL_PROTOCOL;
        break;
    case HOST_OK:
        fn = "HostEcho";
        break;
    case HOST_ERROR:
        fn = "HostErr";
        break;
    case HOST_BAD_VALUE:
        fn = "HostBadUtf8";
        break;
    case HOST_TOO_BIG:
        fn = "HostTooBig";
        break;
    case HOST_WRONG_TYPE:
        fn = "HostWrongType";
        break;
    case HOST_UNKNOWN:
        fn = "NoSuchHostFunction";
        break;
    default:
        cr_assert_fail("no outcome %d", o);
    }
    if (fn) {
        glint_value h[2] = {glint_string(fn), s}, r;
        rc = glint_sandbox_call(sb, "CallHost", h, 2, &r);
        if (o != HOST_OK)
            want = GLINT_EGUEST, kind = GLINT_FAIL_GUEST_ERROR;
        else if (rc == 0)
            cr_assert_str_eq(r.as.str.ptr, secret, "HostEcho round trip");
    }
    glint_sandbox_set_timeout(sb, 10000);
    if (want)
        vm_expect_failure(sb, rc, want, kind);
    else
        cr_assert_eq(rc, 0, "%s: %s", outcome_names[o], glint_errmsg());
    free(secret);
    free(big);
    free(huge);
}

/* Replace a sandbox whose memory is known to be wrong. */
static glint_sandbox *fresh(glint_sandbox *sb, glint_image *img)
{
    glint_sandbox_destroy(sb);
    sb = vm_sandbox(img, NULL);
    glint_sandbox_set_timeout(sb, 10000);
    return sb;
}

static glint_image *leak_image(glint_host_fns **fns)
{
    *fns = leak_fns();
    return vm_load_test("isolation", NULL, *fns);
}

Test(vm_leak, every_outcome_then_restore_to_image_is_exact, .timeout = 120)
{
    vm_require_kvm();
    glint_host_fns *fns;
    glint_image *img = leak_image(&fns);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_sandbox_set_timeout(sb, 10000);
    for (int o = 0; o < OUTCOMES; o++) {
        do_outcome(sb, (enum outcome)o);
        cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s: restore: %s", outcome_names[o],
                     glint_errmsg());
        long off = first_difference(sb, img->mem);
        cr_expect_eq(off, -1, "after '%s' + restore, guest memory differs from the image at 0x%lx",
                     outcome_names[o], off);
        cr_expect_null(memmem(sb->mem, sb->mem_size, MARK, sizeof MARK - 1),
                       "after '%s' + restore, the secret is still in guest memory",
                       outcome_names[o]);
        if (off != -1) /* report each outcome on its own: start the next one clean */
            sb = fresh(sb, img);
    }
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

Test(vm_leak, every_outcome_then_restore_to_snapshot_is_exact, .timeout = 120)
{
    vm_require_kvm();
    glint_host_fns *fns;
    glint_image *img = leak_image(&fns);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_sandbox_set_timeout(sb, 10000);
    uint8_t *copy = malloc(sb->mem_size);
    cr_assert_not_null(copy);
    for (int o = 0; o < OUTCOMES; o++) {
        /* A snapshot that differs from the image in guest- and host-written pages. */
        glint_value st = glint_string("snapshot state"), dp[2] = {glint_u32(3), glint_u64(o + 1)};
        cr_assert_eq(glint_sandbox_call(sb, "StoreSecret", &st, 1, NULL), 0, "%s", glint_errmsg());
        cr_assert_eq(glint_sandbox_call(sb, "DirtyPages", dp, 2, NULL), 0, "%s", glint_errmsg());
        glint_snapshot *snap;
        cr_assert_eq(glint_sandbox_snapshot(sb, &snap), 0, "%s", glint_errmsg());
        memcpy(copy, sb->mem, sb->mem_size);

        do_outcome(sb, (enum outcome)o);
        cr_assert_eq(glint_sandbox_restore(sb, snap), 0, "%s: restore: %s", outcome_names[o],
                     glint_errmsg());
        long off = first_difference(sb, copy);
        cr_expect_eq(off, -1,
                     "after '%s' + restore, guest memory differs from the snapshot at 0x%lx",
                     outcome_names[o], off);
        if (off == -1) {
            /* And the same outcome once more, now from the restored snapshot. */
            do_outcome(sb, (enum outcome)o);
            cr_assert_eq(glint_sandbox_restore(sb, snap), 0, "%s", glint_errmsg());
            off = first_difference(sb, copy);
            cr_expect_eq(off, -1, "after '%s' twice, memory differs from the snapshot at 0x%lx",
                         outcome_names[o], off);
        }
        if (off == -1) {
            cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
            off = first_difference(sb, img->mem);
            cr_expect_eq(off, -1,
                         "after '%s', snapshot, image: memory differs from the image at 0x%lx",
                         outcome_names[o], off);
        }
        if (off != -1)
            sb = fresh(sb, img);
        glint_snapshot_destroy(snap);
    }
    free(copy);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

Test(vm_leak, failed_pool_call_arguments_never_reach_the_next_call, .timeout = 60)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_pool_config cfg;
    glint_pool_config_init(&cfg);
    cfg.size = 1; /* every call gets the same sandbox */
    glint_pool *pool;
    cr_assert_eq(glint_pool_create(img, NULL, &cfg, &pool), 0, "%s", glint_errmsg());
    char *secret = secret_text(10 << 10), *huge = secret_text(17 << 10);
    glint_value bad[][2] = {
        {glint_string(secret), glint_u64(1)},
        {glint_string(secret), glint_string("\xc3(")},
        {glint_string(secret), glint_string(huge)},
    };
    const int want[] = {GLINT_ESIG, GLINT_EINVAL, GLINT_ETOOBIG};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        glint_failure f;
        int rc = glint_pool_call(pool, "TakeTwo", bad[i], 2, NULL, &f);
        cr_assert_eq(rc, want[i], "bad call %zu: %s", i, glint_errmsg());
        glint_value r;
        rc = glint_pool_call(pool, "RawInput", NULL, 0, &r, &f);
        cr_assert_eq(rc, 0, "RawInput: %s", glint_errmsg());
        cr_assert_eq(r.type, GLINT_BYTES);
        cr_assert_gt(r.as.bytes.len, 1024u);
        cr_assert_null(memmem(r.as.bytes.ptr, r.as.bytes.len, MARK, sizeof MARK - 1),
                       "the next tenant read failed call %zu's first argument", i);
    }
    free(secret);
    free(huge);
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* ---- host buffers handed over with GLINT_VALUE_FREE --------------------------------- */

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

Test(vm_leak, value_free_result_is_freed_on_error_and_wrong_type, .timeout = 60)
{
    vm_require_kvm();
    /* A fixed threshold: 1 MiB blocks stay mmap'd chunks, counted in hblkhd. */
    mallopt(M_MMAP_THRESHOLD, 128 << 10);
    glint_host_fns *fns;
    glint_image *img = leak_image(&fns);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    const char *names[] = {"HostFreeThenFail", "HostFreeWrongType"};
    for (size_t k = 0; k < 2; k++) {
        glint_value h[2] = {glint_string(names[k]), glint_string("x")};
        /* Warm up once: the first call may allocate lasting state. */
        vm_expect_failure(sb, glint_sandbox_call(sb, "CallHost", h, 2, NULL), GLINT_EGUEST,
                          GLINT_FAIL_GUEST_ERROR);
        size_t base = heap_in_use();
        for (int i = 0; i < 64; i++)
            vm_expect_failure(sb, glint_sandbox_call(sb, "CallHost", h, 2, NULL), GLINT_EGUEST,
                              GLINT_FAIL_GUEST_ERROR);
        size_t now = heap_in_use();
        cr_assert_lt(now, base + BIG_RESULT,
                     "%s: heap grew by %zu bytes over 64 calls (a %u-byte result leaks each time)",
                     names[k], now - base, BIG_RESULT);
    }
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

/* ---- the guest-visible seed ------------------------------------------------------------- */

/* In a child: getrandom fails with ENOSYS; loading an image must fail and
 * say why instead of deriving the seed from something the guest must not
 * learn. Exit 0 if so. */
static int load_without_getrandom(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(getrandom), 0) != 0 ||
        seccomp_load(ctx) != 0)
        return 10;
    seccomp_release(ctx);
    char path[4096];
    vm_test_guest_path(path, sizeof path, "isolation");
    glint_image *img = NULL;
    int rc = glint_image_load_file(path, NULL, NULL, &img);
    if (rc == 0) {
        glint_image_destroy(img);
        return 1; /* loaded with a seed that is not random */
    }
    if (!strstr(glint_errmsg(), "getrandom"))
        return 2;
    return img ? 3 : 0;
}

Test(vm_leak, image_load_fails_when_getrandom_fails, .timeout = 60)
{
    vm_require_kvm();
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(load_without_getrandom());
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died (status 0x%x)", status);
    int code = WEXITSTATUS(status);
    cr_assert_neq(code, 10, "could not install the seccomp filter");
    cr_assert_neq(code, 1, "image loaded although getrandom failed (seed not random)");
    cr_assert_neq(code, 2, "load failed, but its error does not name getrandom");
    cr_assert_eq(code, 0, "child exit code %d", code);
}
