/* Test guest for the hostile-guest suite: one export per attack on the protocol, CPU or memory. */
#include <glint/guest.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every export is one hostile behaviour; the files of tests/hostile/ hold the expected outcome of
 * each. Raw messages are written straight into the output buffer and sent with our own `out`,
 * bypassing the runtime's encoder. Functions that break the protocol never expect to run again
 * (the host poisons the sandbox), so they keep exiting forever if resumed.
 */

#define HOSTILE(name_, ret_, ...)                                                                  \
    static int name_(const glint_guest_val *a __attribute__((unused)),                             \
                     glint_guest_val *r __attribute__((unused)));                                  \
    GLINT_GUEST_EXPORT(name_, ret_, ##__VA_ARGS__);                                                \
    static int name_(const glint_guest_val *a __attribute__((unused)),                             \
                     glint_guest_val *r __attribute__((unused)))

#define P_DONE     GLINT_ABI_PORT_DONE
#define P_HOSTCALL GLINT_ABI_PORT_HOSTCALL
#define P_ABORT    GLINT_ABI_PORT_ABORT

#define K_RESULT     GLINT_ABI_MSG_RESULT
#define K_HOSTCALL   GLINT_ABI_MSG_HOSTCALL
#define K_HOSTRESULT GLINT_ABI_MSG_HOSTRESULT
#define K_ABORT      GLINT_ABI_MSG_ABORT

static const struct glint_abi_boot *bi(void)
{
    return glint_guest_boot_info();
}

static uint8_t *ob(void)
{
    return (uint8_t *)(uintptr_t)bi()->output_addr;
}

static uint32_t ocap(void)
{
    return (uint32_t)bi()->output_size;
}

static uint8_t *ib(void)
{
    return (uint8_t *)(uintptr_t)bi()->input_addr;
}

static inline void out_port(uint16_t port)
{
    __asm__ volatile("outb %%al, %%dx" : : "d"(port), "a"((uint8_t)0) : "memory");
}

__attribute__((noreturn)) static void exit_forever(uint16_t port)
{
    for (;;)
        out_port(port);
}

static void hdr(uint8_t *p, uint32_t size, uint8_t kind, uint8_t count, uint8_t type,
                int32_t status, uint32_t name_len)
{
    struct glint_abi_msg h = {.size = size,
                              .kind = kind,
                              .count = count,
                              .type = type,
                              .status = status,
                              .name_len = name_len};
    memcpy(p, &h, sizeof h);
}

static void vhdr(uint8_t *p, uint8_t type, uint32_t len)
{
    struct glint_abi_value v = {.type = type, .len = len};
    memcpy(p, &v, sizeof v);
}

#define ALIGN8(x) (((x) + 7u) & ~7u)

/* A string value of n raw bytes (not checked) at p, NUL-padded; returns the bytes used. */
static uint32_t put_str(uint8_t *p, const char *s, uint32_t n)
{
    uint32_t padded = ALIGN8(n + 1);
    vhdr(p, GLINT_ABI_STRING, n);
    memset(p + 8, 0, padded);
    memcpy(p + 8, s, n);
    return 8 + padded;
}

/* A scalar value at p; returns the bytes used. */
static uint32_t put_scalar(uint8_t *p, uint8_t type, uint32_t len, uint64_t bits)
{
    vhdr(p, type, len);
    memset(p + 8, 0, 8);
    memcpy(p + 8, &bits, len < 8 ? len : 8);
    return 8 + ALIGN8(len);
}

static void fill_garbage(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        p[i] = (uint8_t)seed;
    }
}

/* Send a RESULT with one raw string value (any bytes) and exit forever on `port`. */
__attribute__((noreturn)) static void raw_string_msg(uint8_t kind, int32_t status, const char *s,
                                                     uint32_t n, uint16_t port)
{
    uint8_t *p = ob();
    memset(p, 0, 64);
    uint32_t used = put_str(p + 16, s, n);
    hdr(p, 16 + used, kind, 1, 0, status, 0);
    exit_forever(port);
}

/* Send a HOSTCALL for name (name_len bytes, raw) with one raw string argument. */
__attribute__((noreturn)) static void raw_hostcall(const char *name, uint32_t name_len,
                                                   const char *arg, uint32_t arg_len)
{
    uint8_t *p = ob();
    memset(p, 0, 256);
    uint32_t pos = 16;
    memcpy(p + pos, name, name_len);
    pos = ALIGN8(pos + name_len + 1);
    pos += put_str(p + pos, arg, arg_len);
    hdr(p, pos, K_HOSTCALL, 1, GLINT_ABI_VOID, 0, name_len);
    exit_forever(P_HOSTCALL);
}

/* Turn a host-call failure into a guest error carrying the host's message. */
static int host_failed(int rc)
{
    return glint_guest_error(rc == -1 ? 8 : 9, "host call failed (%d): %s", rc,
                             glint_guest_host_error_message());
}

/* ---- benign reference functions --------------------------------------------------------- */

/* Benign(i64 x) -> i64 3x+1, after a heap round trip and a print host call. */
HOSTILE(Benign, GLINT_GUEST_I64, GLINT_GUEST_I64)
{
    char *p = malloc(64);
    if (!p)
        return glint_guest_error(1, "heap broken");
    free(p);
    if (glint_guest_print("benign %lld", (long long)a[0].i64) < 0)
        return glint_guest_error(2, "print failed: %s", glint_guest_host_error_message());
    r->i64 = a[0].i64 * 3 + 1;
    return 0;
}

/* Seven() -> i32 7. */
HOSTILE(Seven, GLINT_GUEST_I32)
{
    r->i32 = 7;
    return 0;
}

/* ---- RESULT messages (declared i32 unless the name says otherwise) ------------------------- */

HOSTILE(ResGarbage, GLINT_GUEST_I32)
{
    fill_garbage(ob(), 4096, 0x12345678u);
    exit_forever(P_DONE);
}

HOSTILE(ResAllZero, GLINT_GUEST_I32)
{
    memset(ob(), 0, 256);
    exit_forever(P_DONE);
}

/* Header promises an i32 value, the message ends after the value header. */
HOSTILE(ResTruncated, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 24, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* size 8: the message would end inside its own header. */
HOSTILE(ResSizeInsideHeader, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 8, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResOversized, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, ocap() + 8, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResSizeFFFFFFFF, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 0xffffffffu, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* 2^32 - 8: a multiple of 8 that wraps a 32-bit "pos + size". */
HOSTILE(ResSizeNear4G, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 0xfffffff8u, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResSizeUnaligned, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 28, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* A valid i32 result followed by 16 bytes the size claims but no value describes. */
HOSTILE(ResTrailingBytes, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memset(p, 0, 64);
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 48, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* count 1 but size 16: the value header lies beyond the message. */
HOSTILE(ResSelfRefCount, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 16, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* count 3, one value present. */
HOSTILE(ResCountGtContent, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, K_RESULT, 3, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResCount17, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    uint32_t pos = 16;
    for (int i = 0; i < 17; i++)
        pos += put_scalar(p + pos, GLINT_ABI_I32, 4, (uint64_t)i);
    hdr(p, pos, K_RESULT, 17, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResCount255, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    uint32_t pos = 16;
    for (int i = 0; i < 255; i++)
        pos += put_scalar(p + pos, GLINT_ABI_I32, 4, (uint64_t)i);
    hdr(p, pos, K_RESULT, 255, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared bytes; value len 0xffffffff. */
HOSTILE(ResBytesLenFFFFFFFF, GLINT_GUEST_BYTES)
{
    uint8_t *p = ob();
    memset(p, 0, 64);
    vhdr(p + 16, GLINT_ABI_BYTES, 0xffffffffu);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared bytes; len 2^32 - 7: rounding it up to 8 wraps to 0 in 32-bit arithmetic. */
HOSTILE(ResBytesLenWrapsAlign, GLINT_GUEST_BYTES)
{
    uint8_t *p = ob();
    memset(p, 0, 64);
    vhdr(p + 16, GLINT_ABI_BYTES, 0xfffffff9u);
    hdr(p, 24, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared string; len 0xffffffff: len + 1 (the NUL) wraps to 0 in 32-bit arithmetic. */
HOSTILE(ResStringLenFFFFFFFF, GLINT_GUEST_STRING)
{
    uint8_t *p = ob();
    memset(p, 0, 64);
    vhdr(p + 16, GLINT_ABI_STRING, 0xffffffffu);
    hdr(p, 24, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared string; payload claims the whole buffer (no room for header + NUL). */
HOSTILE(ResStringLenWholeBuffer, GLINT_GUEST_STRING)
{
    uint8_t *p = ob();
    memset(p, 'A', ocap());
    vhdr(p + 16, GLINT_ABI_STRING, ocap() - 24);
    hdr(p, ocap(), K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* An i32 value of length 8. */
HOSTILE(ResScalarWrongLen, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 8, 42);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* An i32 value of length 0xffffffff. */
HOSTILE(ResScalarLenFFFFFFFF, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    vhdr(p + 16, GLINT_ABI_I32, 0xffffffffu);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResValueTypeVoid, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    vhdr(p + 16, GLINT_ABI_VOID, 4);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResValueType200, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    vhdr(p + 16, 200, 4);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResReservedHeader, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    p[7] = 1;
    exit_forever(P_DONE);
}

HOSTILE(ResReservedValue, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    p[16 + 2] = 0x80;
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResPaddingNonZero, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    p[24 + 6] = 0x55;
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResKindZero, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, 0, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* A CALL message (host -> guest kind) as the result: e.g. to replay the input buffer. */
HOSTILE(ResKindCall, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, GLINT_ABI_MSG_CALL, 1, GLINT_ABI_I32, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResKindHostResult, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, K_HOSTRESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResKind99, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, 99, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResNameLenSet, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, K_RESULT, 1, 0, 0, 5);
    exit_forever(P_DONE);
}

/* Declared i32, well-formed result of type i64. */
HOSTILE(ResTypeI64ForI32, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I64, 8, 42);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared i32, an f32 of the same size: type confusion without a size change. */
HOSTILE(ResTypeF32ForI32, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_F32, 4, 0x40490fdbu);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared string, a bytes value (a way to smuggle invalid text). */
HOSTILE(ResTypeBytesForString, GLINT_GUEST_STRING)
{
    uint8_t *p = ob();
    memset(p, 0, 64);
    vhdr(p + 16, GLINT_ABI_BYTES, 3);
    memcpy(p + 24, "\xff\xfe\x00", 3);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared void, carries an i32. */
HOSTILE(ResValueForVoid, GLINT_GUEST_VOID)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared i32, no value. */
HOSTILE(ResNoValue, GLINT_GUEST_I32)
{
    hdr(ob(), 16, K_RESULT, 0, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Two well-formed i32 values. */
HOSTILE(ResCount2, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 1);
    put_scalar(p + 32, GLINT_ABI_I32, 4, 2);
    hdr(p, 48, K_RESULT, 2, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResBoolTwo, GLINT_GUEST_BOOL)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_BOOL, 1, 2);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared string: 8 bytes of text, then padding without any NUL. */
HOSTILE(ResStrUnterminated, GLINT_GUEST_STRING)
{
    uint8_t *p = ob();
    vhdr(p + 16, GLINT_ABI_STRING, 8);
    memcpy(p + 24, "abcdefghXXXXXXXX", 16);
    hdr(p, 40, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

/* Declared string: the NUL is there but the size ends the message before it. */
HOSTILE(ResStrNulOutsideMessage, GLINT_GUEST_STRING)
{
    uint8_t *p = ob();
    vhdr(p + 16, GLINT_ABI_STRING, 8);
    memcpy(p + 24, "abcdefgh\0\0\0\0\0\0\0\0", 16);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResStrOverlong2, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "a\xc0\xaf", 3, P_DONE);
}

HOSTILE(ResStrOverlong3, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "\xe0\x80\xaf", 3, P_DONE);
}

HOSTILE(ResStrOverlong4, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "\xf0\x80\x80\xaf", 4, P_DONE);
}

HOSTILE(ResStrSurrogate, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "x\xed\xa0\x80y", 5, P_DONE);
}

HOSTILE(ResStrSurrogatePair, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "\xed\xa0\xbd\xed\xb8\x80", 6, P_DONE);
}

HOSTILE(ResStrLoneContinuation, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "ok\x80", 3, P_DONE);
}

HOSTILE(ResStrTruncatedSequence, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "euro \xe2\x82", 7, P_DONE);
}

HOSTILE(ResStrAbove10FFFF, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "\xf4\x90\x80\x80", 4, P_DONE);
}

HOSTILE(ResStrByteFF, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "\xff\xfe", 2, P_DONE);
}

HOSTILE(ResStrEmbeddedNul, GLINT_GUEST_STRING)
{
    raw_string_msg(K_RESULT, 0, "a\0b", 3, P_DONE);
}

/* An error result (status != 0) without its message string. */
HOSTILE(ResErrNoMessage, GLINT_GUEST_I32)
{
    hdr(ob(), 16, K_RESULT, 0, 0, 5, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResErrMessageBadUtf8, GLINT_GUEST_I32)
{
    raw_string_msg(K_RESULT, 5, "bad \xc0\x80", 6, P_DONE);
}

HOSTILE(ResErrMessageUnterminated, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    vhdr(p + 16, GLINT_ABI_STRING, 8);
    memcpy(p + 24, "abcdefghXXXXXXXX", 16);
    hdr(p, 40, K_RESULT, 1, 0, 5, 0);
    exit_forever(P_DONE);
}

/* An error result whose "message" is an i32. */
HOSTILE(ResErrMessageI32, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, K_RESULT, 1, 0, 5, 0);
    exit_forever(P_DONE);
}

HOSTILE(ResErrTwoMessages, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    uint32_t pos = 16;
    pos += put_str(p + pos, "one", 3);
    pos += put_str(p + pos, "two", 3);
    hdr(p, pos, K_RESULT, 2, 0, 5, 0);
    exit_forever(P_DONE);
}

/* A well-formed error result whose text carries terminal escapes: the host must sanitise. */
HOSTILE(ResErrEscapes, GLINT_GUEST_I32)
{
    static const char t[] = "evil\x1b[2J\x1b]0;pwned\x07\r\nline2\x7f\t!";
    raw_string_msg(K_RESULT, 7, t, sizeof t - 1, P_DONE);
}

/* A well-formed error result with a 16000-byte message and status INT32_MIN. */
HOSTILE(ResErrHugeMessage, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    uint32_t n = 16000;
    vhdr(p + 16, GLINT_ABI_STRING, n);
    memset(p + 24, 'M', n);
    memset(p + 24 + n, 0, 8);
    hdr(p, 24 + ALIGN8(n + 1), K_RESULT, 1, 0, INT32_MIN, 0);
    exit_forever(P_DONE);
}

/* Valid non-ASCII UTF-8 in an error message. */
HOSTILE(ResErrUnicode, GLINT_GUEST_I32)
{
    static const char t[] = "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x92\xa9";
    raw_string_msg(K_RESULT, 3, t, sizeof t - 1, P_DONE);
}

/* ---- HOSTCALL messages ------------------------------------------------------------------------
 */

HOSTILE(HcGarbage, GLINT_GUEST_I32)
{
    fill_garbage(ob(), 4096, 0x9e3779b9u);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcAllZero, GLINT_GUEST_I32)
{
    memset(ob(), 0, 256);
    exit_forever(P_HOSTCALL);
}

/* name_len 5 but the message is only a header. */
HOSTILE(HcTruncatedName, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memcpy(p + 16, "print\0\0\0", 8);
    hdr(p, 16, K_HOSTCALL, 0, 0, 0, 5);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcSizeFFFFFFFF, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memcpy(p + 16, "print\0\0\0", 8);
    hdr(p, 0xffffffffu, K_HOSTCALL, 0, 0, 0, 5);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcSizeNear4G, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memcpy(p + 16, "print\0\0\0", 8);
    hdr(p, 0xfffffff8u, K_HOSTCALL, 0, 0, 0, 5);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcNameLenFFFFFFFF, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memcpy(p + 16, "print\0\0\0", 8);
    hdr(p, 24, K_HOSTCALL, 0, 0, 0, 0xffffffffu);
    exit_forever(P_HOSTCALL);
}

/* name_len points past the end of the message (self-referencing size). */
HOSTILE(HcNameLenPastMessage, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memset(p, 'a', 128);
    hdr(p, 24, K_HOSTCALL, 0, 0, 0, 40);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcEmptyName, GLINT_GUEST_I32)
{
    raw_hostcall("", 0, "x", 1);
}

HOSTILE(HcName64, GLINT_GUEST_I32)
{
    char name[65];
    memset(name, 'a', 64);
    name[64] = 0;
    raw_hostcall(name, 64, "x", 1);
}

HOSTILE(HcName1000, GLINT_GUEST_I32)
{
    char name[1001];
    memset(name, 'b', 1000);
    name[1000] = 0;
    uint8_t *p = ob();
    memset(p, 0, 1100);
    memcpy(p + 16, name, 1000);
    hdr(p, 16 + ALIGN8(1001), K_HOSTCALL, 0, 0, 0, 1000);
    exit_forever(P_HOSTCALL);
}

/* Name bytes without the NUL: the padding holds text. */
HOSTILE(HcNameUnterminated, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memcpy(p + 16, "printXYZ", 8);
    hdr(p, 24, K_HOSTCALL, 0, 0, 0, 5);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcNameBadChars, GLINT_GUEST_I32)
{
    raw_hostcall("pr-nt", 5, "x", 1);
}

HOSTILE(HcNameUtf8, GLINT_GUEST_I32)
{
    raw_hostcall("pr\xc3\xafnt", 6, "x", 1);
}

HOSTILE(HcNameOverlong, GLINT_GUEST_I32)
{
    raw_hostcall("pr\xc0\xafnt", 6, "x", 1);
}

/* "pri\0t": a NUL inside the name, so a C string comparison would see "pri". */
HOSTILE(HcNameEmbeddedNul, GLINT_GUEST_I32)
{
    raw_hostcall("pri\0t", 5, "x", 1);
}

/* "print" followed by junk after the NUL, inside the name padding. */
HOSTILE(HcNamePaddingJunk, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memset(p, 0, 64);
    memcpy(p + 16, "print\0Z\0", 8);
    uint32_t pos = 24 + put_str(p + 24, "x", 1);
    hdr(p, pos, K_HOSTCALL, 1, 0, 0, 5);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcArgUnterminated, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memcpy(p + 16, "print\0\0\0", 8);
    vhdr(p + 24, GLINT_ABI_STRING, 8);
    memcpy(p + 32, "abcdefghXXXXXXXX", 16);
    hdr(p, 48, K_HOSTCALL, 1, 0, 0, 5);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcArgOverlong, GLINT_GUEST_I32)
{
    raw_hostcall("print", 5, "\xc1\xbf", 2);
}

HOSTILE(HcArgSurrogate, GLINT_GUEST_I32)
{
    raw_hostcall("print", 5, "\xed\xbf\xbf", 3);
}

HOSTILE(HcArgLoneContinuation, GLINT_GUEST_I32)
{
    raw_hostcall("print", 5, "\xbf", 1);
}

HOSTILE(HcArgEmbeddedNul, GLINT_GUEST_I32)
{
    raw_hostcall("print", 5, "ab\0cd", 5);
}

/* count 2, one value present. */
HOSTILE(HcCountGtContent, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memset(p, 0, 64);
    memcpy(p + 16, "print\0\0\0", 8);
    uint32_t pos = 24 + put_str(p + 24, "x", 1);
    hdr(p, pos, K_HOSTCALL, 2, 0, 0, 5);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcCount17, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memcpy(p + 16, "HostAdd\0", 8);
    uint32_t pos = 24;
    for (int i = 0; i < 17; i++)
        pos += put_scalar(p + pos, GLINT_ABI_I64, 8, (uint64_t)i);
    hdr(p, pos, K_HOSTCALL, 17, GLINT_ABI_I64, 0, 7);
    exit_forever(P_HOSTCALL);
}

/* Expected return type 10 (no such type). */
HOSTILE(HcRetType10, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    memset(p, 0, 64);
    memcpy(p + 16, "print\0\0\0", 8);
    uint32_t pos = 24 + put_str(p + 24, "x", 1);
    hdr(p, pos, K_HOSTCALL, 1, 10, 0, 5);
    exit_forever(P_HOSTCALL);
}

/* A RESULT message on the host-call port. */
HOSTILE(HcKindResult, GLINT_GUEST_I32)
{
    hdr(ob(), 16, K_RESULT, 0, 0, 0, 0);
    exit_forever(P_HOSTCALL);
}

/* The guest forges a HOSTRESULT (the host's own reply kind) on the host-call port. */
HOSTILE(HcKindHostResult, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I64, 8, 42);
    hdr(p, 32, K_HOSTRESULT, 1, GLINT_ABI_I64, 0, 0);
    exit_forever(P_HOSTCALL);
}

HOSTILE(HcKindAbort, GLINT_GUEST_I32)
{
    raw_string_msg(K_ABORT, 1, "abort via hostcall", 18, P_HOSTCALL);
}

/* ---- host calls the host must refuse politely (valid encodings) --------------------------------
 */

static int call_add(const char *name, uint8_t ret_type, unsigned nargs, const glint_guest_val *args,
                    glint_guest_val *r)
{
    glint_guest_val v;
    int rc = glint_guest_host_call(name, ret_type, &v, nargs, args);
    if (rc)
        return host_failed(rc);
    r->i32 = (int32_t)v.i64;
    return 0;
}

HOSTILE(HcUnknownName, GLINT_GUEST_I32)
{
    glint_guest_val args[2] = {glint_guest_val_i64(1), glint_guest_val_i64(2)};
    return call_add("NoSuchHostFunction", GLINT_GUEST_I64, 2, args, r);
}

/* HostAdd is registered on the image; rows call this in a sandbox whose registry lacks it. */
HOSTILE(HcHostAdd, GLINT_GUEST_I32)
{
    glint_guest_val args[2] = {glint_guest_val_i64(40), glint_guest_val_i64(2)};
    return call_add("HostAdd", GLINT_GUEST_I64, 2, args, r);
}

HOSTILE(HcName63Unknown, GLINT_GUEST_I32)
{
    char name[64];
    memset(name, 'Z', 63);
    name[63] = 0;
    return call_add(name, GLINT_GUEST_I64, 0, NULL, r);
}

HOSTILE(HcWrongArgTypes, GLINT_GUEST_I32)
{
    glint_guest_val args[2] = {glint_guest_val_i32(1), glint_guest_val_i64(2)};
    return call_add("HostAdd", GLINT_GUEST_I64, 2, args, r);
}

HOSTILE(HcTooFewArgs, GLINT_GUEST_I32)
{
    glint_guest_val args[1] = {glint_guest_val_i64(1)};
    return call_add("HostAdd", GLINT_GUEST_I64, 1, args, r);
}

HOSTILE(HcTooManyArgs, GLINT_GUEST_I32)
{
    glint_guest_val args[3] = {glint_guest_val_i64(1), glint_guest_val_i64(2),
                               glint_guest_val_i64(3)};
    return call_add("HostAdd", GLINT_GUEST_I64, 3, args, r);
}

HOSTILE(HcSixteenArgs, GLINT_GUEST_I32)
{
    glint_guest_val args[16];
    for (int i = 0; i < 16; i++)
        args[i] = glint_guest_val_string("sixteen");
    return call_add("HostAdd", GLINT_GUEST_I64, 16, args, r);
}

HOSTILE(HcWrongReturnType, GLINT_GUEST_I32)
{
    glint_guest_val args[2] = {glint_guest_val_i64(1), glint_guest_val_i64(2)};
    return call_add("HostAdd", GLINT_GUEST_STRING, 2, args, r);
}

HOSTILE(HcPrintWrongReturnType, GLINT_GUEST_I32)
{
    glint_guest_val args[1] = {glint_guest_val_string("x")};
    return call_add("print", GLINT_GUEST_I32, 1, args, r);
}

HOSTILE(HcPrintNoArgs, GLINT_GUEST_I32)
{
    return call_add("print", GLINT_GUEST_VOID, 0, NULL, r);
}

HOSTILE(HcFailingFunction, GLINT_GUEST_I32)
{
    glint_guest_val args[2] = {glint_guest_val_i64(1), glint_guest_val_i64(2)};
    return call_add("HostFail", GLINT_GUEST_I64, 2, args, r);
}

/* HostBig(n) returns n bytes: more than the output buffer holds. */
HOSTILE(HcReplyTooBig, GLINT_GUEST_I32)
{
    glint_guest_val arg = glint_guest_val_u32(20000), v;
    int rc = glint_guest_host_call("HostBig", GLINT_GUEST_STRING, &v, 1, &arg);
    if (rc)
        return host_failed(rc);
    r->i32 = (int32_t)v.len;
    return 0;
}

/* ---- floods and recursion
 * ------------------------------------------------------------------------ */

HOSTILE(Print10000, GLINT_GUEST_U32)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < 10000; i++) {
        if (glint_guest_print("p") < 0)
            return glint_guest_error(1, "print %u failed: %s", i, glint_guest_host_error_message());
        n++;
    }
    r->u32 = n;
    return 0;
}

HOSTILE(Add10000, GLINT_GUEST_I64)
{
    int64_t sum = 0;
    for (int64_t i = 0; i < 10000; i++) {
        glint_guest_val args[2] = {glint_guest_val_i64(sum), glint_guest_val_i64(i)}, v;
        if (glint_guest_host_call("HostAdd", GLINT_GUEST_I64, &v, 2, args) != 0)
            return host_failed(-1);
        sum = v.i64;
    }
    r->i64 = sum;
    return 0;
}

/* Host calls forever: only a deadline or an interrupt stops it. */
HOSTILE(PrintForever, GLINT_GUEST_VOID)
{
    for (;;)
        glint_guest_print("again");
    return 0;
}

/* CallReenter(mode) -> i32: the host function Reenter(mode) calls back into sandboxes. */
HOSTILE(CallReenter, GLINT_GUEST_I32, GLINT_GUEST_I32)
{
    glint_guest_val v;
    int rc = glint_guest_host_call("Reenter", GLINT_GUEST_I32, &v, 1, &a[0]);
    if (rc)
        return host_failed(rc);
    r->i32 = v.i32;
    return 0;
}

/* ---- ABORT messages ----------------------------------------------------------------------------
 */

HOSTILE(AbGarbage, GLINT_GUEST_VOID)
{
    fill_garbage(ob(), 4096, 0x0badf00du);
    exit_forever(P_ABORT);
}

HOSTILE(AbUnterminated, GLINT_GUEST_VOID)
{
    uint8_t *p = ob();
    vhdr(p + 16, GLINT_ABI_STRING, 8);
    memcpy(p + 24, "abcdefghXXXXXXXX", 16);
    hdr(p, 40, K_ABORT, 1, 0, 77, 0);
    exit_forever(P_ABORT);
}

/* The budget's reserved abort code from a guest that has no budget (it declares none). */
HOSTILE(AbBudgetCode, GLINT_GUEST_VOID)
{
    glint_guest_abort(GLINT_ABI_ABORT_BUDGET, "fake budget");
}

HOSTILE(AbInvalidUtf8, GLINT_GUEST_VOID)
{
    raw_string_msg(K_ABORT, 78, "bad \xed\xa0\x80", 7, P_ABORT);
}

HOSTILE(AbSizeFFFFFFFF, GLINT_GUEST_VOID)
{
    uint8_t *p = ob();
    put_str(p + 16, "x", 1);
    hdr(p, 0xffffffffu, K_ABORT, 1, 0, 79, 0);
    exit_forever(P_ABORT);
}

HOSTILE(AbMessageI32, GLINT_GUEST_VOID)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, K_ABORT, 1, 0, 80, 0);
    exit_forever(P_ABORT);
}

HOSTILE(AbNoMessage, GLINT_GUEST_VOID)
{
    hdr(ob(), 16, K_ABORT, 0, 0, 81, 0);
    exit_forever(P_ABORT);
}

/* Nothing written: the output buffer still holds the last (init) RESULT. */
HOSTILE(AbStaleBuffer, GLINT_GUEST_VOID)
{
    exit_forever(P_ABORT);
}

HOSTILE(AbEscapes, GLINT_GUEST_VOID)
{
    static const char t[] = "\x1b[31mred\x1b[0m\r\x08\x08 bell\x07";
    raw_string_msg(K_ABORT, 82, t, sizeof t - 1, P_ABORT);
}

/* A valid raw abort filling most of the buffer. */
HOSTILE(AbRawHuge, GLINT_GUEST_VOID)
{
    uint8_t *p = ob();
    uint32_t n = ocap() - 32;
    vhdr(p + 16, GLINT_ABI_STRING, n);
    memset(p + 24, 'H', n);
    memset(p + 24 + n, 0, 8);
    hdr(p, 24 + ALIGN8(n + 1), K_ABORT, 1, 0, 83, 0);
    exit_forever(P_ABORT);
}

/* glint_guest_abort with a 100 KB message: the runtime truncates it to the buffer. */
HOSTILE(AbHugeFormatted, GLINT_GUEST_VOID)
{
    size_t n = 100 * 1024;
    char *s = malloc(n + 1);
    if (!s)
        return glint_guest_error(3, "out of memory");
    memset(s, 'A', n);
    s[n] = 0;
    glint_guest_abort(43, "huge:%s", s);
}

/* ---- early, repeated and forged exits ----------------------------------------------------------
 */

/* DONE before writing anything: the output buffer holds the init RESULT (void). */
HOSTILE(EarlyDoneI32, GLINT_GUEST_I32)
{
    exit_forever(P_DONE);
}

/* The same for a void function: the stale void RESULT is a well-formed answer. */
HOSTILE(EarlyDoneVoid, GLINT_GUEST_VOID)
{
    exit_forever(P_DONE);
}

/* A host call, then DONE with the host's reply still in the buffer. */
HOSTILE(EarlyDoneAfterHostCall, GLINT_GUEST_I32)
{
    glint_guest_print("then done");
    exit_forever(P_DONE);
}

/* DoubleDone() -> i32: answers this call with 1, the next call with a raw i32 2, the one after
 * with 3 (through the runtime); then the runtime's loop is back in step. */
HOSTILE(DoubleDone, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 1);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    out_port(P_DONE);
    put_scalar(p + 16, GLINT_ABI_I32, 4, 2);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    out_port(P_DONE);
    r->i32 = 3;
    return 0;
}

/* Overwrite the input buffer (the CALL being served) in the middle of a host call. */
HOSTILE(ScribbleInputDuringHostCall, GLINT_GUEST_I32)
{
    fill_garbage(ib(), bi()->input_size, 0x5eedu);
    if (glint_guest_print("after scribbling the input buffer") < 0)
        return host_failed(-1);
    fill_garbage(ib(), bi()->input_size, 0x5eed2u);
    glint_guest_val args[2] = {glint_guest_val_i64(2), glint_guest_val_i64(3)}, v;
    if (glint_guest_host_call("HostAdd", GLINT_GUEST_I64, &v, 2, args) != 0)
        return host_failed(-1);
    r->i32 = (int32_t)v.i64;
    return 0;
}

/* After HostAdd's reply, edit it in place into a RESULT (kind 4 -> 2) and exit DONE. */
HOSTILE(ForgeResultFromReply, GLINT_GUEST_I64)
{
    glint_guest_val args[2] = {glint_guest_val_i64(40), glint_guest_val_i64(2)}, v;
    if (glint_guest_host_call("HostAdd", GLINT_GUEST_I64, &v, 2, args) != 0)
        return host_failed(-1);
    uint8_t *p = ob();
    p[4] = K_RESULT;
    p[6] = 0; /* type: 0 in a RESULT */
    int64_t forged = 4242;
    memcpy(p + 24, &forged, 8);
    exit_forever(P_DONE);
}

/* After the reply, scramble it and exit DONE. */
HOSTILE(ScribbleReplyThenDone, GLINT_GUEST_I32)
{
    glint_guest_val args[2] = {glint_guest_val_i64(40), glint_guest_val_i64(2)}, v;
    if (glint_guest_host_call("HostAdd", GLINT_GUEST_I64, &v, 2, args) != 0)
        return host_failed(-1);
    uint8_t *p = ob();
    p[5] = 200; /* count */
    exit_forever(P_DONE);
}

/* A result larger than the output buffer, through the runtime. */
HOSTILE(ReturnTooBig, GLINT_GUEST_BYTES)
{
    uint32_t n = ocap() + 4096;
    uint8_t *p = malloc(n);
    if (!p)
        return glint_guest_error(3, "out of memory");
    memset(p, 0xab, n);
    *r = glint_guest_val_bytes(p, n);
    r->flags = GLINT_GUEST_VAL_FREE;
    return 0;
}

/* ---- port I/O ---------------------------------------------------------------------------------
 */

#define PORT_FN(name_, insn_, port_)                                                               \
    HOSTILE(name_, GLINT_GUEST_I32)                                                                \
    {                                                                                              \
        uint32_t v = 0;                                                                            \
        __asm__ volatile(insn_ : "+a"(v) : "d"((uint16_t)(port_)) : "memory");                     \
        r->i32 = (int32_t)v;                                                                       \
        return 0;                                                                                  \
    }

PORT_FN(OutbImm80, "outb %%al, $0x80", 0)
PORT_FN(OutwImm80, "outw %%ax, $0x80", 0)
PORT_FN(OutlImm80, "outl %%eax, $0x80", 0)
PORT_FN(InbImm80, "inb $0x80, %%al", 0)
PORT_FN(InwImm80, "inw $0x80, %%ax", 0)
PORT_FN(InlImm80, "inl $0x80, %%eax", 0)
PORT_FN(OutbDx3f8, "outb %%al, %%dx", 0x3f8)
PORT_FN(OutwDxCf8, "outw %%ax, %%dx", 0xcf8)
PORT_FN(OutlDxCf8, "outl %%eax, %%dx", 0xcf8)
PORT_FN(InbDx3f8, "inb %%dx, %%al", 0x3f8)
PORT_FN(InwDxCfc, "inw %%dx, %%ax", 0xcfc)
PORT_FN(InlDxCfc, "inl %%dx, %%eax", 0xcfc)
PORT_FN(OutbDxFFFF, "outb %%al, %%dx", 0xffff)
PORT_FN(OutbDxFaultPort, "outb %%al, %%dx", GLINT_ABI_PORT_FAULT)
PORT_FN(OutbImmDF, "outb %%al, $0xdf", 0)
PORT_FN(OutbImmE4, "outb %%al, $0xe4", 0)
PORT_FN(InbDone, "inb $0xe0, %%al", 0)
PORT_FN(InwDone, "inw $0xe0, %%ax", 0)
PORT_FN(InlDone, "inl $0xe0, %%eax", 0)
PORT_FN(InbDxHostCall, "inb %%dx, %%al", GLINT_ABI_PORT_HOSTCALL)
PORT_FN(InbDxAbort, "inb %%dx, %%al", GLINT_ABI_PORT_ABORT)
PORT_FN(OutwDone, "outw %%ax, $0xe0", 0)
PORT_FN(OutlDone, "outl %%eax, $0xe0", 0)
PORT_FN(OutwDxHostCall, "outw %%ax, %%dx", GLINT_ABI_PORT_HOSTCALL)
PORT_FN(OutwDxAbort, "outw %%ax, %%dx", GLINT_ABI_PORT_ABORT)

/* A well-formed i32 result sent with `rep outsb` of 3 bytes instead of one `outb`. */
HOSTILE(RepOutsbDone, GLINT_GUEST_I32)
{
    uint8_t *p = ob();
    put_scalar(p + 16, GLINT_ABI_I32, 4, 42);
    hdr(p, 32, K_RESULT, 1, 0, 0, 0);
    static const uint8_t src[8] = {1, 2, 3};
    const uint8_t *s = src;
    uint64_t n = 3;
    __asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"((uint16_t)P_DONE) : "memory");
    /* Resumed by a later call: the runtime's own loop must not be reached in step. */
    exit_forever(P_DONE);
}

/* `rep insb` from the DONE port into the heap: an `in` the host never answers. */
HOSTILE(RepInsbDone, GLINT_GUEST_I32)
{
    uint8_t *dst = (uint8_t *)(uintptr_t)bi()->heap_addr + 4096;
    uint64_t n = 16;
    __asm__ volatile("rep insb" : "+D"(dst), "+c"(n) : "d"((uint16_t)P_DONE) : "memory");
    exit_forever(P_DONE);
}

/* `rep outsb` whose source is the GDT (supervisor): the emulator must not read it for us. */
HOSTILE(OutsbFromSupervisor, GLINT_GUEST_I32)
{
    const uint8_t *s = (const uint8_t *)(uintptr_t)GLINT_ABI_GDT_ADDR;
    uint64_t n = 8;
    __asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"((uint16_t)P_DONE) : "memory");
    exit_forever(P_DONE);
}

/* `rep insb` into the GDT (supervisor, read-only) from an allowed port. */
HOSTILE(InsbIntoGdt, GLINT_GUEST_I32)
{
    uint8_t *dst = (uint8_t *)(uintptr_t)GLINT_ABI_GDT_ADDR;
    uint64_t n = 8;
    __asm__ volatile("rep insb" : "+D"(dst), "+c"(n) : "d"((uint16_t)P_DONE) : "memory");
    exit_forever(P_DONE);
}

/* ---- memory -------------------------------------------------------------------------------- */

HOSTILE(ReadAt, GLINT_GUEST_U64, GLINT_GUEST_U64)
{
    r->u64 = *(volatile uint64_t *)(uintptr_t)a[0].u64;
    return 0;
}

HOSTILE(WriteAt, GLINT_GUEST_I32, GLINT_GUEST_U64)
{
    *(volatile uint64_t *)(uintptr_t)a[0].u64 = 0x4141414141414141ull;
    r->i32 = 1;
    return 0;
}

HOSTILE(JumpTo, GLINT_GUEST_I32, GLINT_GUEST_U64)
{
    __asm__ volatile("jmp *%0" : : "r"(a[0].u64) : "memory");
    return 0;
}

HOSTILE(CallTo, GLINT_GUEST_I32, GLINT_GUEST_U64)
{
    __asm__ volatile("call *%0" : : "r"(a[0].u64) : "memory");
    return 0;
}

HOSTILE(ReadMemoryEnd, GLINT_GUEST_U64)
{
    r->u64 = *(volatile uint64_t *)(uintptr_t)bi()->memory_size;
    return 0;
}

HOSTILE(WriteMemoryEnd, GLINT_GUEST_I32)
{
    *(volatile uint64_t *)(uintptr_t)bi()->memory_size = 1;
    return 0;
}

HOSTILE(WriteStackGuard, GLINT_GUEST_I32)
{
    *(volatile uint64_t *)(uintptr_t)(bi()->stack_addr - 8) = 1;
    return 0;
}

HOSTILE(WriteOwnCode, GLINT_GUEST_I32)
{
    *(volatile uint8_t *)(uintptr_t)&ResGarbage = 0xc3;
    return 0;
}

static const char rodata_text[] = "read-only text";

HOSTILE(WriteRodata, GLINT_GUEST_I32)
{
    ((volatile char *)(uintptr_t)rodata_text)[0] = 'W';
    return 0;
}

/* Rewrite our own export record (in .glint_exports, read-only) to point elsewhere. */
HOSTILE(WriteExportTable, GLINT_GUEST_I32)
{
    extern const struct glint_abi_export __glint_exports_start[];
    ((volatile uint64_t *)(uintptr_t)&__glint_exports_start[0].fn)[0] = 0;
    return 0;
}

/* Self-modifying code: patch our own instruction stream, then run it. */
HOSTILE(SelfModify, GLINT_GUEST_I32)
{
    uint8_t *code = (uint8_t *)(uintptr_t)&Seven;
    code[0] = 0xcc; /* int3 */
    __asm__ volatile("" ::: "memory");
    return Seven(a, r);
}

static volatile uint64_t data_word = 0xc3; /* `ret` if it were executed */

HOSTILE(JumpIntoData, GLINT_GUEST_I32)
{
    __asm__ volatile("call *%0" : : "r"(&data_word) : "memory");
    return 0;
}

HOSTILE(JumpIntoInputBuffer, GLINT_GUEST_I32)
{
    __asm__ volatile("call *%0" : : "r"(ib() + 32) : "memory");
    return 0;
}

HOSTILE(JumpIntoBootPage, GLINT_GUEST_I32)
{
    __asm__ volatile("call *%0" : : "r"((uint64_t)GLINT_ABI_BOOT_ADDR + 8) : "memory");
    return 0;
}

HOSTILE(JumpIntoHeap, GLINT_GUEST_I32)
{
    uint8_t *p = malloc(16);
    if (!p)
        return glint_guest_error(3, "out of memory");
    p[0] = 0xc3;
    __asm__ volatile("call *%0" : : "r"(p) : "memory");
    return 0;
}

/* Return to a non-canonical address. */
HOSTILE(ReturnToNonCanonical, GLINT_GUEST_I32)
{
    __asm__ volatile("pushq %0\n\tret" : : "r"(0x00ff000000001000ull) : "memory");
    return 0;
}

/* ---- privileged and unusual instructions ----------------------------------------------------- */

#define INSN_FN(name_, ...)                                                                        \
    HOSTILE(name_, GLINT_GUEST_I32)                                                                \
    {                                                                                              \
        __asm__ volatile(__VA_ARGS__ : : : "rax", "rbx", "rcx", "rdx", "r11", "memory");           \
        r->i32 = 1;                                                                                \
        return 0;                                                                                  \
    }

INSN_FN(Syscall, "syscall")
INSN_FN(Sysenter, "sysenter")
INSN_FN(Sysexit, "sysexitq")
INSN_FN(Sysret, "sysretq")
INSN_FN(Int80, "int $0x80")
INSN_FN(IntPageFault, "int $14")
INSN_FN(Int3, "int3")
INSN_FN(Int1Icebp, ".byte 0xf1")
INSN_FN(Into, ".byte 0xce")
INSN_FN(Hlt, "hlt")
INSN_FN(Cli, "cli")
INSN_FN(Sti, "sti")
INSN_FN(Rdmsr, "mov $0xc0000082, %%ecx\n\trdmsr")
INSN_FN(Wrmsr, "mov $0xc0000082, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, %%edx\n\twrmsr")
INSN_FN(Lgdt, "lgdt (%%rsp)")
INSN_FN(Lidt, "lidt (%%rsp)")
INSN_FN(Ltr, "mov $0x28, %%eax\n\tltr %%ax")
INSN_FN(Lldt, "xor %%eax, %%eax\n\tlldt %%ax")
INSN_FN(MovToCr3, "mov $0x19000, %%eax\n\tmov %%rax, %%cr3")
INSN_FN(MovFromCr0, "mov %%cr0, %%rax")
INSN_FN(MovToCr0, "xor %%eax, %%eax\n\tmov %%rax, %%cr0")
INSN_FN(MovToCr4, "xor %%eax, %%eax\n\tmov %%rax, %%cr4")
INSN_FN(MovToDr7, "mov $0x400, %%eax\n\tmov %%rax, %%dr7")
INSN_FN(Invlpg, "invlpg (%%rsp)")
INSN_FN(Wbinvd, "wbinvd")
INSN_FN(Invd, "invd")
INSN_FN(Rdpmc, "xor %%ecx, %%ecx\n\trdpmc")
INSN_FN(Xsetbv, "xor %%ecx, %%ecx\n\tmov $3, %%eax\n\txor %%edx, %%edx\n\txsetbv")
INSN_FN(Swapgs, "swapgs")
INSN_FN(Clts, "clts")
INSN_FN(Lmsw, "xor %%eax, %%eax\n\tlmsw %%ax")
INSN_FN(Vmcall, "xor %%eax, %%eax\n\tvmcall")
INSN_FN(Vmmcall, "xor %%eax, %%eax\n\tvmmcall")
INSN_FN(Ud2, "ud2")
INSN_FN(MovSsKernel, "mov $0x10, %%eax\n\tmov %%ax, %%ss")
INSN_FN(MovSsKernelRpl3, "mov $0x13, %%eax\n\tmov %%ax, %%ss")
INSN_FN(MovSsTss, "mov $0x28, %%eax\n\tmov %%ax, %%ss")
INSN_FN(MovSsNull, "xor %%eax, %%eax\n\tmov %%ax, %%ss")
INSN_FN(MovDsKernel, "mov $0x10, %%eax\n\tmov %%ax, %%ds")
INSN_FN(MovDsTss, "mov $0x2b, %%eax\n\tmov %%ax, %%ds")
INSN_FN(MovDsTss28, "mov $0x28, %%eax\n\tmov %%ax, %%ds")
INSN_FN(MovFsUserData, "mov $0x2b, %%eax\n\tmov %%ax, %%fs")
INSN_FN(MovEsUserData, "mov $0x2b, %%eax\n\tmov %%ax, %%es")
INSN_FN(MovEsKernelCode, "mov $0x08, %%eax\n\tmov %%ax, %%es")
INSN_FN(MovFsPastGdt, "mov $0xfffb, %%eax\n\tmov %%ax, %%fs")
INSN_FN(MovGsLdt, "mov $0x0f, %%eax\n\tmov %%ax, %%gs")
INSN_FN(MovGsTss, "mov $0x2b, %%eax\n\tmov %%ax, %%gs")
INSN_FN(LdmxcsrReserved, "pushq $-1\n\tldmxcsr (%%rsp)\n\tpopq %%rax")
INSN_FN(Wrfsbase, "xor %%eax, %%eax\n\twrfsbase %%rax")
/* iretq to CPL0: ss 0x10, cs 0x08. */
INSN_FN(IretqToCpl0, "mov %%rsp, %%rax\n\t"
                     "pushq $0x10\n\t"
                     "pushq %%rax\n\t"
                     "pushq $0x2\n\t"
                     "pushq $0x08\n\t"
                     "lea 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "iretq\n"
                     "1:\n\t"
                     "ud2")
/* iretq to CPL3 asking for IOPL 3 (silently ignored), then cli. */
INSN_FN(IretqIoplThenCli, "mov %%rsp, %%rax\n\t"
                          "pushq $0x1b\n\t"
                          "pushq %%rax\n\t"
                          "pushq $0x3002\n\t"
                          "pushq $0x23\n\t"
                          "lea 1f(%%rip), %%rax\n\t"
                          "pushq %%rax\n\t"
                          "iretq\n"
                          "1:\n\t"
                          "cli")
/* popf asking for IOPL 3, then a denied port. */
INSN_FN(PopfIoplThenOut, "pushfq\n\torq $0x3000, (%%rsp)\n\tpopfq\n\toutb %%al, $0x80")
/* Single-step trap flag. */
INSN_FN(PopfTrapFlag, "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\tnop\n\tnop")
/* Far jump / far return / far call to kernel code and the TSS. */
INSN_FN(LjmpKernelCs, "sub $16, %%rsp\n\t"
                      "lea 1f(%%rip), %%rax\n\t"
                      "mov %%eax, (%%rsp)\n\t"
                      "movw $0x08, 4(%%rsp)\n\t"
                      "ljmpl *(%%rsp)\n"
                      "1:\n\t"
                      "ud2")
INSN_FN(LretKernelCs, "pushq $0x08\n\t"
                      "lea 1f(%%rip), %%rax\n\t"
                      "pushq %%rax\n\t"
                      "lretq\n"
                      "1:\n\t"
                      "ud2")
INSN_FN(LcallTss, "sub $16, %%rsp\n\t"
                  "movl $0, (%%rsp)\n\t"
                  "movw $0x2b, 4(%%rsp)\n\t"
                  "lcalll *(%%rsp)\n\t"
                  "ud2")
/* Unmasked SSE divide-by-zero: #XM. */
INSN_FN(SseDivZeroUnmasked, "pushq $0x1d80\n\t"
                            "ldmxcsr (%%rsp)\n\t"
                            "popq %%rax\n\t"
                            "xorps %%xmm0, %%xmm0\n\t"
                            "mov $0x3f800000, %%eax\n\t"
                            "movd %%eax, %%xmm1\n\t"
                            "divss %%xmm0, %%xmm1")
/* Unmasked x87 divide-by-zero: #MF at the next wait. */
INSN_FN(X87DivZeroUnmasked, "fninit\n\t"
                            "pushq $0x37b\n\t"
                            "fldcw (%%rsp)\n\t"
                            "popq %%rax\n\t"
                            "fld1\n\t"
                            "fldz\n\t"
                            "fdivrp\n\t"
                            "fwait")
INSN_FN(IdivOverflow, "mov $0x8000000000000000, %%rax\n\t"
                      "cqo\n\t"
                      "mov $-1, %%rbx\n\t"
                      "idiv %%rbx")
/* Alignment check requested with RFLAGS.AC (CR0.AM is clear in glint's CR0). */
INSN_FN(AlignmentCheck, "pushfq\n\t"
                        "orq $0x40000, (%%rsp)\n\t"
                        "popfq\n\t"
                        "mov 1(%%rsp), %%rax\n\t"
                        "pushfq\n\t"
                        "andq $~0x40000, (%%rsp)\n\t"
                        "popfq")

/* vmmcall (AMD's hypercall) at CPL3: returns rax after it in the high half and the instruction's
 * bytes read back afterwards in the low 24 bits (a hypervisor that "fixes" hypercalls may patch
 * the read-only code page). */
HOSTILE(VmmcallSite, GLINT_GUEST_U64)
{
    uint64_t rax = 0;
    const uint8_t *site;
    __asm__ volatile("lea 1f(%%rip), %1\n"
                     "1:\n\t"
                     "vmmcall"
                     : "+a"(rax), "=&r"(site)
                     :
                     : "rbx", "rcx", "rdx", "memory");
    r->u64 = (rax << 32) | ((uint64_t)site[2] << 16) | ((uint64_t)site[1] << 8) | site[0];
    return 0;
}

/* vmcall (Intel's hypercall) at CPL3, reported like VmmcallSite. */
HOSTILE(VmcallSite, GLINT_GUEST_U64)
{
    uint64_t rax = 0;
    const uint8_t *site;
    __asm__ volatile("lea 1f(%%rip), %1\n"
                     "1:\n\t"
                     "vmcall"
                     : "+a"(rax), "=&r"(site)
                     :
                     : "rbx", "rcx", "rdx", "memory");
    r->u64 = (rax << 32) | ((uint64_t)site[2] << 16) | ((uint64_t)site[1] << 8) | site[0];
    return 0;
}

/* xsetbv asking for every XCR0 bit (edx:eax all ones). */
INSN_FN(XsetbvAll, "xor %%ecx, %%ecx\n\tmov $-1, %%eax\n\tmov $-1, %%edx\n\txsetbv")

/* AvxAdd(i64 x) -> i64: x + 1 + 2 + 3 + 4 computed in 256-bit AVX registers
 * (vbroadcastss, vaddps, vextractf128): needs CR4.OSXSAVE and XCR0.AVX on hardware KVM. */
HOSTILE(AvxAdd, GLINT_GUEST_I64, GLINT_GUEST_I64)
{
    static const float lanes[8] = {1, 2, 3, 4, 0, 0, 0, 0};
    float x = (float)a[0].i64, out[4];
    __asm__ volatile("vbroadcastss %1, %%ymm0\n\t"
                     "vmovups %2, %%ymm1\n\t"
                     "vaddps %%ymm1, %%ymm0, %%ymm0\n\t"
                     "vextractf128 $0, %%ymm0, %0\n\t"
                     "vzeroupper"
                     : "=m"(out)
                     : "m"(x), "m"(lanes)
                     : "xmm0", "xmm1", "memory");
    r->i64 = (int64_t)(out[0] + out[1] + out[2] + out[3]) - 3 * a[0].i64;
    return 0;
}

/* AvxDirty(u64 v): leave v in every 64-bit lane of ymm0..ymm15 (upper halves included). */
HOSTILE(AvxDirty, GLINT_GUEST_VOID, GLINT_GUEST_U64)
{
    uint64_t v = a[0].u64;
    __asm__ volatile("vbroadcastsd %0, %%ymm0\n\t"
                     "vmovaps %%ymm0, %%ymm1\n\tvmovaps %%ymm0, %%ymm2\n\t"
                     "vmovaps %%ymm0, %%ymm3\n\tvmovaps %%ymm0, %%ymm4\n\t"
                     "vmovaps %%ymm0, %%ymm5\n\tvmovaps %%ymm0, %%ymm6\n\t"
                     "vmovaps %%ymm0, %%ymm7\n\tvmovaps %%ymm0, %%ymm8\n\t"
                     "vmovaps %%ymm0, %%ymm9\n\tvmovaps %%ymm0, %%ymm10\n\t"
                     "vmovaps %%ymm0, %%ymm11\n\tvmovaps %%ymm0, %%ymm12\n\t"
                     "vmovaps %%ymm0, %%ymm13\n\tvmovaps %%ymm0, %%ymm14\n\t"
                     "vmovaps %%ymm0, %%ymm15"
                     :
                     : "m"(v)
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
    return 0;
}

/* AvxUpper() -> u64: OR of the upper 128 bits of ymm0..ymm15 as found (stored straight to
 * memory, so no register is changed before it is read). */
HOSTILE(AvxUpper, GLINT_GUEST_U64)
{
    uint64_t up[16][2];
    __asm__ volatile("vextractf128 $1, %%ymm0, 0(%0)\n\tvextractf128 $1, %%ymm1, 16(%0)\n\t"
                     "vextractf128 $1, %%ymm2, 32(%0)\n\tvextractf128 $1, %%ymm3, 48(%0)\n\t"
                     "vextractf128 $1, %%ymm4, 64(%0)\n\tvextractf128 $1, %%ymm5, 80(%0)\n\t"
                     "vextractf128 $1, %%ymm6, 96(%0)\n\tvextractf128 $1, %%ymm7, 112(%0)\n\t"
                     "vextractf128 $1, %%ymm8, 128(%0)\n\tvextractf128 $1, %%ymm9, 144(%0)\n\t"
                     "vextractf128 $1, %%ymm10, 160(%0)\n\tvextractf128 $1, %%ymm11, 176(%0)\n\t"
                     "vextractf128 $1, %%ymm12, 192(%0)\n\tvextractf128 $1, %%ymm13, 208(%0)\n\t"
                     "vextractf128 $1, %%ymm14, 224(%0)\n\tvextractf128 $1, %%ymm15, 240(%0)"
                     :
                     : "r"(up)
                     : "memory");
    uint64_t acc = 0;
    for (int i = 0; i < 16; i++)
        acc |= up[i][0] | up[i][1];
    r->u64 = acc;
    return 0;
}

/* Rdpid() -> u64: what rdpid reads (IA32_TSC_AUX). */
HOSTILE(Rdpid, GLINT_GUEST_U64)
{
    uint64_t v;
    __asm__ volatile("rdpid %0" : "=r"(v));
    r->u64 = v;
    return 0;
}

/* Rdtscp() -> u64: the TSC_AUX part (ecx) of rdtscp. */
HOSTILE(Rdtscp, GLINT_GUEST_U64)
{
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    (void)lo;
    (void)hi;
    r->u64 = aux;
    return 0;
}

/* Selectors() -> u64: ds | es << 16 | fs << 32 | gs << 48 now. */
HOSTILE(Selectors, GLINT_GUEST_U64)
{
    uint16_t ds, es, fs, gs;
    __asm__ volatile("mov %%ds, %0\n\tmov %%es, %1\n\tmov %%fs, %2\n\tmov %%gs, %3"
                     : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
    r->u64 = ds | (uint64_t)es << 16 | (uint64_t)fs << 32 | (uint64_t)gs << 48;
    return 0;
}

/* FsBaseSwap(v) -> u64: set the FS base to v with wrfsbase, return the previous one. */
HOSTILE(FsBaseSwap, GLINT_GUEST_U64, GLINT_GUEST_U64)
{
    uint64_t old;
    __asm__ volatile("rdfsbase %0\n\twrfsbase %1" : "=&r"(old) : "r"(a[0].u64) : "memory");
    r->u64 = old;
    return 0;
}

/* GsBaseSwap(v) -> u64: the same for GS. */
HOSTILE(GsBaseSwap, GLINT_GUEST_U64, GLINT_GUEST_U64)
{
    uint64_t old;
    __asm__ volatile("rdgsbase %0\n\twrgsbase %1" : "=&r"(old) : "r"(a[0].u64) : "memory");
    r->u64 = old;
    return 0;
}

/* ---- stack and exception path -------------------------------------------------------------------
 */

/* Run `insn` with rsp = addr (never returns if it faults). */
#define WITH_RSP(addr, insn)                                                                       \
    __asm__ volatile("mov %%rsp, %%rbx\n\t"                                                        \
                     "mov %0, %%rsp\n\t" insn "\n\t"                                               \
                     "mov %%rbx, %%rsp"                                                            \
                     :                                                                             \
                     : "r"((uint64_t)(addr))                                                       \
                     : "rbx", "memory")

/* rsp at the bottom of the stack: the push lands in the guard page. */
HOSTILE(RspIntoGuardPush, GLINT_GUEST_I32)
{
    WITH_RSP(bi()->stack_addr, "pushq $0");
    return 0;
}

/* rsp in the exception stack (supervisor): the push faults, delivery uses IST1 anyway. */
HOSTILE(RspExceptionStackPush, GLINT_GUEST_I32)
{
    WITH_RSP(GLINT_ABI_XSTACK_ADDR + GLINT_ABI_XSTACK_SIZE, "pushq $0");
    return 0;
}

/* rsp non-canonical: #SS. */
HOSTILE(RspNonCanonicalPush, GLINT_GUEST_I32)
{
    WITH_RSP(0x8000000000000000ull, "pushq $0");
    return 0;
}

/* rsp in an unmapped guard page, then an exception: the CPU must not need the user stack. */
HOSTILE(RspUnmappedThenUd2, GLINT_GUEST_I32)
{
    WITH_RSP(GLINT_ABI_XSTACK_ADDR - 0x800, "ud2");
    return 0;
}

/* rsp 0, then a fault: with a non-IST handler this would be a double fault. */
HOSTILE(RspZeroThenPageFault, GLINT_GUEST_I32)
{
    WITH_RSP(0, "mov 0x10, %%rax");
    return 0;
}

/* rsp pointing at the page tables' address (never mapped), then int3. */
HOSTILE(RspPageTablesThenInt3, GLINT_GUEST_I32)
{
    WITH_RSP(GLINT_ABI_PT_ADDR + 0x800, "int3");
    return 0;
}

/* rsp non-canonical, then #UD: delivery must still work (IST). */
HOSTILE(RspNonCanonicalThenUd2, GLINT_GUEST_I32)
{
    WITH_RSP(0xdead000000000000ull, "ud2");
    return 0;
}

static volatile int keep_going = 1;

static int recurse(int depth)
{
    volatile char buf[256];
    buf[0] = (char)depth;
    buf[255] = (char)(depth >> 8);
    if (!keep_going)
        return buf[0];
    return recurse(depth + 1) + buf[depth & 255];
}

HOSTILE(StackOverflow, GLINT_GUEST_I32)
{
    r->i32 = recurse(0);
    return 0;
}

/* ---- heap ---------------------------------------------------------------------------------------
 */

HOSTILE(HeapExhaust, GLINT_GUEST_U32)
{
    void **list = NULL;
    uint32_t count = 0;
    for (void **b; (b = malloc(1024)) != NULL; count++) {
        *b = list;
        list = b;
    }
    if (malloc((size_t)-1) || malloc((size_t)-1 / 2) || calloc((size_t)-1 / 2, 4) ||
        realloc(NULL, (size_t)-16))
        return glint_guest_error(11, "absurd allocation succeeded");
    while (list) {
        void **next = *list;
        free(list);
        list = next;
    }
    r->u32 = count;
    return 0;
}

HOSTILE(HeapDoubleFree, GLINT_GUEST_I32)
{
    void *p = malloc(32);
    free(p);
    free(p);
    return 0;
}

HOSTILE(HeapFreeWild, GLINT_GUEST_I32)
{
    free((void *)(uintptr_t)(bi()->heap_addr + 4096 + 8));
    return 0;
}

/* Overflow a heap block into the next block's header, then free. */
HOSTILE(HeapOverflowThenFree, GLINT_GUEST_I32)
{
    uint8_t *p = malloc(32), *q = malloc(32);
    if (!p || !q)
        return glint_guest_error(3, "out of memory");
    memset(p, 0xee, 80);
    free(q);
    free(p);
    return 0;
}

/* ---- spinning
 * ------------------------------------------------------------------------------------ */

HOSTILE(Spin, GLINT_GUEST_VOID)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
    return 0;
}

HOSTILE(SpinPause, GLINT_GUEST_VOID)
{
    for (;;)
        __asm__ volatile("pause" ::: "memory");
    return 0;
}

/* ---- what the guest sees at entry
 * ------------------------------------------------------------------ */

/* Layout shared with tests/hostile/hostile.h (struct entry_dump there). */
#define DUMP_MAGIC 0x48535444554d5031ull /* "1PMUDTSH" */
#define DUMP_HITS  16

struct dump_hit {
    uint64_t addr, value;
};

struct entry_dump {
    uint64_t magic;
    uint64_t gpr[16]; /* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 at function entry */
    uint64_t rflags;
    uint16_t sel[6]; /* cs ss ds es fs gs */
    uint16_t pad0[2];
    uint64_t xmm[16][2];
    uint32_t mxcsr;
    uint16_t fcw, pad1;
    uint32_t cpuid[7][4]; /* leaves 0, 1, 7, 0x80000000, 0x80000001, 0x40000000, 0x40000001 */
    uint64_t pages_scanned;
    uint64_t words_scanned;
    uint64_t user_ptr_count; /* qwords in [0x7f0000000000, 0x800000000000) */
    uint64_t kernel_ptr_count;
    struct dump_hit user_hits[DUMP_HITS];
    struct dump_hit kernel_hits[DUMP_HITS];
    uint64_t heap_nonzero;                /* non-zero heap bytes */
    uint64_t heap_first_nz, heap_last_nz; /* offsets into the heap; ~0 if none */
    uint64_t heap_size;
    uint64_t input_nonzero_after_msg; /* non-zero bytes past the CALL message */
    uint64_t output_nonzero_after_msg;
    uint64_t stack_nonzero_below; /* non-zero bytes in the stack below rsp - 4 KiB */
    uint64_t boot_nonzero_after;  /* non-zero boot-page bytes after struct glint_abi_boot */
};

_Static_assert(sizeof(struct entry_dump) == 1144, "entry_dump layout (mirrored in the test)");

uint64_t entry_regs[16] __attribute__((used));
uint64_t entry_rflags __attribute__((used));
uint16_t entry_sel[6] __attribute__((used));
uint64_t entry_xmm[32] __attribute__((used, aligned(16)));
uint32_t entry_mxcsr __attribute__((used));
uint16_t entry_fcw __attribute__((used));

int DumpEntryState(const glint_guest_val *a, glint_guest_val *r);
int dump_entry_state_c(const glint_guest_val *a, glint_guest_val *r);

/* DumpEntryState(u64 code_end) -> bytes (struct entry_dump). Captures the registers before any
 * compiler-generated code runs, then continues in C. */
__asm__(".pushsection .text\n"
        ".globl DumpEntryState\n"
        ".type DumpEntryState, @function\n"
        "DumpEntryState:\n"
        "  mov %rax, entry_regs+0(%rip)\n"
        "  mov %rbx, entry_regs+8(%rip)\n"
        "  mov %rcx, entry_regs+16(%rip)\n"
        "  mov %rdx, entry_regs+24(%rip)\n"
        "  mov %rsi, entry_regs+32(%rip)\n"
        "  mov %rdi, entry_regs+40(%rip)\n"
        "  mov %rbp, entry_regs+48(%rip)\n"
        "  mov %rsp, entry_regs+56(%rip)\n"
        "  mov %r8, entry_regs+64(%rip)\n"
        "  mov %r9, entry_regs+72(%rip)\n"
        "  mov %r10, entry_regs+80(%rip)\n"
        "  mov %r11, entry_regs+88(%rip)\n"
        "  mov %r12, entry_regs+96(%rip)\n"
        "  mov %r13, entry_regs+104(%rip)\n"
        "  mov %r14, entry_regs+112(%rip)\n"
        "  mov %r15, entry_regs+120(%rip)\n"
        "  pushfq\n"
        "  popq entry_rflags(%rip)\n"
        "  mov %cs, entry_sel+0(%rip)\n"
        "  mov %ss, entry_sel+2(%rip)\n"
        "  mov %ds, entry_sel+4(%rip)\n"
        "  mov %es, entry_sel+6(%rip)\n"
        "  mov %fs, entry_sel+8(%rip)\n"
        "  mov %gs, entry_sel+10(%rip)\n"
        "  movdqa %xmm0, entry_xmm+0(%rip)\n"
        "  movdqa %xmm1, entry_xmm+16(%rip)\n"
        "  movdqa %xmm2, entry_xmm+32(%rip)\n"
        "  movdqa %xmm3, entry_xmm+48(%rip)\n"
        "  movdqa %xmm4, entry_xmm+64(%rip)\n"
        "  movdqa %xmm5, entry_xmm+80(%rip)\n"
        "  movdqa %xmm6, entry_xmm+96(%rip)\n"
        "  movdqa %xmm7, entry_xmm+112(%rip)\n"
        "  movdqa %xmm8, entry_xmm+128(%rip)\n"
        "  movdqa %xmm9, entry_xmm+144(%rip)\n"
        "  movdqa %xmm10, entry_xmm+160(%rip)\n"
        "  movdqa %xmm11, entry_xmm+176(%rip)\n"
        "  movdqa %xmm12, entry_xmm+192(%rip)\n"
        "  movdqa %xmm13, entry_xmm+208(%rip)\n"
        "  movdqa %xmm14, entry_xmm+224(%rip)\n"
        "  movdqa %xmm15, entry_xmm+240(%rip)\n"
        "  stmxcsr entry_mxcsr(%rip)\n"
        "  fnstcw entry_fcw(%rip)\n"
        "  jmp dump_entry_state_c\n"
        ".size DumpEntryState, . - DumpEntryState\n"
        ".popsection\n");
GLINT_GUEST_EXPORT(DumpEntryState, GLINT_GUEST_BYTES, GLINT_GUEST_U64);

static struct entry_dump dump;

static void cpuid(uint32_t leaf, uint32_t out[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
                     : "a"(leaf), "c"(0u));
}

static void note_word(uint64_t addr, uint64_t v)
{
    dump.words_scanned++;
    if ((v >> 40) == 0x7f) {
        if (dump.user_ptr_count < DUMP_HITS)
            dump.user_hits[dump.user_ptr_count] = (struct dump_hit){addr, v};
        dump.user_ptr_count++;
    } else if ((v >> 47) == 0x1ffff && v < 0xffffffffff000000ull) {
        if (dump.kernel_ptr_count < DUMP_HITS)
            dump.kernel_hits[dump.kernel_ptr_count] = (struct dump_hit){addr, v};
        dump.kernel_ptr_count++;
    }
}

/* Scan [lo, hi) (page-aligned, mapped, user-readable) for pointer-like qwords. */
static void scan(uint64_t lo, uint64_t hi)
{
    for (uint64_t p = lo; p < hi; p += 4096) {
        dump.pages_scanned++;
        for (uint64_t q = p; q < p + 4096; q += 8) {
            if (q >= (uint64_t)(uintptr_t)&dump && q < (uint64_t)(uintptr_t)(&dump + 1))
                continue; /* our own record of hits */
            note_word(q, *(const volatile uint64_t *)(uintptr_t)q);
        }
    }
}

static uint64_t count_nonzero(uint64_t lo, uint64_t hi)
{
    uint64_t n = 0;
    for (uint64_t p = lo; p < hi; p++)
        n += *(const volatile uint8_t *)(uintptr_t)p != 0;
    return n;
}

int dump_entry_state_c(const glint_guest_val *a, glint_guest_val *r)
{
    const struct glint_abi_boot *b = bi();
    memset(&dump, 0, sizeof dump);
    dump.magic = DUMP_MAGIC;
    memcpy(dump.gpr, entry_regs, sizeof dump.gpr);
    dump.rflags = entry_rflags;
    memcpy(dump.sel, entry_sel, sizeof dump.sel);
    memcpy(dump.xmm, entry_xmm, sizeof dump.xmm);
    dump.mxcsr = entry_mxcsr;
    dump.fcw = entry_fcw;
    static const uint32_t leaves[7] = {0, 1, 7, 0x80000000u, 0x80000001u, 0x40000000u, 0x40000001u};
    for (int i = 0; i < 7; i++)
        cpuid(leaves[i], dump.cpuid[i]);
    for (int i = 0; i < 16; i++)
        note_word(0x1000u + 8u * (unsigned)i, dump.gpr[i]); /* pseudo-addresses: registers */
    for (int i = 0; i < 32; i++)
        note_word(0x2000u + 8u * (unsigned)i, dump.xmm[i / 2][i % 2]);
    /* Heap before anything else touches memory. */
    dump.heap_size = b->heap_size;
    dump.heap_first_nz = dump.heap_last_nz = ~0ull;
    for (uint64_t i = 0; i < b->heap_size; i++) {
        if (((const volatile uint8_t *)(uintptr_t)b->heap_addr)[i]) {
            dump.heap_nonzero++;
            if (dump.heap_first_nz == ~0ull)
                dump.heap_first_nz = i;
            dump.heap_last_nz = i;
        }
    }
    /* Everything the guest can read: boot page, image, heap, stack, input, output. */
    scan(GLINT_ABI_BOOT_ADDR, GLINT_ABI_BOOT_ADDR + 4096);
    /* a[0]: end of the executable segment (from the ELF file): code bytes are the guest's own
     * and match pointer patterns by chance (e.g. e8 xx ff ff ff, a backward call). */
    uint64_t code_end = a[0].u64 > GLINT_ABI_IMAGE_BASE && a[0].u64 < b->heap_addr
                            ? (a[0].u64 + 4095) & ~4095ull
                            : GLINT_ABI_IMAGE_BASE;
    scan(code_end, b->heap_addr);
    scan(b->heap_addr, b->heap_addr + b->heap_size);
    scan(b->stack_addr, b->memory_size);
    const struct glint_abi_msg *in = (const struct glint_abi_msg *)(uintptr_t)b->input_addr;
    const struct glint_abi_msg *out = (const struct glint_abi_msg *)(uintptr_t)b->output_addr;
    uint64_t in_end = in->size <= b->input_size ? in->size : b->input_size;
    uint64_t out_end = out->size <= b->output_size ? out->size : b->output_size;
    dump.input_nonzero_after_msg =
        count_nonzero(b->input_addr + in_end, b->input_addr + b->input_size);
    dump.output_nonzero_after_msg =
        count_nonzero(b->output_addr + out_end, b->output_addr + b->output_size);
    uint64_t below = entry_regs[7] - 4096;
    dump.stack_nonzero_below = below > b->stack_addr ? count_nonzero(b->stack_addr, below) : 0;
    dump.boot_nonzero_after = count_nonzero(GLINT_ABI_BOOT_ADDR + sizeof(struct glint_abi_boot),
                                            GLINT_ABI_BOOT_ADDR + 4096);
    *r = glint_guest_val_bytes(&dump, sizeof dump);
    return 0;
}

/* sgdt/sidt/sldt/str/smsw at CPL3 (allowed without CR4.UMIP): what do they reveal? */
HOSTILE(DescriptorTables, GLINT_GUEST_BYTES)
{
    static uint8_t buf[48];
    memset(buf, 0, sizeof buf);
    __asm__ volatile("sgdt 0(%0)\n\t"
                     "sidt 16(%0)\n\t"
                     "sldt 32(%0)\n\t"
                     "str 34(%0)\n\t"
                     "smsw 36(%0)"
                     :
                     : "r"(buf)
                     : "memory");
    *r = glint_guest_val_bytes(buf, sizeof buf);
    return 0;
}
