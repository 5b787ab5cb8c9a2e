/* Unit tests: glint serve's base64 codec and JSON <-> value conversion (serve/base64.c, json.c). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "json.h"

/* ---- base64 ---------------------------------------------------------------------------------- */

static void roundtrip(const void *p, size_t n)
{
    char *text = malloc(b64_encoded_len(n) + 1);
    uint8_t *back = malloc(b64_decoded_max(b64_encoded_len(n)) + 1);
    cr_assert(text && back);
    b64_encode(p, n, text);
    cr_assert_eq(strlen(text), b64_encoded_len(n));
    size_t got = 99, bad = 99;
    cr_assert_eq(b64_decode(text, strlen(text), back, &got, &bad), 0, "decode of %s", text);
    cr_assert_eq(got, n);
    cr_assert_eq(memcmp(back, p, n), 0);
    free(text);
    free(back);
}

Test(serve_base64, rfc4648_vectors)
{
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        b64_encode(plain[i], strlen(plain[i]), out);
        cr_assert_str_eq(out, coded[i]);
        uint8_t back[16];
        size_t got, bad;
        cr_assert_eq(b64_decode(coded[i], strlen(coded[i]), back, &got, &bad), 0);
        cr_assert_eq(got, strlen(plain[i]));
        cr_assert_eq(memcmp(back, plain[i], got), 0);
    }
}

Test(serve_base64, every_length_and_byte_round_trips)
{
    uint8_t all[600];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (uint8_t)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof all; n++)
        roundtrip(all, n);
    uint8_t bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (uint8_t)i;
    roundtrip(bytes, sizeof bytes);
}

static void rejected(const char *s, size_t want_bad)
{
    uint8_t out[64];
    size_t got = 7, bad = 0;
    cr_assert_eq(b64_decode(s, strlen(s), out, &got, &bad), -1, "'%s' accepted", s);
    cr_assert_eq(bad, want_bad, "'%s': offending offset %zu, want %zu", s, bad, want_bad);
    cr_assert_eq(got, 0);
}

Test(serve_base64, strict_decoder_rejects_noncanonical_text)
{
    rejected("abc", 3);      /* length not a multiple of 4 */
    rejected("Zg=", 3);      /* cut padding */
    rejected("Zm9v!A==", 4); /* outside the alphabet */
    rejected("Zm 9", 2);     /* whitespace */
    rejected("Zg==Zg==", 2); /* padding before the end */
    rejected("Z===", 1);     /* three padding characters */
    rejected("Zh==", 1);     /* unused bits set ("f" is Zg==) */
    rejected("Zm9=", 2);     /* unused bits set ("fo" is Zm8=) */
    rejected("Zm9vYmF-", 7); /* URL-safe alphabet is not accepted */
    rejected("=AAA", 0);
}

/* ---- JSON -> arguments ----------------------------------------------------------------------- */

static glint_type sig[GLINT_MAX_PARAMS];

static glint_function_info fn(size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        sig[i] = (glint_type)va_arg(ap, int);
    va_end(ap);
    glint_function_info fi = {"F", GLINT_VOID, n, sig};
    return fi;
}

static void parse_ok(const char *body, glint_function_info fi, struct sj_args *a)
{
    char err[256] = "";
    int rc = sj_parse_args(body, strlen(body), &fi, a, err, sizeof err);
    cr_assert_eq(rc, 0, "%s rejected: %s", body, err);
    cr_assert_eq(a->n, fi.nparams);
}

static void parse_bad(const char *body, glint_function_info fi, int want, const char *msg)
{
    char err[256] = "";
    struct sj_args a;
    int rc = sj_parse_args(body, strlen(body), &fi, &a, err, sizeof err);
    cr_assert_eq(rc, want, "%s: rc %d (%s)", body, rc, err);
    cr_assert(strstr(err, msg), "%s: message '%s' lacks '%s'", body, err, msg);
    cr_assert_null(a.root);
    cr_assert_eq(a.n, 0);
}

Test(serve_json, every_type_decodes)
{
    struct sj_args a;
    parse_ok("[-5, 4294967295, -9223372036854775808, \"18446744073709551615\", 0.5, 1e300, "
             "false, \"h\\u00e9\", \"AP8=\"]",
             fn(9, GLINT_I32, GLINT_U32, GLINT_I64, GLINT_U64, GLINT_F32, GLINT_F64, GLINT_BOOL,
                GLINT_STRING, GLINT_BYTES),
             &a);
    cr_assert_eq(a.v[0].type, GLINT_I32);
    cr_assert_eq(a.v[0].as.i32, -5);
    cr_assert_eq(a.v[1].as.u32, 4294967295u);
    cr_assert_eq(a.v[2].as.i64, INT64_MIN);
    cr_assert_eq(a.v[3].as.u64, UINT64_MAX);
    cr_assert_eq(a.v[4].as.f32, 0.5f);
    cr_assert_eq(a.v[5].as.f64, 1e300);
    cr_assert_eq(a.v[6].as.b, false);
    cr_assert_eq(a.v[7].as.str.len, 3);
    cr_assert_eq(memcmp(a.v[7].as.str.ptr, "h\xc3\xa9", 3), 0);
    cr_assert_eq(a.v[8].as.bytes.len, 2);
    cr_assert_eq(memcmp(a.v[8].as.bytes.ptr, "\x00\xff", 2), 0);
    sj_args_free(&a);
    parse_ok("[\"NaN\", \"-Infinity\", 3]", fn(3, GLINT_F64, GLINT_F32, GLINT_F64), &a);
    cr_assert(isnan(a.v[0].as.f64));
    cr_assert(isinf(a.v[1].as.f32) && a.v[1].as.f32 < 0);
    cr_assert_eq(a.v[2].as.f64, 3.0);
    sj_args_free(&a);
    parse_ok("[]", fn(0), &a);
    sj_args_free(&a);
}

Test(serve_json, malformed_bodies_are_malformed)
{
    glint_function_info one = fn(1, GLINT_I32);
    parse_bad("", one, SJ_MALFORMED, "malformed JSON");
    parse_bad("[1", one, SJ_MALFORMED, "malformed JSON");
    parse_bad("[1] [2]", one, SJ_MALFORMED, "malformed JSON");
    parse_bad("{\"a\": 1}", one, SJ_MALFORMED, "JSON array");
    parse_bad("1", one, SJ_MALFORMED, "malformed JSON");
    parse_bad("[\"\\u0000\"]", fn(1, GLINT_STRING), SJ_MALFORMED, "malformed JSON");
    parse_bad("[\"\xff\"]", fn(1, GLINT_STRING), SJ_MALFORMED, "malformed JSON");
    char deep[200];
    memset(deep, '[', sizeof deep);
    deep[sizeof deep - 1] = 0;
    parse_bad(deep, one, SJ_MALFORMED, "nested deeper than 32");
}

Test(serve_json, wrong_arguments_are_named)
{
    parse_bad("[1, 2]", fn(1, GLINT_I32), SJ_BAD_ARGS, "F takes 1 argument (i32), got 2");
    parse_bad("[\"1\"]", fn(1, GLINT_I32), SJ_BAD_ARGS, "argument 1 (i32): expected an integer");
    parse_bad("[2147483648]", fn(1, GLINT_I32), SJ_BAD_ARGS, "out of range for i32");
    parse_bad("[-1]", fn(1, GLINT_U64), SJ_BAD_ARGS, "out of range for u64");
    parse_bad("[\"-1\"]", fn(1, GLINT_U64), SJ_BAD_ARGS, "expected an integer");
    parse_bad("[\"99999999999999999999\"]", fn(1, GLINT_U64), SJ_BAD_ARGS, "expected an integer");
    parse_bad("[1.5]", fn(1, GLINT_I64), SJ_BAD_ARGS, "expected an integer, got a real");
    parse_bad("[1e39]", fn(1, GLINT_F32), SJ_BAD_ARGS, "out of range for f32");
    parse_bad("[\"inf\"]", fn(1, GLINT_F64), SJ_BAD_ARGS, "expected a number");
    parse_bad("[1]", fn(1, GLINT_BOOL), SJ_BAD_ARGS, "expected true or false");
    parse_bad("[null]", fn(1, GLINT_STRING), SJ_BAD_ARGS, "expected a string, got null");
    parse_bad("[0, \"abc\"]", fn(2, GLINT_I32, GLINT_BYTES), SJ_BAD_ARGS,
              "argument 2 (bytes): not base64");
    parse_bad("[[1]]", fn(1, GLINT_I32), SJ_BAD_ARGS, "got an array");
}

Test(serve_json, depth_scan_ignores_brackets_in_strings)
{
    cr_assert(sj_depth_ok("[\"[[[[[[\"]", 10, 2));
    cr_assert(sj_depth_ok("[\"\\\"[[[[\"]", 11, 2));
    cr_assert_not(sj_depth_ok("[[[", 3, 2));
    cr_assert(sj_depth_ok("[[]]", 4, 2));
}

/* ---- values -> JSON -------------------------------------------------------------------------- */

static void result_is(glint_value v, const char *want)
{
    size_t len = 0;
    char *text = sj_result(&v, &len);
    cr_assert_not_null(text);
    cr_assert_str_eq(text, want);
    cr_assert_eq(len, strlen(want));
    free(text);
}

Test(serve_json, results_encode)
{
    glint_value v = {GLINT_VOID, 0, {.u64 = 0}};
    result_is(v, "{\"result\":null}");
    result_is(glint_i32(-7), "{\"result\":-7}");
    result_is(glint_u64(UINT64_MAX), "{\"result\":18446744073709551615}");
    result_is(glint_i64(INT64_MIN), "{\"result\":-9223372036854775808}");
    result_is(glint_f64(0.1), "{\"result\":0.1}");
    result_is(glint_f64(0.1 + 0.2), "{\"result\":0.30000000000000004}");
    result_is(glint_f32(0.1f), "{\"result\":0.1}");
    result_is(glint_f64(NAN), "{\"result\":\"NaN\"}");
    result_is(glint_f64(-INFINITY), "{\"result\":\"-Infinity\"}");
    result_is(glint_bool(true), "{\"result\":true}");
    result_is(glint_string_n("a\"b\n\xc3\xa9", 6), "{\"result\":\"a\\\"b\\n\xc3\xa9\"}");
    result_is(glint_bytes("\x00\xff", 2), "{\"result\":\"AP8=\"}");
    glint_value bad = glint_string_n("\xff", 1);
    cr_assert_null(sj_result(&bad, NULL));
}

Test(serve_json, errors_and_handler_results_encode)
{
    size_t len;
    char *e = sj_error("busy", "no \"sandbox\" \xff", &len);
    cr_assert_str_eq(e, "{\"error\":{\"kind\":\"busy\",\"message\":\"no \\\"sandbox\\\" ?\"}}");
    free(e);
    char err[128];
    char *r = sj_result_json("[1, {\"a\": null}]", 16, &len, err, sizeof err);
    cr_assert_str_eq(r, "{\"result\":[1,{\"a\":null}]}");
    free(r);
    r = sj_result_json("\"x\"", 3, &len, err, sizeof err);
    cr_assert_str_eq(r, "{\"result\":\"x\"}");
    free(r);
    cr_assert_null(sj_result_json("{", 1, &len, err, sizeof err));
    char *out;
    cr_assert_eq(sj_parse_array(" [ 1 , \"a\" ] ", 13, &out, err, sizeof err), 0);
    cr_assert_str_eq(out, "[1,\"a\"]");
    free(out);
    cr_assert_eq(sj_parse_array("{}", 2, &out, err, sizeof err), -1);
    cr_assert_null(out);
}
