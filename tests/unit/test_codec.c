/* Unit tests for the message codec, UTF-8 and name rules (common/): round trips, hostile inputs. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "ident.h"
#include "utf8.h"

/* ---- helpers --------------------------------------------------------------- */

#define BUF_CAP 4096u

/* An 8-byte aligned message buffer; heap memory (no declared type), since the
 * codec and these tests access it through struct pointers. */
static uint8_t *buf_alloc(void)
{
    static uint8_t *p;
    if (!p)
        p = aligned_alloc(8, BUF_CAP);
    cr_assert_not_null(p);
    return p;
}
#define BUF (buf_alloc())

static uint32_t msg_size(void)
{
    struct glint_abi_msg h;
    memcpy(&h, BUF, sizeof h);
    return h.size;
}

static glint__cval scalar(uint8_t type, uint64_t bits)
{
    glint__cval v = {.type = type, .bits = bits};
    return v;
}

static glint__cval str(const char *s)
{
    glint__cval v = {.type = GLINT_ABI_STRING, .len = (uint32_t)strlen(s), .ptr = s};
    return v;
}

static glint__cval bytes(const void *p, uint32_t len)
{
    glint__cval v = {.type = GLINT_ABI_BYTES, .len = len, .ptr = p};
    return v;
}

static uint64_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* Decode buf[0..cap) and require success. */
static void decode_ok_at(const void *buf, uint32_t cap, glint__msg *m, const char *file, int line)
{
    const char *why = NULL;
    memset(m, 0xa5, sizeof *m);
    int rc = glint__msg_decode(buf, cap, m, &why);
    cr_assert_eq(rc, 0, "%s:%d: decode failed: %s", file, line, why ? why : "(why not set)");
}
#define decode_ok(buf, cap, m) decode_ok_at(buf, cap, m, __FILE__, __LINE__)

/* Decode buf[0..cap) and require failure with `why` containing needle. */
static void decode_bad_at(const void *buf, uint32_t cap, const char *needle, const char *file,
                          int line)
{
    const char *why = NULL;
    glint__msg m;
    int rc = glint__msg_decode(buf, cap, &m, &why);
    cr_assert_eq(rc, -1, "%s:%d: decode accepted a bad message (want \"%s\")", file, line, needle);
    cr_assert_not_null(why, "%s:%d: why not set", file, line);
    cr_assert(strstr(why, needle) != NULL, "%s:%d: why \"%s\" lacks \"%s\"", file, line, why,
              needle);
}
#define decode_bad(buf, cap, needle) decode_bad_at(buf, cap, needle, __FILE__, __LINE__)

/* Encode one message holding vals[0..n) into BUF; returns its size (or -1). */
static int64_t encode(uint8_t kind, uint8_t type, int32_t status, const char *name,
                      const glint__cval *vals, unsigned n, uint32_t cap)
{
    glint__writer w;
    glint__msg_begin(&w, BUF, cap, kind, type, status, name, name ? (uint32_t)strlen(name) : 0);
    for (unsigned i = 0; i < n; i++)
        if (glint__msg_put(&w, &vals[i]) != 0)
            return -1;
    return glint__msg_end(&w);
}

static void assert_val_eq(const glint__cval *got, const glint__cval *want, unsigned i)
{
    cr_assert_eq(got->type, want->type, "value %u type", i);
    int slen = glint__scalar_len(want->type);
    if (slen > 0) {
        uint64_t mask = slen == 8 ? ~0ull : (1ull << (8 * slen)) - 1;
        uint64_t wb = want->bits & mask;
        if (want->type == GLINT_ABI_BOOL)
            wb = want->bits ? 1 : 0;
        cr_assert_eq(got->len, (uint32_t)slen, "value %u len", i);
        cr_assert_eq(got->bits, wb, "value %u bits 0x%llx want 0x%llx", i,
                     (unsigned long long)got->bits, (unsigned long long)wb);
        cr_assert_null(got->ptr);
    } else {
        cr_assert_eq(got->len, want->len, "value %u len", i);
        cr_assert_not_null(got->ptr);
        if (want->len)
            cr_assert_eq(memcmp(got->ptr, want->ptr, want->len), 0, "value %u payload", i);
        if (want->type == GLINT_ABI_STRING)
            cr_assert_eq(((const char *)got->ptr)[want->len], 0, "value %u NUL", i);
    }
}

/* Encode, decode, compare. */
static void round_trip(uint8_t kind, uint8_t type, int32_t status, const char *name,
                       const glint__cval *vals, unsigned n)
{
    int64_t size = encode(kind, type, status, name, vals, n, BUF_CAP);
    cr_assert_gt(size, 0, "encode failed");
    cr_assert_eq(size % 8, 0);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.size, (uint32_t)size);
    cr_assert_eq(m.kind, kind);
    cr_assert_eq(m.type, type);
    cr_assert_eq(m.status, status);
    cr_assert_eq(m.count, n);
    if (name) {
        cr_assert_str_eq(m.name, name);
        cr_assert_eq(m.name_len, strlen(name));
    } else {
        cr_assert_null(m.name);
        cr_assert_eq(m.name_len, 0);
    }
    for (unsigned i = 0; i < n; i++)
        assert_val_eq(&m.vals[i], &vals[i], i);
    /* The decode of exactly `size` bytes also works. */
    decode_ok(BUF, (uint32_t)size, &m);
}

static void round_trip1(const glint__cval *v)
{
    round_trip(GLINT_ABI_MSG_CALL, GLINT_ABI_VOID, 0, NULL, v, 1);
}

/* ---- scalar round trips ----------------------------------------------------- */

Test(codec, i32_round_trip)
{
    const int32_t cases[] = {0, 1, -1, INT32_MIN, INT32_MAX, 123456789};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        glint__cval v = scalar(GLINT_ABI_I32, (uint32_t)cases[i]);
        round_trip1(&v);
        glint__msg m;
        decode_ok(BUF, BUF_CAP, &m);
        cr_assert_eq((int32_t)(uint32_t)m.vals[0].bits, cases[i]);
    }
    /* Sign-extended input: only the low 32 bits travel. */
    glint__cval v = scalar(GLINT_ABI_I32, (uint64_t)(int64_t)INT32_MIN);
    round_trip1(&v);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.vals[0].bits, 0x80000000u);
    cr_assert_eq(m.size, 16 + 8 + 8);
}

Test(codec, u32_i64_u64_round_trip)
{
    const glint__cval vals[] = {
        scalar(GLINT_ABI_U32, 0),
        scalar(GLINT_ABI_U32, UINT32_MAX),
        scalar(GLINT_ABI_I64, (uint64_t)INT64_MIN),
        scalar(GLINT_ABI_I64, (uint64_t)INT64_MAX),
        scalar(GLINT_ABI_I64, (uint64_t)-1),
        scalar(GLINT_ABI_U64, UINT64_MAX),
        scalar(GLINT_ABI_U64, 0x0123456789abcdefull),
    };
    round_trip(GLINT_ABI_MSG_CALL, GLINT_ABI_U64, 7, NULL, vals, 7);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.vals[1].bits, UINT32_MAX);
    cr_assert_eq((int64_t)m.vals[2].bits, INT64_MIN);
    cr_assert_eq(m.vals[5].bits, UINT64_MAX);
    cr_assert_eq(m.size, 16 + 7 * 16);
}

Test(codec, float_round_trip)
{
    const glint__cval vals[] = {
        scalar(GLINT_ABI_F32, f32_bits(1.5f)),
        scalar(GLINT_ABI_F32, f32_bits(-0.0f)),
        scalar(GLINT_ABI_F32, 0x7fc00001u), /* quiet NaN with payload */
        scalar(GLINT_ABI_F32, 0x7f800001u), /* signalling NaN */
        scalar(GLINT_ABI_F32, 0xffc00000u), /* negative NaN */
        scalar(GLINT_ABI_F32, f32_bits(INFINITY)),
        scalar(GLINT_ABI_F64, f64_bits(-0.0)),
        scalar(GLINT_ABI_F64, 0x7ff8000000000001ull),
        scalar(GLINT_ABI_F64, 0x7ff0000000000001ull),
        scalar(GLINT_ABI_F64, f64_bits(-INFINITY)),
        scalar(GLINT_ABI_F64, f64_bits(3.141592653589793)),
        scalar(GLINT_ABI_F64, 1), /* smallest subnormal */
    };
    round_trip(GLINT_ABI_MSG_RESULT, GLINT_ABI_VOID, 0, NULL, vals, 12);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    /* Bit-exact: -0.0 keeps its sign, NaN payloads survive. */
    cr_assert_eq(m.vals[1].bits, 0x80000000u);
    cr_assert_eq(m.vals[2].bits, 0x7fc00001u);
    cr_assert_eq(m.vals[6].bits, 0x8000000000000000ull);
    cr_assert_eq(m.vals[7].bits, 0x7ff8000000000001ull);
    double d;
    memcpy(&d, &m.vals[10].bits, sizeof d);
    cr_assert_eq(d, 3.141592653589793);
}

Test(codec, bool_round_trip)
{
    const glint__cval vals[] = {scalar(GLINT_ABI_BOOL, 0), scalar(GLINT_ABI_BOOL, 1),
                                scalar(GLINT_ABI_BOOL, 0x100)};
    round_trip(GLINT_ABI_MSG_CALL, GLINT_ABI_BOOL, 0, NULL, vals, 3);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.vals[0].bits, 0);
    cr_assert_eq(m.vals[1].bits, 1);
    cr_assert_eq(m.vals[2].bits, 1); /* any nonzero input encodes as 1 */
    cr_assert_eq(m.vals[2].len, 1);
}

/* ---- strings and bytes ---------------------------------------------------------- */

Test(codec, string_round_trip)
{
    static char long_str[1001];
    for (size_t i = 0; i < 1000; i++)
        long_str[i] = (char)('a' + i % 26);
    const glint__cval vals[] = {
        str(""),
        str("hello"),
        str("1234567"),  /* 7 + NUL = 8 */
        str("12345678"), /* 8 + NUL needs 16 */
        str("h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e \xe6\x97\xa5\xe6\x9c\xac"),
        str("\xf4\x8f\xbf\xbf"), /* U+10FFFF */
        str(long_str),
    };
    round_trip(GLINT_ABI_MSG_CALL, GLINT_ABI_STRING, 1, NULL, vals, 7);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.vals[0].len, 0);
    cr_assert_str_eq(m.vals[0].ptr, "");
    cr_assert_str_eq(m.vals[1].ptr, "hello");
    cr_assert_eq(m.size, 16 + (8 + 8) + (8 + 8) + (8 + 8) + (8 + 16) +
                             glint__value_wire_size(GLINT_ABI_STRING, vals[4].len) + (8 + 8) +
                             (8 + 1008));
}

Test(codec, bytes_round_trip)
{
    static const uint8_t raw[] = {0, 1, 2, 0, 0xff, 0xc0, 0x80, 0};
    static uint8_t big[1000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    const glint__cval vals[] = {
        bytes(NULL, 0),
        bytes(raw, sizeof raw),
        bytes(raw, 3),
        bytes(big, sizeof big),
    };
    round_trip(GLINT_ABI_MSG_HOSTRESULT, GLINT_ABI_BYTES, 0, NULL, vals, 4);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.vals[0].len, 0);
    cr_assert_eq(m.size, 16 + 8 + 16 + 16 + (8 + 1000));
}

Test(codec, bytes_fill_buffer_exactly)
{
    /* header 16 + value header 8 + payload = cap */
    static uint8_t payload[BUF_CAP];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i ^ 0x5a);
    uint32_t n = BUF_CAP - 24;
    glint__cval v = bytes(payload, n);
    int64_t size = encode(GLINT_ABI_MSG_RESULT, GLINT_ABI_BYTES, 0, NULL, &v, 1, BUF_CAP);
    cr_assert_eq(size, BUF_CAP);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.vals[0].len, n);
    cr_assert_eq(memcmp(m.vals[0].ptr, payload, n), 0);
    /* One more byte does not fit. */
    glint__writer w;
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_RESULT, GLINT_ABI_BYTES, 0, NULL, 0);
    v.len = n + 1;
    cr_assert_eq(glint__msg_put(&w, &v), -1);
    cr_assert(w.overflow);
    cr_assert_eq(glint__msg_end(&w), -1);
    /* Nor does anything after a full buffer. */
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_RESULT, GLINT_ABI_BYTES, 0, NULL, 0);
    v.len = n;
    cr_assert_eq(glint__msg_put(&w, &v), 0);
    glint__cval z = bytes(NULL, 0);
    cr_assert_eq(glint__msg_put(&w, &z), -1);
    cr_assert_eq(glint__msg_end(&w), -1);
}

Test(codec, string_fills_buffer_exactly)
{
    static char s[BUF_CAP];
    memset(s, 'x', sizeof s);
    /* header 16 + value header 8 + (len + NUL) = cap */
    uint32_t n = BUF_CAP - 24 - 1;
    s[n] = 0;
    glint__cval v = str(s);
    cr_assert_eq(encode(GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, &v, 1, BUF_CAP), BUF_CAP);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.vals[0].len, n);
    /* Without room for the NUL it does not fit. */
    s[n] = 'x';
    s[n + 1] = 0;
    v = str(s);
    cr_assert_eq(encode(GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, &v, 1, BUF_CAP), -1);
}

Test(codec, scalar_overflow_small_buffer)
{
    glint__writer w;
    glint__msg_begin(&w, BUF, 24, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    glint__cval v = scalar(GLINT_ABI_U64, 1);
    cr_assert_eq(glint__msg_put(&w, &v), -1); /* needs 16 after the header */
    cr_assert_eq(glint__msg_end(&w), -1);
    glint__msg_begin(&w, BUF, 32, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    cr_assert_eq(glint__msg_put(&w, &v), 0);
    cr_assert_eq(glint__msg_end(&w), 32);
    /* A capacity that is not a multiple of 8 is rounded down. */
    glint__msg_begin(&w, BUF, 39, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    cr_assert_eq(w.cap, 32);
    cr_assert_eq(glint__msg_put(&w, &v), 0);
    cr_assert_eq(glint__msg_put(&w, &v), -1);
    cr_assert_eq(glint__msg_end(&w), -1);
    /* Not even a header fits. */
    glint__msg_begin(&w, BUF, 15, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    cr_assert(w.overflow);
    cr_assert_eq(glint__msg_end(&w), -1);
    glint__msg_begin(&w, BUF, 0, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    cr_assert_eq(glint__msg_end(&w), -1);
}

Test(codec, empty_message)
{
    int64_t size = encode(GLINT_ABI_MSG_CALL, GLINT_ABI_VOID, 42, NULL, NULL, 0, BUF_CAP);
    cr_assert_eq(size, 16);
    glint__msg m;
    decode_ok(BUF, 16, &m);
    cr_assert_eq(m.count, 0);
    cr_assert_eq(m.status, 42);
    cr_assert_eq(m.kind, GLINT_ABI_MSG_CALL);
}

Test(codec, put_rejects_bad_types)
{
    glint__writer w;
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    glint__cval v = scalar(GLINT_ABI_VOID, 0);
    cr_assert_eq(glint__msg_put(&w, &v), -1);
    cr_assert_eq(glint__msg_end(&w), -1);
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    v.type = GLINT_ABI_TYPE_MAX + 1;
    cr_assert_eq(glint__msg_put(&w, &v), -1);
    cr_assert_eq(glint__msg_end(&w), -1);
}

/* ---- value counts ------------------------------------------------------------------- */

Test(codec, sixteen_values_ok_seventeen_overflow)
{
    glint__cval vals[17];
    for (unsigned i = 0; i < 17; i++)
        vals[i] = scalar(GLINT_ABI_U32, i * 1000u);
    round_trip(GLINT_ABI_MSG_CALL, GLINT_ABI_VOID, 3, NULL, vals, 16);
    cr_assert_eq(encode(GLINT_ABI_MSG_CALL, 0, 3, NULL, vals, 17, BUF_CAP), -1);
    /* Mixed kinds: a 17th string or bytes value overflows too. */
    for (unsigned i = 0; i < 16; i += 2)
        vals[i] = str("s");
    vals[16] = str("seventeen");
    round_trip(GLINT_ABI_MSG_CALL, GLINT_ABI_VOID, 3, NULL, vals, 16);
    glint__writer w;
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    for (unsigned i = 0; i < 16; i++)
        cr_assert_eq(glint__msg_put(&w, &vals[i]), 0);
    cr_assert_eq(glint__msg_put(&w, &vals[16]), -1);
    cr_assert_eq(glint__msg_end(&w), -1);
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    for (unsigned i = 0; i < 16; i++)
        cr_assert_eq(glint__msg_put(&w, &vals[i]), 0);
    glint__cval b = bytes("x", 1);
    cr_assert_eq(glint__msg_put(&w, &b), -1);
    cr_assert_eq(glint__msg_end(&w), -1);
}

/* ---- message kinds -------------------------------------------------------------------- */

Test(codec, hostcall_with_name)
{
    const glint__cval vals[] = {str("text to print"), scalar(GLINT_ABI_I32, 5)};
    round_trip(GLINT_ABI_MSG_HOSTCALL, GLINT_ABI_VOID, 0, "print", vals, 2);
    round_trip(GLINT_ABI_MSG_HOSTCALL, GLINT_ABI_I64, 0, "host.get_time_9", NULL, 0);
    /* Name length 7 (+ NUL = 8) and 8 (+ NUL needs 16). */
    round_trip(GLINT_ABI_MSG_HOSTCALL, GLINT_ABI_VOID, 0, "abcdefg", vals, 1);
    cr_assert_eq(msg_size(), 16 + 8 + 8 + 16);
    round_trip(GLINT_ABI_MSG_HOSTCALL, GLINT_ABI_VOID, 0, "abcdefgh", vals, 1);
    cr_assert_eq(msg_size(), 16 + 16 + 8 + 16);
    /* The longest name: 63 bytes. */
    char name[64];
    memset(name, 'N', 63);
    name[63] = 0;
    round_trip(GLINT_ABI_MSG_HOSTCALL, GLINT_ABI_STRING, 0, name, vals, 2);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.name_len, 63);
    cr_assert_eq(m.name, (const char *)BUF + 16);
}

Test(codec, hostcall_name_overflows_buffer)
{
    glint__writer w;
    glint__msg_begin(&w, BUF, 24, GLINT_ABI_MSG_HOSTCALL, 0, 0, "abcdefgh", 8);
    cr_assert(w.overflow); /* 8 name bytes fit but not the NUL */
    cr_assert_eq(glint__msg_end(&w), -1);
    glint__msg_begin(&w, BUF, 24, GLINT_ABI_MSG_HOSTCALL, 0, 0, "abcdefg", 7);
    cr_assert_eq(glint__msg_end(&w), 24);
}

Test(codec, result_with_status_and_message)
{
    const glint__cval msg = str("division by zero");
    round_trip(GLINT_ABI_MSG_RESULT, GLINT_ABI_VOID, -22, NULL, &msg, 1);
    round_trip(GLINT_ABI_MSG_ABORT, GLINT_ABI_VOID, INT32_MIN, NULL, &msg, 1);
    round_trip(GLINT_ABI_MSG_HOSTRESULT, GLINT_ABI_VOID, INT32_MAX, NULL, &msg, 1);
    round_trip(GLINT_ABI_MSG_CALL, GLINT_ABI_TYPE_MAX, 1023, NULL, NULL, 0);
}

/* ---- reserve / put_reserved ----------------------------------------------------------- */

Test(codec, reserve_string_in_place)
{
    glint__writer w;
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, 0);
    glint__cval v = scalar(GLINT_ABI_I32, 9);
    cr_assert_eq(glint__msg_put(&w, &v), 0);
    uint32_t max = 100;
    char *p = glint__msg_reserve_string(&w, &max);
    cr_assert_not_null(p);
    cr_assert_eq(max, 100); /* plenty of room: not clamped */
    cr_assert_eq(p, (char *)BUF + 16 + 16 + 8);
    int n = snprintf(p, max + 1, "formatted %d in place \xe2\x9c\x93", 42);
    cr_assert_eq(glint__msg_put_reserved(&w, (uint32_t)n), 0);
    int64_t size = glint__msg_end(&w);
    cr_assert_gt(size, 0);
    glint__msg m;
    decode_ok(BUF, (uint32_t)size, &m);
    cr_assert_eq(m.count, 2);
    cr_assert_eq(m.vals[1].type, GLINT_ABI_STRING);
    cr_assert_eq(m.vals[1].len, (uint32_t)n);
    cr_assert_str_eq(m.vals[1].ptr, "formatted 42 in place \xe2\x9c\x93");
}

Test(codec, reserve_string_clamped)
{
    glint__writer w;
    glint__msg_begin(&w, BUF, 48, GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, 0);
    uint32_t max = 1000;
    char *p = glint__msg_reserve_string(&w, &max);
    cr_assert_not_null(p);
    cr_assert_eq(max, 48 - 16 - 8 - 1); /* 23 bytes + NUL fill the message */
    memset(p, 'y', max);
    cr_assert_eq(glint__msg_put_reserved(&w, max), 0);
    cr_assert_eq(glint__msg_end(&w), 48);
    glint__msg m;
    decode_ok(BUF, 48, &m);
    cr_assert_eq(m.vals[0].len, 23);
    /* Using more than reserved overflows. */
    glint__msg_begin(&w, BUF, 48, GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, 0);
    max = 1000;
    p = glint__msg_reserve_string(&w, &max);
    cr_assert_not_null(p);
    memset(p, 'y', 24);
    cr_assert_eq(glint__msg_put_reserved(&w, 24), -1);
    cr_assert_eq(glint__msg_end(&w), -1);
    /* An empty reserved string. */
    glint__msg_begin(&w, BUF, 48, GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, 0);
    max = 0;
    cr_assert_not_null(glint__msg_reserve_string(&w, &max));
    cr_assert_eq(max, 0);
    cr_assert_eq(glint__msg_put_reserved(&w, 0), 0);
    cr_assert_eq(glint__msg_end(&w), 32);
    decode_ok(BUF, 32, &m);
    cr_assert_str_eq(m.vals[0].ptr, "");
}

Test(codec, reserve_string_no_room)
{
    glint__writer w;
    /* 16 bytes left: just enough for an empty..7-byte string. */
    glint__msg_begin(&w, BUF, 32, GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, 0);
    uint32_t max = 100;
    cr_assert_not_null(glint__msg_reserve_string(&w, &max));
    cr_assert_eq(max, 7);
    /* 8 bytes left: nothing fits. */
    glint__msg_begin(&w, BUF, 24, GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, 0);
    max = 100;
    cr_assert_null(glint__msg_reserve_string(&w, &max));
    /* After an overflow. */
    glint__msg_begin(&w, BUF, 8, GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, 0);
    max = 100;
    cr_assert_null(glint__msg_reserve_string(&w, &max));
    /* After 16 values. */
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_RESULT, GLINT_ABI_STRING, 0, NULL, 0);
    glint__cval v = scalar(GLINT_ABI_BOOL, 1);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(glint__msg_put(&w, &v), 0);
    max = 100;
    cr_assert_null(glint__msg_reserve_string(&w, &max));
    cr_assert_eq(glint__msg_put_reserved(&w, 0), -1);
}

/* ---- payloads already in the buffer -------------------------------------------------- */

Test(codec, payload_at_final_position)
{
    glint__writer w;
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    /* The payload is written where it will end up: right after its value header. */
    char *dst = (char *)BUF + w.pos + 8;
    strcpy(dst, "already here");
    glint__cval v = {.type = GLINT_ABI_STRING, .len = 12, .ptr = dst};
    cr_assert_eq(glint__msg_put(&w, &v), 0);
    dst = (char *)BUF + w.pos + 8;
    memcpy(dst, "\x01\x02\x03\x00\x05", 5);
    v = bytes(dst, 5);
    cr_assert_eq(glint__msg_put(&w, &v), 0);
    int64_t size = glint__msg_end(&w);
    cr_assert_eq(size, 16 + (8 + 16) + (8 + 8));
    glint__msg m;
    decode_ok(BUF, (uint32_t)size, &m);
    cr_assert_str_eq(m.vals[0].ptr, "already here");
    cr_assert_eq(memcmp(m.vals[1].ptr, "\x01\x02\x03\x00\x05", 5), 0);
}

Test(codec, payload_after_final_position)
{
    glint__writer w;
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    /* Overlapping move down: the payload starts 5 bytes after its final place. */
    char *src = (char *)BUF + w.pos + 8 + 5;
    static const char text[] = "overlapping payload that moves down by a few bytes";
    memcpy(src, text, sizeof text);
    glint__cval v = {.type = GLINT_ABI_STRING, .len = (uint32_t)strlen(text), .ptr = src};
    cr_assert_eq(glint__msg_put(&w, &v), 0);
    /* And a payload far after its final place, at the end of the buffer. */
    uint8_t *far = BUF + BUF_CAP - 64;
    for (int i = 0; i < 64; i++)
        far[i] = (uint8_t)(200 + i);
    v = bytes(far, 64);
    cr_assert_eq(glint__msg_put(&w, &v), 0);
    int64_t size = glint__msg_end(&w);
    cr_assert_gt(size, 0);
    glint__msg m;
    decode_ok(BUF, (uint32_t)size, &m);
    cr_assert_str_eq(m.vals[0].ptr, text);
    cr_assert_eq(m.vals[1].len, 64);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(((const uint8_t *)m.vals[1].ptr)[i], (uint8_t)(200 + i));
}

Test(codec, payload_before_final_position)
{
    /* A payload overlapping the value header's own slot (header written after the move). */
    glint__writer w;
    glint__msg_begin(&w, BUF, BUF_CAP, GLINT_ABI_MSG_CALL, 0, 0, NULL, 0);
    uint8_t *src = BUF + w.pos;
    for (int i = 0; i < 20; i++)
        src[i] = (uint8_t)(i + 1);
    glint__cval v = bytes(src, 20);
    cr_assert_eq(glint__msg_put(&w, &v), 0);
    int64_t size = glint__msg_end(&w);
    glint__msg m;
    decode_ok(BUF, (uint32_t)size, &m);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(((const uint8_t *)m.vals[0].ptr)[i], i + 1);
}

/* ---- sizes and tables ------------------------------------------------------------------ */

Test(codec, wire_sizes)
{
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_I32, 4), 16);
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_U64, 8), 16);
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_BOOL, 1), 16);
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_STRING, 0), 16);
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_STRING, 7), 16);
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_STRING, 8), 24);
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_BYTES, 0), 8);
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_BYTES, 8), 16);
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_BYTES, 9), 24);
    cr_assert_eq(glint__value_wire_size(GLINT_ABI_BYTES, 0xffffffffu), 8 + 0x100000000ull);
}

Test(codec, scalar_lengths)
{
    static const int want[] = {-1, 4, 4, 8, 8, 4, 8, 1, 0, 0, -1, -1};
    for (unsigned t = 0; t < sizeof want / sizeof want[0]; t++)
        cr_assert_eq(glint__scalar_len((uint8_t)t), want[t], "type %u", t);
    cr_assert_eq(glint__scalar_len(255), -1);
}

struct utf8_case {
    const char *s;
    size_t len; /* 0: strlen */
    int valid;
};

Test(codec, utf8_valid_table)
{
    static const struct utf8_case cases[] = {
        {"", 0, 1},
        {"a", 0, 1},
        {"plain ascii ~\x7f", 0, 1},
        {"\xc2\x80", 0, 1},                 /* U+0080 */
        {"\xc3\xa9", 0, 1},                 /* é */
        {"\xdf\xbf", 0, 1},                 /* U+07FF */
        {"\xe0\xa0\x80", 0, 1},             /* U+0800 */
        {"\xe2\x82\xac", 0, 1},             /* € */
        {"\xed\x9f\xbf", 0, 1},             /* U+D7FF */
        {"\xee\x80\x80", 0, 1},             /* U+E000 */
        {"\xef\xbf\xbf", 0, 1},             /* U+FFFF */
        {"\xf0\x90\x80\x80", 0, 1},         /* U+10000 */
        {"\xf0\x9d\x84\x9e", 0, 1},         /* 𝄞 */
        {"\xf4\x8f\xbf\xbf", 0, 1},         /* U+10FFFF */
        {"\xef\xbb\xbf!bom", 0, 1},         /* BOM is just a character */
        {"\0", 1, 0},                       /* NUL */
        {"a\0b", 3, 0},                     /* NUL inside */
        {"\xc0\x80", 0, 0},                 /* overlong NUL */
        {"\xc0\xaf", 0, 0},                 /* overlong '/' */
        {"\xc1\xbf", 0, 0},                 /* overlong U+7F */
        {"\xe0\x80\xaf", 0, 0},             /* overlong 3-byte */
        {"\xe0\x9f\xbf", 0, 0},             /* overlong U+07FF */
        {"\xf0\x80\x80\xaf", 0, 0},         /* overlong 4-byte */
        {"\xf0\x8f\xbf\xbf", 0, 0},         /* overlong U+FFFF */
        {"\xed\xa0\x80", 0, 0},             /* U+D800 surrogate */
        {"\xed\xbf\xbf", 0, 0},             /* U+DFFF surrogate */
        {"\xed\xa0\xbd\xed\xb2\xa9", 0, 0}, /* CESU-8 surrogate pair */
        {"\xf4\x90\x80\x80", 0, 0},         /* U+110000 */
        {"\xf5\x80\x80\x80", 0, 0},         /* lead byte F5 */
        {"\xf7\xbf\xbf\xbf", 0, 0},         /* U+1FFFFF */
        {"\xf8\x88\x80\x80\x80", 0, 0},     /* 5-byte form */
        {"\xfc\x84\x80\x80\x80\x80", 0, 0}, /* 6-byte form */
        {"\xfe", 0, 0},
        {"\xff", 0, 0},
        {"\x80", 0, 0},             /* lone continuation */
        {"a\xbfz", 0, 0},           /* lone continuation inside */
        {"\xc3", 0, 0},             /* truncated 2-byte */
        {"\xe2\x82", 0, 0},         /* truncated 3-byte */
        {"\xf0\x9d\x84", 0, 0},     /* truncated 4-byte */
        {"ok\xe2\x82", 0, 0},       /* truncated at end */
        {"\xc3z", 0, 0},            /* continuation missing */
        {"\xe2\x28\xa1", 0, 0},     /* bad second byte */
        {"\xe2\x82\x28", 0, 0},     /* bad third byte */
        {"\xf0\x9d\x84\xc0", 0, 0}, /* bad fourth byte */
        {"\xc3\xa9\xc3", 0, 0},     /* valid then truncated */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
        cr_assert_eq(glint__utf8_valid((const uint8_t *)cases[i].s, len), cases[i].valid,
                     "case %zu", i);
    }
    /* The length bounds the scan: a valid prefix of an invalid buffer is valid. */
    cr_assert_eq(glint__utf8_valid((const uint8_t *)"ab\xff", 2), 1);
    cr_assert_eq(glint__utf8_valid((const uint8_t *)"\xe2\x82\xac", 2), 0);
    cr_assert_eq(glint__utf8_valid(NULL, 0), 1);
}

Test(codec, utf8_every_code_point)
{
    /* Encode every scalar value and check it validates; surrogates do not. */
    uint8_t b[4];
    for (uint32_t cp = 1; cp <= 0x10ffff; cp++) {
        size_t n;
        if (cp < 0x80) {
            b[0] = (uint8_t)cp, n = 1;
        } else if (cp < 0x800) {
            b[0] = (uint8_t)(0xc0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
        } else if (cp < 0x10000) {
            b[0] = (uint8_t)(0xe0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            b[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
        } else {
            b[0] = (uint8_t)(0xf0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
            b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 4;
        }
        int want = !(cp >= 0xd800 && cp <= 0xdfff);
        cr_assert_eq(glint__utf8_valid(b, n), want, "U+%04X", cp);
        if (n > 1)
            cr_assert_eq(glint__utf8_valid(b, n - 1), 0, "U+%04X truncated", cp);
    }
}

struct name_case {
    const char *s;
    size_t len; /* 0: strlen */
    int valid;
};

Test(codec, name_valid_table)
{
    char n63[64], n64[65];
    memset(n63, 'a', 63);
    n63[63] = 0;
    memset(n64, 'a', 64);
    n64[64] = 0;
    const struct name_case cases[] = {
        {"a", 0, 1},
        {"Add", 0, 1},
        {"_", 0, 1},
        {".", 0, 1},
        {"9", 0, 1},
        {"host.print_v2", 0, 1},
        {"ABCXYZabcxyz0189_.", 0, 1},
        {n63, 0, 1},
        {n64, 0, 0},
        {"", 0, 0},
        {"a b", 0, 0},
        {"a-b", 0, 0},
        {"a/b", 0, 0},
        {"a:b", 0, 0},
        {"a@", 0, 0},
        {"[x]", 0, 0},
        {"`", 0, 0},
        {"{", 0, 0},
        {"\xc3\xa9", 0, 0},
        {"a\0", 2, 0},
        {"\0a", 2, 0},
        {"tab\t", 0, 0},
        {"new\nline", 0, 0},
        {"\x7f", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
        cr_assert_eq(glint__name_valid(cases[i].s, len), cases[i].valid, "case %zu (\"%s\")", i,
                     cases[i].s);
    }
    cr_assert_eq(glint__name_valid("abc", 0), 0);
    cr_assert_eq(glint__name_valid("abc-", 3), 1); /* only len bytes are looked at */
}

/* ---- decoder negatives ---------------------------------------------------------------- */

/* Raw message construction in BUF. */
static struct glint_abi_msg *hdr(void)
{
    return (struct glint_abi_msg *)(void *)BUF;
}

static void raw_begin(uint8_t kind, uint8_t count)
{
    memset(BUF, 0, BUF_CAP);
    hdr()->kind = kind;
    hdr()->count = count;
    hdr()->size = 16;
}

/* Append a value header (and payload bytes padded with zeros to 8) at pos; returns the new pos. */
static uint32_t raw_value(uint32_t pos, uint8_t type, uint32_t len, const void *payload, uint32_t n)
{
    struct glint_abi_value *vh = (struct glint_abi_value *)(void *)(BUF + pos);
    vh->type = type;
    vh->len = len;
    pos += 8;
    if (n)
        memcpy(BUF + pos, payload, n);
    pos += (n + 7) & ~7u;
    hdr()->size = pos;
    return pos;
}

/* A valid CALL with one U32 and one 5-byte string; checked to decode. */
static void valid_base(void)
{
    raw_begin(GLINT_ABI_MSG_CALL, 2);
    uint32_t pos = raw_value(16, GLINT_ABI_U32, 4, "\x01\x02\x03\x04", 4);
    raw_value(pos, GLINT_ABI_STRING, 5, "hello\0", 6);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.size, 48);
}

Test(codec_decode, header_checks)
{
    valid_base();
    decode_bad(BUF, 15, "buffer smaller than a message header");
    decode_bad(BUF, 0, "buffer smaller than a message header");
    hdr()->size = 8;
    decode_bad(BUF, BUF_CAP, "message size smaller than its header");
    hdr()->size = 0;
    decode_bad(BUF, BUF_CAP, "message size smaller than its header");
    valid_base();
    decode_bad(BUF, 40, "message size exceeds the buffer");
    hdr()->size = 0xffffffffu;
    decode_bad(BUF, BUF_CAP, "message size exceeds the buffer");
    hdr()->size = 20;
    decode_bad(BUF, BUF_CAP, "message size not a multiple of 8");
    hdr()->size = 47;
    decode_bad(BUF, BUF_CAP, "message size not a multiple of 8");
}

Test(codec_decode, bad_kind)
{
    valid_base();
    hdr()->kind = 0;
    decode_bad(BUF, BUF_CAP, "unknown message kind");
    hdr()->kind = GLINT_ABI_MSG_ABORT + 1;
    decode_bad(BUF, BUF_CAP, "unknown message kind");
    hdr()->kind = 0xff;
    decode_bad(BUF, BUF_CAP, "unknown message kind");
    for (uint8_t k = GLINT_ABI_MSG_CALL; k <= GLINT_ABI_MSG_ABORT; k++) {
        if (k == GLINT_ABI_MSG_HOSTCALL)
            continue;
        hdr()->kind = k;
        glint__msg m;
        decode_ok(BUF, BUF_CAP, &m);
        cr_assert_eq(m.kind, k);
    }
}

Test(codec_decode, bad_count_type_reserved)
{
    valid_base();
    hdr()->count = 17;
    decode_bad(BUF, BUF_CAP, "too many values in message");
    hdr()->count = 255;
    decode_bad(BUF, BUF_CAP, "too many values in message");
    valid_base();
    hdr()->type = GLINT_ABI_TYPE_MAX + 1;
    decode_bad(BUF, BUF_CAP, "unknown return type in message");
    hdr()->type = 0xff;
    decode_bad(BUF, BUF_CAP, "unknown return type in message");
    valid_base();
    hdr()->reserved = 1;
    decode_bad(BUF, BUF_CAP, "reserved header byte not zero");
}

Test(codec_decode, name_len_without_hostcall)
{
    valid_base();
    hdr()->name_len = 4;
    decode_bad(BUF, BUF_CAP, "name length set on a message without a name");
    hdr()->kind = GLINT_ABI_MSG_RESULT;
    decode_bad(BUF, BUF_CAP, "name length set on a message without a name");
}

/* HOSTCALL with a raw name area of 8 bytes and no values. */
static void raw_hostcall(const char name8[8], uint32_t name_len)
{
    raw_begin(GLINT_ABI_MSG_HOSTCALL, 0);
    memcpy(BUF + 16, name8, 8);
    hdr()->name_len = name_len;
    hdr()->size = 24;
}

Test(codec_decode, hostcall_names)
{
    raw_hostcall("print\0\0\0", 5);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_str_eq(m.name, "print");
    raw_hostcall("printxyz", 5);
    decode_bad(BUF, BUF_CAP, "host function name not NUL-terminated");
    raw_hostcall("print\0\0\0", 4); /* "prin" followed by 't' */
    decode_bad(BUF, BUF_CAP, "host function name not NUL-terminated");
    raw_hostcall("pr-nt\0\0\0", 5);
    decode_bad(BUF, BUF_CAP, "host function name has invalid characters");
    raw_hostcall("pr\0nt\0\0\0", 5);
    decode_bad(BUF, BUF_CAP, "host function name has invalid characters");
    raw_hostcall("\xc3\xa9t\xc3\xa9\0\0\0", 5);
    decode_bad(BUF, BUF_CAP, "host function name has invalid characters");
    raw_hostcall("\0\0\0\0\0\0\0\0", 0);
    decode_bad(BUF, BUF_CAP, "host function name length out of range");
    raw_hostcall("print\0\0\0", 64);
    decode_bad(BUF, BUF_CAP, "host function name length out of range");
    raw_hostcall("print\0\0\0", 0xffffffffu);
    decode_bad(BUF, BUF_CAP, "host function name length out of range");
    /* 7 name bytes + NUL fill the 8 bytes; 8 would need the NUL past the end. */
    raw_hostcall("abcdefgh", 8);
    decode_bad(BUF, BUF_CAP, "host function name extends past the message");
    raw_hostcall("abcdefgh", 20);
    decode_bad(BUF, BUF_CAP, "host function name extends past the message");
    raw_hostcall("abcdefg\0", 7);
    decode_ok(BUF, BUF_CAP, &m);
    /* 63 is the longest. */
    raw_begin(GLINT_ABI_MSG_HOSTCALL, 0);
    memset(BUF + 16, 'z', 63);
    hdr()->name_len = 63;
    hdr()->size = 16 + 64;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.name_len, 63);
}

Test(codec_decode, hostcall_then_values)
{
    raw_hostcall("get\0\0\0\0\0", 3);
    hdr()->count = 1;
    raw_value(24, GLINT_ABI_BOOL, 1, "\x01", 1);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
    cr_assert_eq(m.vals[0].bits, 1);
    cr_assert_eq(m.size, 40);
}

Test(codec_decode, value_header_past_end)
{
    raw_begin(GLINT_ABI_MSG_CALL, 1); /* size 16: no room for the value */
    decode_bad(BUF, BUF_CAP, "value header extends past the message");
    valid_base();
    hdr()->count = 3;
    decode_bad(BUF, BUF_CAP, "value header extends past the message");
}

Test(codec_decode, unknown_value_type)
{
    static const uint8_t types[] = {GLINT_ABI_VOID, GLINT_ABI_TYPE_MAX + 1, 0x80, 0xff};
    for (size_t i = 0; i < sizeof types; i++) {
        raw_begin(GLINT_ABI_MSG_CALL, 1);
        raw_value(16, types[i], 4, "abcd", 4);
        decode_bad(BUF, BUF_CAP, "unknown value type");
    }
}

Test(codec_decode, reserved_value_bytes)
{
    for (int k = 0; k < 3; k++) {
        raw_begin(GLINT_ABI_MSG_CALL, 1);
        raw_value(16, GLINT_ABI_U32, 4, "abcd", 4);
        BUF[16 + 1 + k] = 1;
        decode_bad(BUF, BUF_CAP, "reserved value bytes not zero");
    }
}

Test(codec_decode, scalar_wrong_length)
{
    static const struct {
        uint8_t type;
        uint32_t len;
    } cases[] = {
        {GLINT_ABI_I32, 8},  {GLINT_ABI_I32, 0},  {GLINT_ABI_U32, 1},           {GLINT_ABI_F32, 8},
        {GLINT_ABI_I64, 4},  {GLINT_ABI_U64, 16}, {GLINT_ABI_F64, 7},           {GLINT_ABI_BOOL, 0},
        {GLINT_ABI_BOOL, 4}, {GLINT_ABI_BOOL, 8}, {GLINT_ABI_I64, 0xffffffffu},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        raw_begin(GLINT_ABI_MSG_CALL, 1);
        raw_value(16, cases[i].type, cases[i].len, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
        decode_bad(BUF, BUF_CAP, "scalar value has the wrong length");
    }
}

Test(codec_decode, payload_past_end)
{
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_BYTES, 16, "12345678", 8); /* only 8 of 16 present */
    decode_bad(BUF, BUF_CAP, "value payload extends past the message");
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_STRING, 8, "12345678", 8); /* the NUL needs 8 more */
    decode_bad(BUF, BUF_CAP, "value payload extends past the message");
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_U64, 8, NULL, 0); /* header only */
    decode_bad(BUF, BUF_CAP, "value payload extends past the message");
    static const uint32_t huge[] = {0xffffffffu, 0xfffffff8u, 0xfffffff9u, 0xfffffff0u,
                                    0x80000000u};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        raw_begin(GLINT_ABI_MSG_CALL, 1);
        raw_value(16, GLINT_ABI_BYTES, huge[i], "12345678", 8);
        decode_bad(BUF, BUF_CAP, "value payload extends past the message");
        raw_begin(GLINT_ABI_MSG_CALL, 1);
        raw_value(16, GLINT_ABI_STRING, huge[i], "12345678", 8);
        decode_bad(BUF, BUF_CAP, "value payload extends past the message");
    }
}

Test(codec_decode, bool_not_0_or_1)
{
    static const uint8_t bad[] = {2, 0x80, 0xff};
    for (size_t i = 0; i < sizeof bad; i++) {
        raw_begin(GLINT_ABI_MSG_CALL, 1);
        raw_value(16, GLINT_ABI_BOOL, 1, &bad[i], 1);
        decode_bad(BUF, BUF_CAP, "bool value not 0 or 1");
    }
}

Test(codec_decode, string_not_terminated)
{
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_STRING, 5, "helloXYZ", 8);
    decode_bad(BUF, BUF_CAP, "string not NUL-terminated");
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_STRING, 8, "12345678X\0\0\0\0\0\0\0", 16);
    decode_bad(BUF, BUF_CAP, "string not NUL-terminated");
    /* The NUL after the string is not enough: the rest of the padding is zero too. */
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_STRING, 5, "hello\0YZ", 8);
    decode_bad(BUF, BUF_CAP, "value padding not zero");
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_STRING, 5, "hello\0\0\0", 8);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
}

Test(codec_decode, string_contains_nul)
{
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_STRING, 4, "ab\0c\0\0\0\0", 8);
    decode_bad(BUF, BUF_CAP, "string is not NUL-free valid UTF-8");
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_STRING, 1, "\0\0\0\0\0\0\0\0", 8);
    decode_bad(BUF, BUF_CAP, "string is not NUL-free valid UTF-8");
}

Test(codec_decode, string_invalid_utf8)
{
    static const char *bad[] = {
        "\xc0\xaf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong */
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* > U+10FFFF */
        "ab\xe2\x82",       /* truncated sequence */
        "\x80",             /* lone continuation */
        "x\xbfy",           /* lone continuation inside */
        "\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t n = (uint32_t)strlen(bad[i]);
        char tmp[16] = {0};
        memcpy(tmp, bad[i], n);
        raw_begin(GLINT_ABI_MSG_CALL, 1);
        raw_value(16, GLINT_ABI_STRING, n, tmp, n + 1);
        decode_bad(BUF, BUF_CAP, "string is not NUL-free valid UTF-8");
    }
    /* Bytes values carry anything. */
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_BYTES, 3, "\xff\0\x80", 3);
    glint__msg m;
    decode_ok(BUF, BUF_CAP, &m);
}

Test(codec_decode, trailing_garbage)
{
    valid_base();
    hdr()->size += 8;
    decode_bad(BUF, BUF_CAP, "message size does not match its contents");
    valid_base();
    hdr()->count = 1;
    decode_bad(BUF, BUF_CAP, "message size does not match its contents");
    valid_base();
    hdr()->count = 0;
    decode_bad(BUF, BUF_CAP, "message size does not match its contents");
}

Test(codec_decode, nonzero_padding)
{
    glint__msg m;
    /* Bytes payload of 3: bytes 3..7 of its 8-byte slot are padding. */
    raw_begin(GLINT_ABI_MSG_CALL, 1);
    raw_value(16, GLINT_ABI_BYTES, 3, "abc", 3);
    decode_ok(BUF, BUF_CAP, &m);
    BUF[16 + 8 + 5] = 0xff;
    decode_bad(BUF, BUF_CAP, "value padding not zero");
    /* A host function name's padding too. */
    raw_hostcall("ab\0\xee\xee\xee\xee\xee", 2);
    decode_bad(BUF, BUF_CAP, "host function name padding not zero");
    raw_hostcall("ab\0\0\0\0\0\0", 2);
    decode_ok(BUF, BUF_CAP, &m);
}

Test(codec_decode, misaligned_buffer)
{
    /* The decoder reads with memcpy: any alignment works. */
    static uint8_t raw[64 + 1];
    valid_base();
    memcpy(raw + 1, BUF, 48);
    glint__msg m;
    decode_ok(raw + 1, 48, &m);
    cr_assert_str_eq(m.vals[1].ptr, "hello");
}

/* ---- random input ----------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Invariants of any decoded message; then re-encode, decode again, compare. */
static void check_decoded(const uint8_t *buf, uint32_t cap, const glint__msg *m)
{
    cr_assert(m->size >= 16 && m->size <= cap && m->size % 8 == 0);
    cr_assert(m->kind >= GLINT_ABI_MSG_CALL && m->kind <= GLINT_ABI_MSG_ABORT);
    cr_assert_leq(m->count, GLINT_ABI_MAX_PARAMS);
    if (m->name) {
        cr_assert_eq(m->kind, GLINT_ABI_MSG_HOSTCALL);
        cr_assert_eq(strlen(m->name), m->name_len);
    }
    for (unsigned i = 0; i < m->count; i++) {
        const glint__cval *v = &m->vals[i];
        int slen = glint__scalar_len(v->type);
        cr_assert(slen >= 0 && v->type != GLINT_ABI_VOID);
        if (slen == 0) {
            const uint8_t *p = v->ptr;
            cr_assert(p >= buf + 16 && p + v->len <= buf + m->size);
            if (v->type == GLINT_ABI_STRING) {
                cr_assert_eq(p[v->len], 0);
                cr_assert(glint__utf8_valid(p, v->len));
            }
        } else {
            cr_assert_eq(v->len, (uint32_t)slen);
            if (v->type == GLINT_ABI_BOOL)
                cr_assert_leq(v->bits, 1);
        }
    }
    static uint8_t *again;
    if (!again)
        again = aligned_alloc(8, BUF_CAP);
    cr_assert_not_null(again);
    glint__writer w;
    glint__msg_begin(&w, again, m->size, m->kind, m->type, m->status, m->name, m->name_len);
    for (unsigned i = 0; i < m->count; i++)
        cr_assert_eq(glint__msg_put(&w, &m->vals[i]), 0);
    cr_assert_eq(glint__msg_end(&w), m->size);
    glint__msg m2;
    decode_ok(again, m->size, &m2);
    cr_assert_eq(m2.kind, m->kind);
    cr_assert_eq(m2.type, m->type);
    cr_assert_eq(m2.status, m->status);
    cr_assert_eq(m2.count, m->count);
    for (unsigned i = 0; i < m->count; i++)
        assert_val_eq(&m2.vals[i], &m->vals[i], i);
}

Test(codec, random_bytes_never_crash)
{
    rng_state = 0x636f646563524e47ull; /* fixed seed */
    unsigned accepted = 0;
    for (int iter = 0; iter < 100000; iter++) {
        /* An exactly sized heap copy so ASan sees any overread. */
        uint32_t cap = (uint32_t)(rng() % 200);
        uint8_t *b = malloc(cap ? cap : 1);
        cr_assert_not_null(b);
        for (uint32_t i = 0; i < cap; i++) {
            uint64_t r = rng();
            /* Mostly small bytes (plausible types, lengths, ASCII), some anything. */
            b[i] = (uint8_t)(r % 4 == 0 ? r >> 8 : (r % 4 == 1 ? 0 : (r >> 8) % 10));
        }
        if (cap >= 16 && rng() % 4 != 0) {
            /* A plausible header, so the value loop gets exercised. */
            struct glint_abi_msg h = {0};
            uint32_t sz = cap & ~7u;
            h.size = (uint32_t)(16 + 8 * (rng() % ((sz - 16) / 8 + 1)));
            h.kind = (uint8_t)(1 + rng() % 5);
            h.count = (uint8_t)(rng() % 5);
            h.type = (uint8_t)(rng() % 10);
            h.status = (int32_t)rng();
            if (h.kind == GLINT_ABI_MSG_HOSTCALL) {
                h.name_len = (uint32_t)(1 + rng() % 8);
                memset(b + 16, 'n', h.name_len < cap - 16 ? h.name_len : cap - 16);
                if (16 + h.name_len < cap)
                    b[16 + h.name_len] = 0;
            }
            memcpy(b, &h, sizeof h);
        }
        glint__msg m;
        const char *why = NULL;
        int rc = glint__msg_decode(b, cap, &m, &why);
        if (rc == 0) {
            check_decoded(b, cap, &m);
            accepted++;
        } else {
            cr_assert_eq(rc, -1);
            cr_assert_not_null(why);
            cr_assert_neq(why[0], 0);
        }
        free(b);
    }
    cr_log_info("random messages: %u of 100000 decoded", accepted);
    cr_assert_gt(accepted, 100, "only %u random messages decoded", accepted);
}
