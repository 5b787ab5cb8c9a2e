/* Test guest: echoes every value type, many parameters, big results, errors, state, heap and host
 * calls. */
#include <glint/guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- echo every type ------------------------------------------------------- */

static int EchoI32(const glint_guest_val *a, glint_guest_val *r)
{
    r->i32 = a[0].i32;
    return 0;
}
GLINT_GUEST_EXPORT(EchoI32, GLINT_GUEST_I32, GLINT_GUEST_I32);

static int EchoU32(const glint_guest_val *a, glint_guest_val *r)
{
    r->u32 = a[0].u32;
    return 0;
}
GLINT_GUEST_EXPORT(EchoU32, GLINT_GUEST_U32, GLINT_GUEST_U32);

static int EchoI64(const glint_guest_val *a, glint_guest_val *r)
{
    r->i64 = a[0].i64;
    return 0;
}
GLINT_GUEST_EXPORT(EchoI64, GLINT_GUEST_I64, GLINT_GUEST_I64);

static int EchoU64(const glint_guest_val *a, glint_guest_val *r)
{
    r->u64 = a[0].u64;
    return 0;
}
GLINT_GUEST_EXPORT(EchoU64, GLINT_GUEST_U64, GLINT_GUEST_U64);

static int EchoF32(const glint_guest_val *a, glint_guest_val *r)
{
    r->f32 = a[0].f32;
    return 0;
}
GLINT_GUEST_EXPORT(EchoF32, GLINT_GUEST_F32, GLINT_GUEST_F32);

static int EchoF64(const glint_guest_val *a, glint_guest_val *r)
{
    r->f64 = a[0].f64;
    return 0;
}
GLINT_GUEST_EXPORT(EchoF64, GLINT_GUEST_F64, GLINT_GUEST_F64);

static int EchoBool(const glint_guest_val *a, glint_guest_val *r)
{
    r->b = a[0].b;
    return 0;
}
GLINT_GUEST_EXPORT(EchoBool, GLINT_GUEST_BOOL, GLINT_GUEST_BOOL);

static int EchoString(const glint_guest_val *a, glint_guest_val *r)
{
    r->str = a[0].str;
    r->len = a[0].len;
    return 0;
}
GLINT_GUEST_EXPORT(EchoString, GLINT_GUEST_STRING, GLINT_GUEST_STRING);

static int EchoBytes(const glint_guest_val *a, glint_guest_val *r)
{
    r->bytes = a[0].bytes;
    r->len = a[0].len;
    return 0;
}
GLINT_GUEST_EXPORT(EchoBytes, GLINT_GUEST_BYTES, GLINT_GUEST_BYTES);

/* ---- many parameters ----------------------------------------------------------- */

/* Sum16(16 x i64) -> i64, wrapping. */
static int Sum16(const glint_guest_val *a, glint_guest_val *r)
{
    uint64_t s = 0;
    for (int i = 0; i < 16; i++)
        s += a[i].u64;
    r->u64 = s;
    return 0;
}
GLINT_GUEST_EXPORT(Sum16, GLINT_GUEST_I64, GLINT_GUEST_I64, GLINT_GUEST_I64, GLINT_GUEST_I64,
                   GLINT_GUEST_I64, GLINT_GUEST_I64, GLINT_GUEST_I64, GLINT_GUEST_I64,
                   GLINT_GUEST_I64, GLINT_GUEST_I64, GLINT_GUEST_I64, GLINT_GUEST_I64,
                   GLINT_GUEST_I64, GLINT_GUEST_I64, GLINT_GUEST_I64, GLINT_GUEST_I64,
                   GLINT_GUEST_I64);

/* Append "len:hex" of a bytes value. */
static int put_hex(char *buf, size_t n, const glint_guest_val *v)
{
    int k = snprintf(buf, n, "%u:", v->len);
    for (uint32_t i = 0; i < v->len && (size_t)k < n; i++)
        k += snprintf(buf + k, n - (size_t)k, "%02x", v->bytes[i]);
    return k;
}

/* Mixed16(i32, u32, i64, u64, f32, f64, bool, string, bytes, i32, u64, string, bool, f64, bytes,
 * i64) -> string "a|b|...|p": every value in order, so the host can check placement. */
static int Mixed16(const glint_guest_val *a, glint_guest_val *r)
{
    size_t n = 512 + a[7].len + a[11].len + 2 * (a[8].len + a[14].len);
    char *s = malloc(n);
    if (!s)
        return glint_guest_error(3, "out of memory");
    int k = snprintf(s, n, "%d|%u|%lld|%llu|%g|%g|%d|%s|", a[0].i32, a[1].u32, (long long)a[2].i64,
                     (unsigned long long)a[3].u64, (double)a[4].f32, a[5].f64, a[6].b ? 1 : 0,
                     a[7].str);
    k += put_hex(s + k, n - (size_t)k, &a[8]);
    k += snprintf(s + k, n - (size_t)k, "|%d|%llu|%s|%d|%g|", a[9].i32,
                  (unsigned long long)a[10].u64, a[11].str, a[12].b ? 1 : 0, a[13].f64);
    k += put_hex(s + k, n - (size_t)k, &a[14]);
    k += snprintf(s + k, n - (size_t)k, "|%lld", (long long)a[15].i64);
    r->str = s;
    r->len = (uint32_t)k;
    r->flags = GLINT_GUEST_VAL_FREE;
    return 0;
}
GLINT_GUEST_EXPORT(Mixed16, GLINT_GUEST_STRING, GLINT_GUEST_I32, GLINT_GUEST_U32, GLINT_GUEST_I64,
                   GLINT_GUEST_U64, GLINT_GUEST_F32, GLINT_GUEST_F64, GLINT_GUEST_BOOL,
                   GLINT_GUEST_STRING, GLINT_GUEST_BYTES, GLINT_GUEST_I32, GLINT_GUEST_U64,
                   GLINT_GUEST_STRING, GLINT_GUEST_BOOL, GLINT_GUEST_F64, GLINT_GUEST_BYTES,
                   GLINT_GUEST_I64);

/* ---- strings and bytes ------------------------------------------------------------- */

/* StringLen(string) -> u32: strlen as seen by the guest (checks the NUL and len agree). */
static int StringLen(const glint_guest_val *a, glint_guest_val *r)
{
    size_t n = strlen(a[0].str);
    if (n != a[0].len)
        return glint_guest_error(4, "strlen %u but len %u", (unsigned)n, a[0].len);
    r->u32 = (uint32_t)n;
    return 0;
}
GLINT_GUEST_EXPORT(StringLen, GLINT_GUEST_U32, GLINT_GUEST_STRING);

/* MakeString(u32 n) -> string of n 'x' (heap, freed by the runtime). */
static int MakeString(const glint_guest_val *a, glint_guest_val *r)
{
    uint32_t n = a[0].u32;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return glint_guest_error(3, "cannot allocate %u bytes", n);
    memset(s, 'x', n);
    s[n] = 0;
    r->str = s;
    r->len = n;
    r->flags = GLINT_GUEST_VAL_FREE;
    return 0;
}
GLINT_GUEST_EXPORT(MakeString, GLINT_GUEST_STRING, GLINT_GUEST_U32);

/* MakeBytes(u32 n) -> bytes b[i] = i & 0xff (heap, freed by the runtime). */
static int MakeBytes(const glint_guest_val *a, glint_guest_val *r)
{
    uint32_t n = a[0].u32;
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return glint_guest_error(3, "cannot allocate %u bytes", n);
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)i;
    r->bytes = p;
    r->len = n;
    r->flags = GLINT_GUEST_VAL_FREE;
    return 0;
}
GLINT_GUEST_EXPORT(MakeBytes, GLINT_GUEST_BYTES, GLINT_GUEST_U32);

/* ---- errors and state ------------------------------------------------------------ */

static int ReturnError(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    return glint_guest_error(a[0].i32, "requested error %d", a[0].i32);
}
GLINT_GUEST_EXPORT(ReturnError, GLINT_GUEST_I32, GLINT_GUEST_I32);

static int64_t counter;

/* Counter() -> i64: 1, 2, 3, ... within one sandbox. */
static int Counter(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i64 = ++counter;
    return 0;
}
GLINT_GUEST_EXPORT(Counter, GLINT_GUEST_I64);

/* HeapStress(u32 n) -> u32: n rounds of malloc/realloc/free over 32 slots, each block filled
 * with a pattern that is verified before it is resized or freed; returns a checksum. */
static int HeapStress(const glint_guest_val *a, glint_guest_val *r)
{
    enum { SLOTS = 32 };
    uint8_t *p[SLOTS] = {0};
    size_t len[SLOTS] = {0};
    uint32_t seed = 12345, sum = 0;
    int rc = 0;
    for (uint32_t round = 0; round < a[0].u32 && rc == 0; round++) {
        seed = seed * 1103515245u + 12345u;
        unsigned i = (seed >> 16) % SLOTS;
        size_t n = ((seed >> 8) % 2000) + 1;
        for (size_t k = 0; k < len[i] && rc == 0; k++)
            if (p[i][k] != (uint8_t)(i * 31 + k))
                rc = glint_guest_error(6, "slot %u byte %u corrupted", i, (unsigned)k);
        if (rc)
            break;
        if (p[i] && (seed & 0x100)) {
            free(p[i]);
            p[i] = NULL;
            len[i] = 0;
            continue;
        }
        uint8_t *q = realloc(p[i], n);
        if (!q) {
            rc = glint_guest_error(3, "realloc of %u bytes failed", (unsigned)n);
            break;
        }
        for (size_t k = len[i]; k < n; k++)
            q[k] = (uint8_t)(i * 31 + k);
        p[i] = q;
        len[i] = n;
        for (size_t k = 0; k < n; k++)
            sum = sum * 31 + q[k];
    }
    for (unsigned i = 0; i < SLOTS; i++)
        free(p[i]);
    r->u32 = sum;
    return rc;
}
GLINT_GUEST_EXPORT(HeapStress, GLINT_GUEST_U32, GLINT_GUEST_U32);

/* PrintMany(u32 n) -> void: n prints "line <i>\n". */
static int PrintMany(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    for (uint32_t i = 0; i < a[0].u32; i++)
        if (glint_guest_print("line %u\n", i) < 0)
            return glint_guest_error(7, "print %u failed: %s", i, glint_guest_host_error_message());
    return 0;
}
GLINT_GUEST_EXPORT(PrintMany, GLINT_GUEST_VOID, GLINT_GUEST_U32);

/* ---- host calls -------------------------------------------------------------------- */

/* CallHost(string name, i64 a, i64 b) -> i64: host function name(i64, i64) -> i64. */
static int CallHost(const glint_guest_val *a, glint_guest_val *r)
{
    glint_guest_val out;
    if (glint_guest_host_call(a[0].str, GLINT_GUEST_I64, &out, 2, &a[1]) != 0)
        return glint_guest_error(8, "host call failed: %s", glint_guest_host_error_message());
    r->i64 = out.i64;
    return 0;
}
GLINT_GUEST_EXPORT(CallHost, GLINT_GUEST_I64, GLINT_GUEST_STRING, GLINT_GUEST_I64, GLINT_GUEST_I64);

/* CallHostWrongSig() -> i32: calls HostAdd(i64, i64) -> i64 as (string) -> i32. */
static int CallHostWrongSig(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    glint_guest_val arg = glint_guest_val_string("not a number");
    glint_guest_val out;
    if (glint_guest_host_call("HostAdd", GLINT_GUEST_I32, &out, 1, &arg) != 0)
        return glint_guest_error(9, "host call failed: %s", glint_guest_host_error_message());
    r->i32 = out.i32;
    return 0;
}
GLINT_GUEST_EXPORT(CallHostWrongSig, GLINT_GUEST_I32);

/* CallHostString(string) -> string: returns HostUpper's result, which lives in the output
 * buffer, without copying it. */
static int CallHostString(const glint_guest_val *a, glint_guest_val *r)
{
    glint_guest_val out;
    if (glint_guest_host_call("HostUpper", GLINT_GUEST_STRING, &out, 1, a) != 0)
        return glint_guest_error(10, "host call failed: %s", glint_guest_host_error_message());
    r->str = out.str;
    r->len = out.len;
    return 0;
}
GLINT_GUEST_EXPORT(CallHostString, GLINT_GUEST_STRING, GLINT_GUEST_STRING);

/* ---- timing ------------------------------------------------------------------------- */

static uint64_t spin(uint64_t n)
{
    volatile uint64_t i = 0;
    while (i < n)
        i = i + 1;
    return i;
}

/* SpinLoops(u64 n) -> u64: a busy loop of n iterations (for calls of a chosen length). */
static int SpinLoops(const glint_guest_val *a, glint_guest_val *r)
{
    r->u64 = spin(a[0].u64);
    return 0;
}
GLINT_GUEST_EXPORT(SpinLoops, GLINT_GUEST_U64, GLINT_GUEST_U64);

/* CallHostThenSpin(string name, u64 n) -> u64: host function name(i64 0, i64 0) -> i64, then
 * a busy loop of n iterations; returns n. */
static int CallHostThenSpin(const glint_guest_val *a, glint_guest_val *r)
{
    glint_guest_val args[2] = {glint_guest_val_i64(0), glint_guest_val_i64(0)};
    glint_guest_val out;
    if (glint_guest_host_call(a[0].str, GLINT_GUEST_I64, &out, 2, args) != 0)
        return glint_guest_error(8, "host call failed: %s", glint_guest_host_error_message());
    r->u64 = spin(a[1].u64);
    return 0;
}
GLINT_GUEST_EXPORT(CallHostThenSpin, GLINT_GUEST_U64, GLINT_GUEST_STRING, GLINT_GUEST_U64);
