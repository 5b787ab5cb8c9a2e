/* VM tests: value round trips, buffer limits, many parameters, usage errors, guest errors, state.
 */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* Default 16 KiB input/output buffers: message header 16 + value header 8 + payload padded to
 * 8 (a string keeps one NUL in its padding), so the largest single string argument or result
 * is 16384 - 24 - 1 = 16359 bytes and the largest bytes value 16360. */
#define BUF_SIZE   (16 * 1024)
#define MAX_STRING (BUF_SIZE - 16 - 8 - 1)
#define MAX_BYTES  (BUF_SIZE - 16 - 8)

static glint_image *img;
static glint_sandbox *sb;

static void setup(void)
{
    vm_open("types", NULL, NULL, &img, &sb);
}

static void teardown(void)
{
    vm_close(&img, &sb);
}

TestSuite(vm_values, .init = setup, .fini = teardown, .timeout = 60);

/* Call fn(arg) and return the result; asserts success and the result type. */
static glint_value call1(const char *fn, glint_value arg, glint_type want)
{
    glint_value r;
    memset(&r, 0xa5, sizeof r);
    int rc = glint_sandbox_call(sb, fn, &arg, 1, &r);
    cr_assert_eq(rc, 0, "%s: %s (%s)", fn, glint_strerror(rc), glint_errmsg());
    cr_assert_eq(r.type, want, "%s returned type %s", fn, glint_type_name(r.type));
    return r;
}

static void usable(void)
{
    glint_value r = call1("EchoI32", glint_i32(-77), GLINT_I32);
    cr_assert_eq(r.as.i32, -77);
    cr_assert(!glint_sandbox_poisoned(sb));
}

/* ---- scalars ----------------------------------------------------------------- */

Test(vm_values, i32)
{
    const int32_t v[] = {0, 1, -1, 42, INT32_MIN, INT32_MAX, INT32_MIN + 1};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        cr_assert_eq(call1("EchoI32", glint_i32(v[i]), GLINT_I32).as.i32, v[i]);
}

Test(vm_values, u32)
{
    const uint32_t v[] = {0, 1, 0x7fffffffu, 0x80000000u, UINT32_MAX, 0xdeadbeefu};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        cr_assert_eq(call1("EchoU32", glint_u32(v[i]), GLINT_U32).as.u32, v[i]);
}

Test(vm_values, i64)
{
    const int64_t v[] = {
        0, 1, -1, INT64_MIN, INT64_MAX, (int64_t)0x123456789abcdefll, -(int64_t)0x100000000ll};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        cr_assert_eq(call1("EchoI64", glint_i64(v[i]), GLINT_I64).as.i64, v[i]);
}

Test(vm_values, u64)
{
    const uint64_t v[] = {
        0, 1, UINT64_MAX, 0x8000000000000000ull, 0xfedcba9876543210ull, 0xffffffffull};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        cr_assert_eq(call1("EchoU64", glint_u64(v[i]), GLINT_U64).as.u64, v[i]);
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double f64_from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Floats must come back bit for bit: -0.0, NaN payloads, signalling NaNs, denormals. */
Test(vm_values, f32_bits_exact)
{
    const uint32_t bits[] = {
        0x00000000u, /* +0 */
        0x80000000u, /* -0 */
        0x3fc00000u, /* 1.5 */
        0x00800000u, /* FLT_MIN */
        0x7f7fffffu, /* FLT_MAX */
        0xff7fffffu, /* -FLT_MAX */
        0x00000001u, /* smallest denormal */
        0x7f800000u, /* +inf */
        0xff800000u, /* -inf */
        0x7fc00000u, /* quiet NaN */
        0xffc12345u, /* negative quiet NaN with payload */
        0x7f800001u, /* signalling NaN */
    };
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        glint_value r = call1("EchoF32", glint_f32(f32_from_bits(bits[i])), GLINT_F32);
        uint32_t got;
        memcpy(&got, &r.as.f32, sizeof got);
        cr_assert_eq(got, bits[i], "f32 0x%08x came back as 0x%08x", bits[i], got);
    }
    glint_value r = call1("EchoF32", glint_f32(-0.0f), GLINT_F32);
    cr_assert(r.as.f32 == 0.0f && signbit(r.as.f32));
    cr_assert(isnan(call1("EchoF32", glint_f32(NAN), GLINT_F32).as.f32));
    cr_assert_eq(call1("EchoF32", glint_f32(FLT_MAX), GLINT_F32).as.f32, FLT_MAX);
}

Test(vm_values, f64_bits_exact)
{
    const uint64_t bits[] = {
        0x0000000000000000ull, 0x8000000000000000ull, 0x3ff8000000000000ull,
        0x0010000000000000ull,                                               /* DBL_MIN */
        0x7fefffffffffffffull,                                               /* DBL_MAX */
        0x0000000000000001ull,                                               /* smallest denormal */
        0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull, /* quiet NaN */
        0xfff8000000abcdefull, /* negative NaN with payload */
        0x7ff0000000000001ull, /* signalling NaN */
    };
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        glint_value r = call1("EchoF64", glint_f64(f64_from_bits(bits[i])), GLINT_F64);
        uint64_t got;
        memcpy(&got, &r.as.f64, sizeof got);
        cr_assert_eq(got, bits[i], "f64 0x%016llx came back as 0x%016llx",
                     (unsigned long long)bits[i], (unsigned long long)got);
    }
    glint_value r = call1("EchoF64", glint_f64(-0.0), GLINT_F64);
    cr_assert(r.as.f64 == 0.0 && signbit(r.as.f64));
    cr_assert(isnan(call1("EchoF64", glint_f64(-NAN), GLINT_F64).as.f64));
    cr_assert_eq(call1("EchoF64", glint_f64(-DBL_MAX), GLINT_F64).as.f64, -DBL_MAX);
}

Test(vm_values, bool)
{
    cr_assert_eq(call1("EchoBool", glint_bool(true), GLINT_BOOL).as.b, true);
    cr_assert_eq(call1("EchoBool", glint_bool(false), GLINT_BOOL).as.b, false);
}

/* ---- strings and bytes -------------------------------------------------------- */

static void echo_string(const char *s, size_t n)
{
    glint_value r = call1("EchoString", glint_string_n(s, n), GLINT_STRING);
    cr_assert_eq(r.as.str.len, n, "length %zu came back as %zu", n, r.as.str.len);
    cr_assert_not_null(r.as.str.ptr);
    cr_assert_eq(memcmp(r.as.str.ptr, s, n), 0, "string of %zu bytes changed", n);
    cr_assert_eq(r.as.str.ptr[n], 0, "string result not NUL-terminated");
}

static void echo_bytes(const void *p, size_t n)
{
    glint_value r = call1("EchoBytes", glint_bytes(p, n), GLINT_BYTES);
    cr_assert_eq(r.as.bytes.len, n, "length %zu came back as %zu", n, r.as.bytes.len);
    if (n)
        cr_assert_eq(memcmp(r.as.bytes.ptr, p, n), 0, "bytes of length %zu changed", n);
}

Test(vm_values, strings)
{
    echo_string("", 0);
    echo_string("a", 1);
    echo_string("hello", 5);
    echo_string("1234567", 7); /* payload + NUL exactly 8 */
    echo_string("12345678", 8);
    const char *utf8 = "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87";
    echo_string(utf8, strlen(utf8));
    char *big = malloc(5000);
    for (size_t i = 0; i < 5000; i++)
        big[i] = (char)('a' + i % 26);
    echo_string(big, 5000);
    free(big);
    /* The guest sees a NUL-terminated string whose strlen is len. */
    glint_value r = call1("StringLen", glint_string("twelve chars"), GLINT_U32);
    cr_assert_eq(r.as.u32, 12);
    r = call1("StringLen", glint_string(""), GLINT_U32);
    cr_assert_eq(r.as.u32, 0);
}

Test(vm_values, empty_string_with_null_pointer)
{
    glint_value r = call1("EchoString", glint_string_n(NULL, 0), GLINT_STRING);
    cr_assert_eq(r.as.str.len, 0);
    cr_assert_not_null(r.as.str.ptr);
    cr_assert_eq(r.as.str.ptr[0], 0);
}

Test(vm_values, bytes)
{
    echo_bytes(NULL, 0);
    echo_bytes("", 0);
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    echo_bytes(all, sizeof all);
    echo_bytes("\0\0\0", 3);
    echo_bytes(all, 1);
    echo_bytes(all + 1, 7);
    echo_bytes(all, 8);
    echo_bytes(all, 9);
}

Test(vm_values, largest_string_that_fits)
{
    char *s = malloc(MAX_STRING + 1);
    memset(s, 's', MAX_STRING + 1);
    echo_string(s, MAX_STRING);
    glint_value arg = glint_string_n(s, MAX_STRING + 1);
    int rc = glint_sandbox_call(sb, "EchoString", &arg, 1, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_ETOOBIG, GLINT_FAIL_USAGE);
    cr_assert(vm_contains(f.message, "input buffer"), "%s", f.message);
    usable();
    echo_string(s, MAX_STRING);
    free(s);
}

Test(vm_values, largest_bytes_that_fit)
{
    uint8_t *p = malloc(MAX_BYTES + 1);
    for (size_t i = 0; i < MAX_BYTES + 1; i++)
        p[i] = (uint8_t)(i * 7);
    echo_bytes(p, MAX_BYTES);
    glint_value arg = glint_bytes(p, MAX_BYTES + 1);
    int rc = glint_sandbox_call(sb, "EchoBytes", &arg, 1, NULL);
    vm_expect_failure(sb, rc, GLINT_ETOOBIG, GLINT_FAIL_USAGE);
    usable();
    echo_bytes(p, MAX_BYTES);
    free(p);
}

/* An argument longer than the whole buffer is the same condition as one byte too many. */
Test(vm_values, argument_longer_than_buffer_is_etoobig)
{
    size_t n = 3 * BUF_SIZE;
    uint8_t *p = calloc(1, n);
    glint_value arg = glint_bytes(p, n);
    int rc = glint_sandbox_call(sb, "EchoBytes", &arg, 1, NULL);
    free(p);
    vm_expect_failure(sb, rc, GLINT_ETOOBIG, GLINT_FAIL_USAGE);
    usable();
}

/* Several arguments: the sum, not each one, must fit. */
Test(vm_values, arguments_together_too_big)
{
    glint_value args[16];
    char *s = malloc(12000);
    memset(s, 'q', 12000);
    args[0] = glint_i32(1);
    args[1] = glint_u32(2);
    args[2] = glint_i64(3);
    args[3] = glint_u64(4);
    args[4] = glint_f32(5);
    args[5] = glint_f64(6);
    args[6] = glint_bool(true);
    args[7] = glint_string_n(s, 2000);
    args[8] = glint_bytes(s, 2000);
    args[9] = glint_i32(10);
    args[10] = glint_u64(11);
    args[11] = glint_string_n(s, 2000);
    args[12] = glint_bool(false);
    args[13] = glint_f64(14);
    args[14] = glint_bytes(s, 12000); /* 16 + 16 * 8 + 18024 > 16384 */
    args[15] = glint_i64(16);
    int rc = glint_sandbox_call(sb, "Mixed16", args, 16, NULL);
    vm_expect_failure(sb, rc, GLINT_ETOOBIG, GLINT_FAIL_USAGE);
    usable();
    free(s);
}

Test(vm_values, result_at_output_limit)
{
    glint_value r = call1("MakeString", glint_u32(MAX_STRING), GLINT_STRING);
    cr_assert_eq(r.as.str.len, MAX_STRING);
    for (size_t i = 0; i < MAX_STRING; i++)
        cr_assert_eq(r.as.str.ptr[i], 'x', "byte %zu", i);
    cr_assert_eq(r.as.str.ptr[MAX_STRING], 0);
    r = call1("MakeBytes", glint_u32(MAX_BYTES), GLINT_BYTES);
    cr_assert_eq(r.as.bytes.len, MAX_BYTES);
    const uint8_t *b = r.as.bytes.ptr;
    for (size_t i = 0; i < MAX_BYTES; i++)
        cr_assert_eq(b[i], (uint8_t)i, "byte %zu", i);
}

Test(vm_values, result_larger_than_output_buffer)
{
    const uint32_t sizes[] = {MAX_STRING + 1, BUF_SIZE, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        glint_value arg = glint_u32(sizes[i]);
        int rc = glint_sandbox_call(sb, "MakeString", &arg, 1, NULL);
        glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
        cr_assert(f.guest_code != 0);
        cr_assert(!glint_sandbox_poisoned(sb));
        usable();
    }
    glint_value arg = glint_u32(MAX_BYTES + 1);
    int rc = glint_sandbox_call(sb, "MakeBytes", &arg, 1, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "does not fit"), "%s", f.message);
    usable();
    /* The heap memory of the failed results was released: a big one still works. */
    for (int i = 0; i < 20; i++)
        cr_assert_eq(call1("MakeString", glint_u32(MAX_STRING), GLINT_STRING).as.str.len,
                     MAX_STRING);
}

/* Result strings are copied out: they survive a later call that fails. */
Test(vm_values, result_survives_failed_call)
{
    glint_value r = call1("EchoString", glint_string("keep me"), GLINT_STRING);
    glint_value arg = glint_i32(3);
    cr_assert_eq(glint_sandbox_call(sb, "ReturnError", &arg, 1, NULL), GLINT_EGUEST);
    cr_assert_str_eq(r.as.str.ptr, "keep me");
}

/* ---- many parameters ---------------------------------------------------------- */

Test(vm_values, sum16)
{
    glint_value args[16];
    int64_t want = 0;
    for (int i = 0; i < 16; i++) {
        int64_t v = (int64_t)(i + 1) * 1000003 * (i % 2 ? -1 : 1) + ((int64_t)i << 40);
        args[i] = glint_i64(v);
        want += v;
    }
    glint_value r;
    int rc = glint_sandbox_call(sb, "Sum16", args, 16, &r);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    cr_assert_eq(r.type, GLINT_I64);
    cr_assert_eq(r.as.i64, want);
}

Test(vm_values, mixed16_order)
{
    const uint8_t b1[] = {0x00, 0xff, 0x10};
    const uint8_t b2[] = {0xab};
    glint_value args[16] = {
        glint_i32(-5),
        glint_u32(4000000000u),
        glint_i64(-9000000000ll),
        glint_u64(18000000000000000000ull),
        glint_f32(1.5f),
        glint_f64(-2.25),
        glint_bool(true),
        glint_string("first"),
        glint_bytes(b1, sizeof b1),
        glint_i32(10),
        glint_u64(11),
        glint_string("sec\xc3\xb6nd"),
        glint_bool(false),
        glint_f64(1e100),
        glint_bytes(b2, sizeof b2),
        glint_i64(INT64_MIN),
    };
    glint_value r;
    int rc = glint_sandbox_call(sb, "Mixed16", args, 16, &r);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    cr_assert_eq(r.type, GLINT_STRING);
    cr_assert_str_eq(r.as.str.ptr, "-5|4000000000|-9000000000|18000000000000000000|1.5|-2.25|1|"
                                   "first|3:00ff10|10|11|sec\xc3\xb6nd|0|1e+100|1:ab|"
                                   "-9223372036854775808");
    cr_assert_eq(r.as.str.len, strlen(r.as.str.ptr));
}

/* ---- usage errors: reported, sandbox unaffected ----------------------------------- */

Test(vm_values, unknown_function)
{
    int rc = glint_sandbox_call(sb, "NoSuchFunction", NULL, 0, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_ENOFUNC, GLINT_FAIL_USAGE);
    cr_assert(vm_contains(f.message, "NoSuchFunction"), "%s", f.message);
    cr_assert(vm_contains(glint_errmsg(), "NoSuchFunction"), "%s", glint_errmsg());
    usable();
    rc = glint_sandbox_call(sb, "", NULL, 0, NULL);
    vm_expect_failure(sb, rc, GLINT_ENOFUNC, GLINT_FAIL_USAGE);
    rc = glint_sandbox_call(sb, "echoi32", NULL, 0, NULL); /* names are case-sensitive */
    vm_expect_failure(sb, rc, GLINT_ENOFUNC, GLINT_FAIL_USAGE);
    rc = glint_sandbox_call_index(sb, 100000, NULL, 0, NULL);
    vm_expect_failure(sb, rc, GLINT_ENOFUNC, GLINT_FAIL_USAGE);
    usable();
}

Test(vm_values, wrong_argument_count)
{
    glint_value two[2] = {glint_i32(1), glint_i32(2)};
    int rc = glint_sandbox_call(sb, "EchoI32", two, 2, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_ESIG, GLINT_FAIL_USAGE);
    cr_assert(vm_contains(f.message, "EchoI32"), "%s", f.message);
    rc = glint_sandbox_call(sb, "EchoI32", NULL, 0, NULL);
    vm_expect_failure(sb, rc, GLINT_ESIG, GLINT_FAIL_USAGE);
    glint_value many[17];
    for (int i = 0; i < 17; i++)
        many[i] = glint_i64(i);
    rc = glint_sandbox_call(sb, "Sum16", many, 17, NULL);
    vm_expect_failure(sb, rc, GLINT_ESIG, GLINT_FAIL_USAGE);
    rc = glint_sandbox_call(sb, "Sum16", many, 15, NULL);
    vm_expect_failure(sb, rc, GLINT_ESIG, GLINT_FAIL_USAGE);
    cr_assert(!glint_sandbox_poisoned(sb));
    usable();
}

Test(vm_values, wrong_argument_type)
{
    const glint_value wrong[] = {glint_i64(1),     glint_u32(1),      glint_f32(1),
                                 glint_bool(true), glint_string("1"), glint_bytes("1", 1)};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        int rc = glint_sandbox_call(sb, "EchoI32", &wrong[i], 1, NULL);
        glint_failure f = vm_expect_failure(sb, rc, GLINT_ESIG, GLINT_FAIL_USAGE);
        cr_assert(vm_contains(f.message, "i32"), "%s", f.message);
    }
    /* A bad type in the 16th position of 16. */
    glint_value args[16];
    for (int i = 0; i < 16; i++)
        args[i] = glint_i64(i);
    args[15] = glint_u64(15);
    int rc = glint_sandbox_call(sb, "Sum16", args, 16, NULL);
    vm_expect_failure(sb, rc, GLINT_ESIG, GLINT_FAIL_USAGE);
    /* Out-of-range type codes. */
    glint_value bogus = glint_i32(1);
    bogus.type = (glint_type)77;
    rc = glint_sandbox_call(sb, "EchoI32", &bogus, 1, NULL);
    vm_expect_failure(sb, rc, GLINT_ESIG, GLINT_FAIL_USAGE);
    bogus.type = GLINT_VOID;
    rc = glint_sandbox_call(sb, "EchoI32", &bogus, 1, NULL);
    vm_expect_failure(sb, rc, GLINT_ESIG, GLINT_FAIL_USAGE);
    usable();
}

Test(vm_values, invalid_argument_values)
{
    /* Strings must be NUL-free valid UTF-8; pointers must be set when len > 0. */
    const char *bad[] = {"\xff", "a\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        glint_value arg = glint_string(bad[i]);
        int rc = glint_sandbox_call(sb, "EchoString", &arg, 1, NULL);
        vm_expect_failure(sb, rc, GLINT_EINVAL, GLINT_FAIL_USAGE);
    }
    glint_value nul = glint_string_n("a\0b", 3);
    int rc = glint_sandbox_call(sb, "EchoString", &nul, 1, NULL);
    vm_expect_failure(sb, rc, GLINT_EINVAL, GLINT_FAIL_USAGE);
    glint_value nullp = glint_bytes(NULL, 4);
    rc = glint_sandbox_call(sb, "EchoBytes", &nullp, 1, NULL);
    vm_expect_failure(sb, rc, GLINT_EINVAL, GLINT_FAIL_USAGE);
    nullp = glint_string_n(NULL, 4);
    rc = glint_sandbox_call(sb, "EchoString", &nullp, 1, NULL);
    vm_expect_failure(sb, rc, GLINT_EINVAL, GLINT_FAIL_USAGE);
    cr_assert_eq(glint_sandbox_call(sb, "EchoI32", NULL, 1, NULL), GLINT_EINVAL);
    cr_assert_eq(glint_sandbox_call(sb, NULL, NULL, 0, NULL), GLINT_EINVAL);
    cr_assert_eq(glint_sandbox_call(NULL, "EchoI32", NULL, 0, NULL), GLINT_EINVAL);
    usable();
}

/* ---- guest errors ------------------------------------------------------------------ */

Test(vm_values, guest_error_keeps_sandbox)
{
    glint_value r;
    cr_assert_eq(glint_sandbox_call(sb, "Counter", NULL, 0, &r), 0);
    cr_assert_eq(r.as.i64, 1);
    const int32_t codes[] = {17, -4, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        glint_value arg = glint_i32(codes[i]);
        int rc = glint_sandbox_call(sb, "ReturnError", &arg, 1, &r);
        glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
        cr_assert_eq(f.guest_code, codes[i]);
        char want[64];
        snprintf(want, sizeof want, "requested error %d", codes[i]);
        cr_assert(vm_contains(f.message, want), "%s", f.message);
        cr_assert(vm_contains(glint_errmsg(), want), "%s", glint_errmsg());
        cr_assert(!glint_sandbox_poisoned(sb));
        cr_assert_eq(glint_sandbox_call(sb, "Counter", NULL, 0, &r), 0);
        cr_assert_eq(r.as.i64, (int64_t)i + 2, "counter %lld", (long long)r.as.i64);
    }
    /* glint_guest_error(0, ...) still fails the call (with a non-zero code). */
    glint_value zero = glint_i32(0);
    int rc = glint_sandbox_call(sb, "ReturnError", &zero, 1, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(f.guest_code != 0);
    /* A success clears the last failure. */
    cr_assert_eq(glint_sandbox_call(sb, "Counter", NULL, 0, &r), 0);
    glint_sandbox_last_failure(sb, &f);
    cr_assert_eq(f.kind, GLINT_FAIL_NONE);
    cr_assert_eq(f.error, 0);
}

/* ---- state ------------------------------------------------------------------------- */

Test(vm_values, state_persists_within_sandbox_only)
{
    glint_value r;
    for (int64_t i = 1; i <= 100; i++) {
        cr_assert_eq(glint_sandbox_call(sb, "Counter", NULL, 0, &r), 0);
        cr_assert_eq(r.as.i64, i);
    }
    glint_sandbox *other = vm_sandbox(img, NULL);
    cr_assert_eq(glint_sandbox_call(other, "Counter", NULL, 0, &r), 0);
    cr_assert_eq(r.as.i64, 1, "new sandbox starts from the image, got %lld", (long long)r.as.i64);
    glint_sandbox_destroy(other);
    cr_assert_eq(glint_sandbox_call(sb, "Counter", NULL, 0, &r), 0);
    cr_assert_eq(r.as.i64, 101);
}

/* Same algorithm as HeapStress in tests/guests/types.c, without the memory. */
static uint32_t heap_stress_expected(uint32_t rounds)
{
    enum { SLOTS = 32 };
    size_t len[SLOTS] = {0};
    uint32_t seed = 12345, sum = 0;
    for (uint32_t round = 0; round < rounds; round++) {
        seed = seed * 1103515245u + 12345u;
        unsigned i = (seed >> 16) % SLOTS;
        size_t n = ((seed >> 8) % 2000) + 1;
        if (len[i] && (seed & 0x100)) {
            len[i] = 0;
            continue;
        }
        len[i] = n;
        for (size_t k = 0; k < n; k++)
            sum = sum * 31 + (uint8_t)(i * 31 + k);
    }
    return sum;
}

Test(vm_values, heap_stress)
{
    const uint32_t rounds[] = {0, 1, 100, 5000};
    for (size_t i = 0; i < sizeof rounds / sizeof rounds[0]; i++) {
        for (int rep = 0; rep < 2; rep++) {
            glint_value r = call1("HeapStress", glint_u32(rounds[i]), GLINT_U32);
            cr_assert_eq(r.as.u32, heap_stress_expected(rounds[i]), "rounds %u", rounds[i]);
        }
    }
}

Test(vm_values, call_by_index_and_null_ret)
{
    const glint_exports *ex = glint_image_exports(img);
    cr_assert_not_null(ex);
    size_t idx = SIZE_MAX;
    for (size_t i = 0; i < glint_exports_count(ex); i++) {
        glint_function_info info;
        cr_assert_eq(glint_exports_get(ex, i, &info), 0);
        if (strcmp(info.name, "EchoU64") == 0)
            idx = i;
    }
    cr_assert_neq(idx, SIZE_MAX);
    glint_value arg = glint_u64(0x1122334455667788ull), r;
    cr_assert_eq(glint_sandbox_call_index(sb, idx, &arg, 1, &r), 0);
    cr_assert_eq(r.as.u64, 0x1122334455667788ull);
    cr_assert_eq(glint_sandbox_call(sb, "EchoU64", &arg, 1, NULL), 0);
    arg = glint_u32(10);
    cr_assert_eq(glint_sandbox_call(sb, "MakeString", &arg, 1, NULL), 0);
    glint_function_info info;
    cr_assert_eq(glint_exports_find(ex, "Sum16", &info), 0);
    cr_assert_eq(info.nparams, 16);
    cr_assert_eq(info.ret, GLINT_I64);
    cr_assert_eq(glint_exports_find(ex, "Mixed16", &info), 0);
    cr_assert_eq(info.params[7], GLINT_STRING);
    cr_assert_eq(info.params[14], GLINT_BYTES);
}

/* ---- endurance --------------------------------------------------------------------- */

Test(vm_calls, ten_thousand_echo_calls, .timeout = 120)
{
    vm_require_kvm();
    glint_image *hello = vm_load_example("hello", NULL, NULL);
    glint_sandbox *s = vm_sandbox(hello, NULL);
    char buf[64];
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(buf, sizeof buf, "echo %d %s", i, i % 3 ? "x" : "longer text");
        glint_value arg = glint_string_n(buf, (size_t)n), r;
        int rc = glint_sandbox_call(s, "Echo", &arg, 1, &r);
        cr_assert_eq(rc, 0, "call %d: %s", i, glint_errmsg());
        cr_assert_eq(r.as.str.len, (size_t)n, "call %d", i);
        cr_assert_eq(memcmp(r.as.str.ptr, buf, (size_t)n), 0, "call %d", i);
    }
    glint_sandbox_destroy(s);
    glint_image_destroy(hello);
}

Test(vm_calls, many_sandboxes_created_and_destroyed, .timeout = 120)
{
    vm_require_kvm();
    glint_image *t = vm_load_test("types", NULL, NULL);
    for (int i = 0; i < 200; i++) {
        glint_sandbox *s = vm_sandbox(t, NULL);
        cr_assert_eq(vm_call_ok(s, "Counter", NULL, 0).as.i64, 1);
        glint_sandbox_destroy(s);
    }
    glint_image_destroy(t);
}

/* Sandboxes hold their own reference: the image may be destroyed first. */
Test(vm_calls, sandbox_outlives_image)
{
    vm_require_kvm();
    glint_image *t = vm_load_test("types", NULL, NULL);
    glint_sandbox *s = vm_sandbox(t, NULL);
    glint_image_destroy(t);
    glint_value arg = glint_i32(9), r;
    cr_assert_eq(glint_sandbox_call(s, "EchoI32", &arg, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.i32, 9);
    glint_sandbox_destroy(s);
}

/* Bigger buffers move the limits with them. */
Test(vm_calls, custom_buffer_sizes)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.input_size = 64 * 1024;
    cfg.output_size = 32 * 1024;
    cfg.heap_size = 1024 * 1024;
    glint_image *t = vm_load_test("types", &cfg, NULL);
    glint_sandbox *s = vm_sandbox(t, NULL);
    size_t in_max = 64 * 1024 - 25, out_max = 32 * 1024 - 25;
    char *p = malloc(in_max + 1);
    memset(p, 'z', in_max + 1);
    glint_value arg = glint_string_n(p, in_max), r;
    cr_assert_eq(glint_sandbox_call(s, "StringLen", &arg, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.u32, in_max);
    arg = glint_string_n(p, in_max + 1);
    cr_assert_eq(glint_sandbox_call(s, "StringLen", &arg, 1, &r), GLINT_ETOOBIG);
    arg = glint_u32((uint32_t)out_max);
    cr_assert_eq(glint_sandbox_call(s, "MakeString", &arg, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.str.len, out_max);
    arg = glint_u32((uint32_t)out_max + 1);
    cr_assert_eq(glint_sandbox_call(s, "MakeString", &arg, 1, &r), GLINT_EGUEST);
    /* Echo of an input larger than the output buffer: a guest error, not a crash. */
    arg = glint_string_n(p, in_max);
    cr_assert_eq(glint_sandbox_call(s, "EchoString", &arg, 1, &r), GLINT_EGUEST);
    cr_assert(!glint_sandbox_poisoned(s));
    free(p);
    glint_sandbox_destroy(s);
    glint_image_destroy(t);
}
