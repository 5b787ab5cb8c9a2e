/* Argument parsing for the glint command-line tool: sizes, numbers, typed call arguments. */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int invalid(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
    return PARSE_INVALID;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unsigned magnitude: decimal digits, or 0x/0X and hex digits. -1 if malformed,
 * -2 if it does not fit in 64 bits. */
static int parse_magnitude(const char *s, uint64_t *out)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == 0)
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        int d = hex_digit(*s);
        if (d < 0 || (unsigned)d >= base)
            return -1;
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return -2;
        v = v * base + (unsigned)d;
    }
    *out = v;
    return 0;
}

int parse_size(const char *s, uint64_t *out, char *err, size_t errsize)
{
    size_t len = strlen(s);
    uint64_t mult = 1;
    if (len > 0) {
        switch (s[len - 1]) {
        case 'k':
        case 'K':
            mult = UINT64_C(1) << 10;
            break;
        case 'm':
        case 'M':
            mult = UINT64_C(1) << 20;
            break;
        case 'g':
        case 'G':
            mult = UINT64_C(1) << 30;
            break;
        default:
            break;
        }
    }
    size_t ndigits = mult == 1 ? len : len - 1;
    if (ndigits == 0)
        return invalid(err, errsize, "is not a size (expected bytes, or a number with K, M or G)");
    for (size_t i = 0; i < ndigits; i++) {
        if (s[i] < '0' || s[i] > '9')
            return invalid(err, errsize,
                           "is not a size (expected bytes, or a number with K, M or G)");
    }
    uint64_t v = 0;
    for (size_t i = 0; i < ndigits; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return invalid(err, errsize, "is too large");
        v = v * 10 + d;
    }
    if (v > UINT64_MAX / mult)
        return invalid(err, errsize, "is too large");
    v *= mult;
    if (v == 0)
        return invalid(err, errsize, "must not be zero");
    *out = v;
    return PARSE_OK;
}

static int parse_int(glint_type t, const char *s, glint_value *out, char *err, size_t errsize)
{
    bool is_signed = t == GLINT_I32 || t == GLINT_I64;
    const char *name = glint_type_name(t);
    bool neg = false;
    const char *p = s;
    if (*p == '-') {
        if (!is_signed)
            return invalid(err, errsize, "is negative, but %s is unsigned", name);
        neg = true;
        p++;
    }
    uint64_t mag = 0;
    int rc = parse_magnitude(p, &mag);
    if (rc == -1)
        return invalid(err, errsize, "is not a valid %s (expected decimal or 0x hex digits)", name);
    uint64_t limit; /* largest magnitude allowed */
    switch (t) {
    case GLINT_I32:
        limit = neg ? UINT64_C(0x80000000) : INT32_MAX;
        break;
    case GLINT_U32:
        limit = UINT32_MAX;
        break;
    case GLINT_I64:
        limit = neg ? UINT64_C(0x8000000000000000) : INT64_MAX;
        break;
    default:
        limit = UINT64_MAX;
        break;
    }
    if (rc == -2 || mag > limit)
        return invalid(err, errsize, "is out of range for %s", name);
    out->type = t;
    out->flags = 0;
    switch (t) {
    case GLINT_I32:
        out->as.i32 = neg ? (int32_t)(-(int64_t)mag) : (int32_t)mag;
        break;
    case GLINT_U32:
        out->as.u32 = (uint32_t)mag;
        break;
    case GLINT_I64:
        /* mag == 2^63 only when negative; 0 - mag wraps to INT64_MIN's pattern. */
        out->as.i64 = neg ? (int64_t)(UINT64_C(0) - mag) : (int64_t)mag;
        break;
    default:
        out->as.u64 = mag;
        break;
    }
    return PARSE_OK;
}

static int parse_float(glint_type t, const char *s, glint_value *out, char *err, size_t errsize)
{
    const char *name = glint_type_name(t);
    if (*s == 0 || isspace((unsigned char)*s))
        return invalid(err, errsize, "is not a valid %s", name);
    char *end;
    errno = 0;
    out->type = t;
    out->flags = 0;
    bool inf;
    if (t == GLINT_F32) {
        out->as.f32 = strtof(s, &end);
        inf = isinf(out->as.f32);
    } else {
        out->as.f64 = strtod(s, &end);
        inf = isinf(out->as.f64);
    }
    if (end == s || *end != 0)
        return invalid(err, errsize, "is not a valid %s", name);
    if (errno == ERANGE && inf)
        return invalid(err, errsize, "is out of range for %s", name);
    return PARSE_OK;
}

static int parse_bytes(const char *s, glint_value *out, void **storage, char *err, size_t errsize)
{
    static const unsigned char empty[1];
    size_t len = strlen(s);
    if (len % 2 != 0)
        return invalid(err, errsize, "is not valid bytes (odd number of hex digits; two per byte)");
    for (size_t i = 0; i < len; i++) {
        if (hex_digit(s[i]) < 0)
            return invalid(err, errsize, "is not valid bytes (expected hex digits, e.g. deadbeef)");
    }
    out->type = GLINT_BYTES;
    out->flags = 0;
    if (len == 0) {
        out->as.bytes.ptr = empty;
        out->as.bytes.len = 0;
        return PARSE_OK;
    }
    unsigned char *buf = malloc(len / 2);
    if (buf == NULL)
        return PARSE_NOMEM;
    for (size_t i = 0; i < len / 2; i++)
        buf[i] = (unsigned char)(hex_digit(s[2 * i]) << 4 | hex_digit(s[2 * i + 1]));
    *storage = buf;
    out->as.bytes.ptr = buf;
    out->as.bytes.len = len / 2;
    return PARSE_OK;
}

int parse_value(glint_type t, const char *s, glint_value *out, void **storage, char *err,
                size_t errsize)
{
    *storage = NULL;
    switch (t) {
    case GLINT_I32:
    case GLINT_U32:
    case GLINT_I64:
    case GLINT_U64:
        return parse_int(t, s, out, err, errsize);
    case GLINT_F32:
    case GLINT_F64:
        return parse_float(t, s, out, err, errsize);
    case GLINT_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
            *out = glint_bool(true);
            return PARSE_OK;
        }
        if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
            *out = glint_bool(false);
            return PARSE_OK;
        }
        return invalid(err, errsize, "is not a bool (expected true, false, 1 or 0)");
    case GLINT_STRING:
        if (!utf8_valid(s, strlen(s)))
            return invalid(err, errsize, "is not valid UTF-8");
        *out = glint_string_n(s, strlen(s));
        return PARSE_OK;
    case GLINT_BYTES:
        return parse_bytes(s, out, storage, err, errsize);
    default:
        return invalid(err, errsize, "has a type the CLI cannot pass (%s)", glint_type_name(t));
    }
}

bool utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i < n)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

const char *parse_param_list(const glint_function_info *fi, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t k = 0; k < fi->nparams && o < size; k++) {
        int n = snprintf(buf + o, size - o, "%s%s", k ? ", " : "", glint_type_name(fi->params[k]));
        if (n < 0)
            break;
        o += (size_t)n;
    }
    return buf;
}
