/* VM tests: guest calls to host functions, registries per image and per sandbox, print capture. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define BUF_SIZE   (16 * 1024)
#define MAX_STRING (BUF_SIZE - 16 - 8 - 1)

static struct vm_capture cap;
static glint_host_fns *fns;
static glint_image *img;
static glint_sandbox *sb;

static void setup(void)
{
    vm_require_kvm();
    vm_capture_init(&cap);
    fns = vm_host_fns(&cap);
    img = vm_load_test("types", NULL, fns);
    sb = vm_sandbox(img, NULL);
}

static void teardown(void)
{
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
    sb = NULL;
    img = NULL;
    fns = NULL;
}

TestSuite(vm_host, .init = setup, .fini = teardown, .timeout = 60);

static int call_host(glint_sandbox *s, const char *name, int64_t a, int64_t b, int64_t *out)
{
    glint_value args[3] = {glint_string(name), glint_i64(a), glint_i64(b)}, r;
    int rc = glint_sandbox_call(s, "CallHost", args, 3, &r);
    if (rc == 0) {
        cr_assert_eq(r.type, GLINT_I64);
        *out = r.as.i64;
    }
    return rc;
}

Test(vm_host, call_host_add)
{
    int64_t r = 0;
    cr_assert_eq(call_host(sb, "HostAdd", 40, 2, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r, 42);
    cr_assert_eq(call_host(sb, "HostAdd", INT64_MAX, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r, INT64_MIN);
    cr_assert_eq(call_host(sb, "HostSub", -5, 10, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r, -15);
    for (int64_t i = 0; i < 500; i++) {
        cr_assert_eq(call_host(sb, "HostAdd", i, i * 3, &r), 0, "%s", glint_errmsg());
        cr_assert_eq(r, 4 * i);
    }
}

Test(vm_host, unregistered_function_is_guest_error)
{
    int64_t r;
    int rc = call_host(sb, "NotRegistered", 1, 2, &r);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert_eq(f.guest_code, 8);
    cr_assert(vm_contains(f.message, "NotRegistered"), "%s", f.message);
    cr_assert(!glint_sandbox_poisoned(sb));
    cr_assert_eq(call_host(sb, "HostAdd", 1, 2, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r, 3);
}

/* A name the guest library refuses to send ('-' is not allowed): still just an error. */
Test(vm_host, invalid_name_is_guest_error)
{
    int64_t r;
    int rc = call_host(sb, "bad-name", 1, 2, &r);
    vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    char longname[80];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    rc = call_host(sb, longname, 1, 2, &r);
    vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert_eq(call_host(sb, "HostAdd", 1, 2, &r), 0, "%s", glint_errmsg());
}

Test(vm_host, wrong_signature_is_guest_error)
{
    glint_value r;
    int rc = glint_sandbox_call(sb, "CallHostWrongSig", NULL, 0, &r);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert_eq(f.guest_code, 9);
    cr_assert(vm_contains(f.message, "HostAdd"), "%s", f.message);
    cr_assert(vm_contains(f.message, "signature"), "%s", f.message);
    cr_assert(!glint_sandbox_poisoned(sb));
    /* Right name, right arity, wrong argument types: HostUpper(i64, i64). */
    int64_t v;
    rc = call_host(sb, "HostUpper", 1, 2, &v);
    f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "HostUpper"), "%s", f.message);
    /* print called as (i64, i64) -> i64. */
    rc = call_host(sb, "print", 1, 2, &v);
    vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert_eq(cap.prints, 0);
}

Test(vm_host, host_function_error_is_guest_error)
{
    int64_t r;
    int rc = call_host(sb, "HostFail", 1, 2, &r);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "HostFail"), "%s", f.message);
    cr_assert(vm_contains(f.message, "-3"), "%s", f.message);
    cr_assert(!glint_sandbox_poisoned(sb));
    cr_assert_eq(call_host(sb, "HostAdd", 2, 2, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r, 4);
}

Test(vm_host, string_result_returned_directly)
{
    glint_value arg = glint_string("hello, Host!"), r;
    int rc = glint_sandbox_call(sb, "CallHostString", &arg, 1, &r);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    cr_assert_eq(r.type, GLINT_STRING);
    cr_assert_str_eq(r.as.str.ptr, "HELLO, HOST!");
    cr_assert_eq(r.as.str.len, 12);
    arg = glint_string("");
    cr_assert_eq(glint_sandbox_call(sb, "CallHostString", &arg, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.str.len, 0);
    cr_assert_str_eq(r.as.str.ptr, "");
}

/* The request carries the name too: header 16 + "HostUpper\0" padded to 16 + value header 8 +
 * string and NUL padded to 8 must fit the output buffer, so 16343 bytes is the largest argument
 * CallHostString can pass; the reply (header 16 + 8 + 16344) fits, and so does the RESULT that
 * returns it in place. One byte more and the guest library refuses to send the request. */
#define MAX_HOSTCALL_STRING (BUF_SIZE - 16 - 16 - 8 - 1)

Test(vm_host, string_argument_at_host_call_limit)
{
    char *s = malloc(MAX_HOSTCALL_STRING + 2);
    for (size_t i = 0; i < MAX_HOSTCALL_STRING + 1; i++)
        s[i] = (char)('a' + i % 26);
    glint_value arg = glint_string_n(s, MAX_HOSTCALL_STRING), r;
    int rc = glint_sandbox_call(sb, "CallHostString", &arg, 1, &r);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.str.len, MAX_HOSTCALL_STRING);
    for (size_t i = 0; i < MAX_HOSTCALL_STRING; i++)
        cr_assert_eq(r.as.str.ptr[i], (char)('A' + i % 26), "byte %zu", i);
    cr_assert_eq(r.as.str.ptr[MAX_HOSTCALL_STRING], 0);
    arg = glint_string_n(s, MAX_HOSTCALL_STRING + 1);
    rc = glint_sandbox_call(sb, "CallHostString", &arg, 1, &r);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "does not fit"), "%s", f.message);
    cr_assert(!glint_sandbox_poisoned(sb));
    free(s);
}

/* ---- host functions with odd results, in a per-sandbox registry ----------------------- */

struct big {
    size_t len;
    int mode; /* 0 ok string, 1 wrong type, 2 invalid UTF-8, 3 NULL with length */
    int calls;
};

static int big_upper(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)args;
    (void)nargs;
    struct big *b = user;
    b->calls++;
    if (b->mode == 1) {
        ret->type = GLINT_I64;
        ret->as.i64 = 5;
        return 0;
    }
    if (b->mode == 3) {
        ret->as.str.ptr = NULL;
        ret->as.str.len = 5;
        return 0;
    }
    char *s = malloc(b->len + 1);
    memset(s, b->mode == 2 ? 0xff : 'B', b->len);
    s[b->len] = 0;
    ret->as.str.ptr = s;
    ret->as.str.len = b->len;
    ret->flags = GLINT_VALUE_FREE;
    return 0;
}

static glint_host_fns *big_fns(struct big *b)
{
    glint_host_fns *f;
    cr_assert_eq(glint_host_fns_create(&f), 0);
    static const glint_type s[] = {GLINT_STRING};
    cr_assert_eq(glint_host_fns_add(f, "HostUpper", GLINT_STRING, s, 1, big_upper, b), 0, "%s",
                 glint_errmsg());
    return f;
}

Test(vm_host, host_results_too_big_or_bad)
{
    struct big b = {.len = MAX_STRING, .mode = 0};
    glint_host_fns *f = big_fns(&b);
    glint_sandbox *s = vm_sandbox(img, f);
    glint_value arg = glint_string("x"), r;
    cr_assert_eq(glint_sandbox_call(s, "CallHostString", &arg, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.str.len, MAX_STRING);
    const size_t too_big[] = {MAX_STRING + 1, BUF_SIZE, 100000};
    for (size_t i = 0; i < sizeof too_big / sizeof too_big[0]; i++) {
        b.len = too_big[i];
        int rc = glint_sandbox_call(s, "CallHostString", &arg, 1, &r);
        glint_failure fl = vm_expect_failure(s, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
        cr_assert(vm_contains(fl.message, "HostUpper"), "%s", fl.message);
    }
    for (int mode = 1; mode <= 3; mode++) {
        b.mode = mode;
        b.len = 10;
        int rc = glint_sandbox_call(s, "CallHostString", &arg, 1, &r);
        glint_failure fl = vm_expect_failure(s, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
        cr_assert(vm_contains(fl.message, "HostUpper"), "mode %d: %s", mode, fl.message);
    }
    b.mode = 0;
    b.len = 3;
    cr_assert_eq(glint_sandbox_call(s, "CallHostString", &arg, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_str_eq(r.as.str.ptr, "BBB");
    cr_assert_eq(b.calls, 8);
    glint_sandbox_destroy(s);
    glint_host_fns_destroy(f);
}

static int mul(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)nargs;
    (*(int *)user)++;
    ret->as.i64 = args[0].as.i64 * args[1].as.i64;
    return 0;
}

Test(vm_host, per_sandbox_registry_overrides_image)
{
    int calls = 0;
    glint_host_fns *own = vm_host_fns_one("HostAdd", mul, &calls);
    struct vm_capture own_cap;
    vm_capture_init(&own_cap);
    cr_assert_eq(glint_host_fns_set_print(own, vm_capture_print, &own_cap), 0);
    glint_sandbox *s = vm_sandbox(img, own);
    /* The caller's registry is copied: changing it afterwards changes nothing. */
    static const glint_type ii[] = {GLINT_I64, GLINT_I64};
    cr_assert_eq(glint_host_fns_add(own, "HostSub", GLINT_I64, ii, 2, mul, &calls), 0);
    glint_host_fns_destroy(own);

    int64_t r;
    cr_assert_eq(call_host(s, "HostAdd", 6, 7, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r, 42, "per-sandbox HostAdd multiplies");
    cr_assert_eq(calls, 1);
    /* Only the sandbox's own functions exist for it. */
    int rc = call_host(s, "HostSub", 6, 7, &r);
    vm_expect_failure(s, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    /* Print goes to the sandbox's own handler. */
    glint_value n = glint_u32(2);
    cr_assert_eq(glint_sandbox_call(s, "PrintMany", &n, 1, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(own_cap.text, "line 0\nline 1\n");
    cr_assert_eq(cap.prints, 0);
    /* The image's sandboxes are unaffected. */
    cr_assert_eq(call_host(sb, "HostAdd", 6, 7, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r, 13);
    cr_assert_eq(calls, 1);
    glint_sandbox_destroy(s);
}

/* The image copies the registry: later changes to the caller's registry have no effect. */
Test(vm_host, image_copies_registry)
{
    static const glint_type ii[] = {GLINT_I64, GLINT_I64};
    int calls = 0;
    cr_assert_eq(glint_host_fns_add(fns, "LateAdded", GLINT_I64, ii, 2, mul, &calls), 0);
    int64_t r;
    int rc = call_host(sb, "LateAdded", 2, 3, &r);
    vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert_eq(calls, 0);
    /* Duplicate names are refused. */
    cr_assert_eq(glint_host_fns_add(fns, "HostAdd", GLINT_I64, ii, 2, mul, &calls), GLINT_EEXIST);
}

Test(vm_host, print_is_captured)
{
    glint_value n = glint_u32(100);
    cr_assert_eq(glint_sandbox_call(sb, "PrintMany", &n, 1, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(cap.prints, 100);
    char want[2048];
    size_t k = 0;
    for (int i = 0; i < 100; i++)
        k += (size_t)snprintf(want + k, sizeof want - k, "line %d\n", i);
    cr_assert_str_eq(cap.text, want);
    /* print from the example guest too. */
    glint_image *hello = vm_load_example("hello", NULL, fns);
    glint_sandbox *s = vm_sandbox(hello, NULL);
    glint_value who = glint_string("tester");
    cr_assert_eq(glint_sandbox_call(s, "Greet", &who, 1, NULL), 0, "%s", glint_errmsg());
    cr_assert(vm_contains(cap.text, "Hello, tester, from inside the sandbox!\n"), "%s", cap.text);
    glint_sandbox_destroy(s);
    glint_image_destroy(hello);
}

Test(vm_host, print_discarded_with_null_handler)
{
    glint_host_fns *quiet = vm_host_fns(NULL);
    glint_sandbox *s = vm_sandbox(img, quiet);
    glint_host_fns_destroy(quiet);
    glint_value n = glint_u32(10);
    cr_assert_eq(glint_sandbox_call(s, "PrintMany", &n, 1, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(cap.prints, 0);
    glint_sandbox_destroy(s);
}

/* The example guest's MultiplyOnHost needs "Multiply"; without it, a guest error. */
static int multiply(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    ret->as.i64 = args[0].as.i64 * args[1].as.i64;
    return 0;
}

Test(vm_host, example_multiply_on_host)
{
    glint_image *hello = vm_load_example("hello", NULL, NULL);
    glint_sandbox *s = vm_sandbox(hello, NULL);
    glint_value args[2] = {glint_i64(6), glint_i64(-7)}, r;
    int rc = glint_sandbox_call(s, "MultiplyOnHost", args, 2, &r);
    glint_failure f = vm_expect_failure(s, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "Multiply"), "%s", f.message);
    glint_sandbox_destroy(s);

    glint_host_fns *m = vm_host_fns_one("Multiply", multiply, NULL);
    s = vm_sandbox(hello, m);
    glint_host_fns_destroy(m);
    cr_assert_eq(glint_sandbox_call(s, "MultiplyOnHost", args, 2, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.i64, -42);
    glint_sandbox_destroy(s);
    glint_image_destroy(hello);
}

Test(vm_host, registry_api_rejects_bad_input)
{
    static const glint_type ii[] = {GLINT_I64, GLINT_I64};
    static const glint_type v[] = {GLINT_VOID};
    cr_assert_eq(glint_host_fns_add(fns, "bad name", GLINT_I64, ii, 2, mul, NULL), GLINT_EINVAL);
    cr_assert_eq(glint_host_fns_add(fns, "", GLINT_I64, ii, 2, mul, NULL), GLINT_EINVAL);
    cr_assert_eq(glint_host_fns_add(fns, "NoFn", GLINT_I64, ii, 2, NULL, NULL), GLINT_EINVAL);
    cr_assert_eq(glint_host_fns_add(fns, "VoidParam", GLINT_I64, v, 1, mul, NULL), GLINT_EINVAL);
    cr_assert_eq(glint_host_fns_add(fns, "TooMany", GLINT_I64, ii, 17, mul, NULL), GLINT_EINVAL);
    cr_assert_eq(glint_host_fns_add(fns, "BadRet", (glint_type)99, ii, 2, mul, NULL), GLINT_EINVAL);
    cr_assert_eq(glint_host_fns_add(fns, "print", GLINT_VOID, NULL, 0, mul, NULL), GLINT_EEXIST);
}
