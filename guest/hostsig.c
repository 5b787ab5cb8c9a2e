/* Host function signatures for script runtimes: fetch through glint.signature, parse, cache, and
 * convert script values to the declared parameter types with range checks. */
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "ident.h"
#include "utf8.h"
#include "glint/guest.h"

void glint__set_host_error(const char *msg); /* guest/runtime.c */

static const char *const type_names[] = {"void", "i32", "u32",  "i64",    "u64",
                                         "f32",  "f64", "bool", "string", "bytes"};

const char *glint_guest_type_name(uint8_t type)
{
    return type < sizeof type_names / sizeof type_names[0] ? type_names[type] : "?";
}

/* The type whose name starts at *p (ending at end); advances *p. Returns -1 if none. */
static int parse_type(const char **p, const char *end)
{
    for (unsigned t = 0; t < sizeof type_names / sizeof type_names[0]; t++) {
        size_t n = strlen(type_names[t]);
        if ((size_t)(end - *p) >= n && memcmp(*p, type_names[t], n) == 0) {
            const char *after = *p + n;
            if (after < end && *after != '(' && *after != ',' && *after != ')')
                continue; /* a longer, unknown name */
            *p = after;
            return (int)t;
        }
    }
    return -1;
}

int glint_guest_host_sig_parse(const char *text, size_t len, glint_guest_host_sig *out)
{
    if (!text || !out || len >= sizeof out->text)
        return -1;
    const char *p = text, *end = text + len;
    int ret = parse_type(&p, end);
    if (ret < 0 || p == end || *p++ != '(')
        return -1;
    glint_guest_host_sig s = {.ret = (uint8_t)ret};
    if (p < end && *p == ')')
        p++;
    else
        for (;;) {
            int t = parse_type(&p, end);
            if (t <= 0 || s.nparams == GLINT_ABI_MAX_PARAMS) /* unknown, void or too many */
                return -1;
            s.params[s.nparams++] = (uint8_t)t;
            if (p == end)
                return -1;
            char c = *p++;
            if (c == ')')
                break;
            if (c != ',')
                return -1;
        }
    if (p != end)
        return -1;
    memcpy(s.text, text, len);
    s.text[len] = 0;
    *out = s;
    return 0;
}

/* A few recent signatures, replaced round-robin. */
#define CACHE_SIZE 8
static struct {
    char name[GLINT_ABI_NAME_MAX];
    glint_guest_host_sig sig;
} cache[CACHE_SIZE];
static unsigned cache_next;

int glint_guest_host_signature(const char *name, glint_guest_host_sig *out)
{
    size_t nlen = name ? strlen(name) : 0;
    if (!name || !out || !glint__name_valid(name, nlen)) {
        glint__set_host_error("invalid host function name");
        return -2;
    }
    for (unsigned i = 0; i < CACHE_SIZE; i++)
        if (strcmp(cache[i].name, name) == 0) {
            *out = cache[i].sig;
            return 0;
        }
    glint_guest_val arg = {.type = GLINT_GUEST_STRING, .len = (uint32_t)nlen, .str = name}, r;
    int rc = glint_guest_host_call("glint.signature", GLINT_GUEST_STRING, &r, 1, &arg);
    if (rc)
        return rc;
    glint_guest_host_sig sig;
    if (glint_guest_host_sig_parse(r.str, r.len, &sig) != 0) {
        glint__set_host_error("malformed signature reply from the host");
        return -1;
    }
    unsigned slot = cache_next++ % CACHE_SIZE;
    memcpy(cache[slot].name, name, nlen + 1);
    cache[slot].sig = sig;
    *out = sig;
    return 0;
}

static const char *script_type(const glint_guest_script_val *in)
{
    if (in->type_name)
        return in->type_name;
    switch (in->kind) {
    case GLINT_GUEST_SCRIPT_INT:
    case GLINT_GUEST_SCRIPT_FLOAT:
        return "number";
    case GLINT_GUEST_SCRIPT_STRING:
        return "string";
    case GLINT_GUEST_SCRIPT_BOOL:
        return "boolean";
    default:
        return "value";
    }
}

/* Integer parameter from a script integer or an integer-valued float, range-checked. */
static int convert_int(uint8_t type, const glint_guest_script_val *in, glint_guest_val *out,
                       char *why, size_t n)
{
    const char *tn = glint_guest_type_name(type);
    int64_t i = in->i;
    bool big = false; /* a float in [2^63, 2^64): value u */
    uint64_t u = 0;
    if (in->kind == GLINT_GUEST_SCRIPT_FLOAT) {
        double f = in->f;
        /* -2^63, 2^63 and 2^64 are exact doubles; NaN fails every comparison. */
        if (!(f >= -9223372036854775808.0 && f < 18446744073709551616.0)) {
            snprintf(why, n, "expects %s, %g is out of range", tn, f);
            return -1;
        }
        if (f >= 9223372036854775808.0) {
            big = true; /* doubles this large have no fraction */
            u = (uint64_t)f;
        } else {
            i = (int64_t)f;
            if ((double)i != f) {
                snprintf(why, n, "expects %s, got non-integer %g", tn, f);
                return -1;
            }
        }
    }
    bool ok;
    switch (type) {
    case GLINT_GUEST_I32:
        ok = !big && i >= INT32_MIN && i <= INT32_MAX;
        out->i32 = (int32_t)i;
        break;
    case GLINT_GUEST_U32:
        ok = !big && i >= 0 && i <= (int64_t)UINT32_MAX;
        out->u32 = (uint32_t)i;
        break;
    case GLINT_GUEST_I64:
        ok = !big;
        out->i64 = i;
        break;
    default: /* U64 */
        ok = big || i >= 0;
        out->u64 = big ? u : (uint64_t)i;
        break;
    }
    if (!ok) {
        if (in->kind == GLINT_GUEST_SCRIPT_INT)
            snprintf(why, n, "expects %s, %lld is out of range", tn, (long long)in->i);
        else
            snprintf(why, n, "expects %s, %g is out of range", tn, in->f);
        return -1;
    }
    out->type = type;
    return 0;
}

int glint_guest_host_convert(uint8_t type, const glint_guest_script_val *in, glint_guest_val *out,
                             char *why, size_t n)
{
    memset(out, 0, sizeof *out);
    const char *tn = glint_guest_type_name(type);
    int kind = in->kind;
    switch (type) {
    case GLINT_GUEST_I32:
    case GLINT_GUEST_U32:
    case GLINT_GUEST_I64:
    case GLINT_GUEST_U64:
        if (kind == GLINT_GUEST_SCRIPT_INT || kind == GLINT_GUEST_SCRIPT_FLOAT)
            return convert_int(type, in, out, why, n);
        break;
    case GLINT_GUEST_F32:
    case GLINT_GUEST_F64: {
        if (kind != GLINT_GUEST_SCRIPT_INT && kind != GLINT_GUEST_SCRIPT_FLOAT)
            break;
        double f = kind == GLINT_GUEST_SCRIPT_INT ? (double)in->i : in->f;
        out->type = type;
        if (type == GLINT_GUEST_F64) {
            out->f64 = f;
            return 0;
        }
        if (f > FLT_MAX || f < -FLT_MAX) {
            if (f - f == 0) { /* finite */
                snprintf(why, n, "expects f32, %g is out of range", f);
                return -1;
            }
        }
        out->f32 = (float)f;
        return 0;
    }
    case GLINT_GUEST_BOOL:
        if (kind != GLINT_GUEST_SCRIPT_BOOL)
            break;
        out->type = type;
        out->b = in->b;
        return 0;
    case GLINT_GUEST_STRING:
    case GLINT_GUEST_BYTES:
        if (kind != GLINT_GUEST_SCRIPT_STRING)
            break;
        if (in->len > UINT32_MAX) {
            snprintf(why, n, "expects %s, got a string of %zu bytes (too long)", tn, in->len);
            return -1;
        }
        if (type == GLINT_GUEST_STRING && !glint__utf8_valid((const uint8_t *)in->s, in->len)) {
            snprintf(why, n, "expects string, got bytes that are not UTF-8 text without NUL");
            return -1;
        }
        out->type = type;
        out->len = (uint32_t)in->len;
        out->bytes = (const uint8_t *)in->s;
        return 0;
    default:
        snprintf(why, n, "has a parameter of unknown type %u", type);
        return -1;
    }
    snprintf(why, n, "expects %s, got %s", tn, script_type(in));
    return -1;
}
