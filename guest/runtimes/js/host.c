/* The JavaScript `glint` object: glint.call(name, ...) calls a host function with typed,
 * range-checked arguments (the rules of guest/hostsig.c); glint.signature(name) gives its text. */
#include <glint/guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glint_rt.h"
#include "mujs.h"

void glint_js_open_host(js_State *j);

/* Describe JS value idx for glint_guest_host_convert. An integer-valued number within the int64
 * range is an integer (so messages show it exactly); other numbers are floats. */
static glint_guest_script_val describe(js_State *j, int idx)
{
    glint_guest_script_val v = {.kind = GLINT_GUEST_SCRIPT_OTHER, .type_name = js_typeof(j, idx)};
    if (js_isnull(j, idx))
        v.type_name = "null";
    else if (js_isnumber(j, idx)) {
        double f = js_tonumber(j, idx);
        if (f >= -9223372036854775808.0 && f < 9223372036854775808.0 && (double)(int64_t)f == f) {
            v.kind = GLINT_GUEST_SCRIPT_INT;
            v.i = (int64_t)f;
        } else {
            v.kind = GLINT_GUEST_SCRIPT_FLOAT;
            v.f = f;
        }
    } else if (js_isstring(j, idx)) {
        v.kind = GLINT_GUEST_SCRIPT_STRING;
        v.s = js_tostring(j, idx);
        v.len = strlen(v.s);
    } else if (js_isboolean(j, idx)) {
        v.kind = GLINT_GUEST_SCRIPT_BOOL;
        v.b = js_toboolean(j, idx);
    }
    return v;
}

/* A bytes parameter from a JS "binary string": each character U+0000..U+00FF is one byte.
 * MuJS holds strings as UTF-8 with U+0000 as C0 80, so those characters take 1 or 2 bytes.
 * Returns a malloc'd buffer (length in *n), or NULL with *bad set to 1 for a character beyond
 * U+00FF, 0 for no memory. */
static uint8_t *binary_string(const char *s, size_t len, size_t *n, int *bad)
{
    uint8_t *b = malloc(len ? len : 1);
    *bad = 0;
    if (!b)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c < 0x80)
            b[k++] = c;
        else if ((c == 0xC0 || c == 0xC1 || c == 0xC2 || c == 0xC3) && i + 1 < len) {
            b[k++] = (uint8_t)(((c & 0x03) << 6) | ((uint8_t)s[++i] & 0x3F));
        } else {
            free(b);
            *bad = 1;
            return NULL;
        }
    }
    *n = k;
    return b;
}

/* Push s (k bytes, malloc'd) as a string and free it, also if MuJS throws (out of memory). */
static void push_owned(js_State *j, char *s, int k)
{
    char *volatile keep = s;
    if (js_try(j)) {
        free(keep);
        js_throw(j);
    }
    js_pushlstring(j, keep, k);
    js_endtry(j);
    free(keep);
}

/* Push bytes as a binary string (one character per byte). */
static void push_binary(js_State *j, const uint8_t *p, size_t len)
{
    char *s = malloc(2 * len + 1);
    if (!s)
        js_error(j, "glint.call: not enough memory for the result");
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] >= 0x01 && p[i] < 0x80) {
            s[k++] = (char)p[i];
        } else {
            s[k++] = (char)(0xC0 | (p[i] >> 6));
            s[k++] = (char)(0x80 | (p[i] & 0x3F));
        }
    }
    s[k] = 0;
    push_owned(j, s, (int)k);
}

/* Push a host function's result. i64 and u64 become the nearest JS number (exact up to 2^53). */
static void push_result(js_State *j, const glint_guest_val *r)
{
    switch (r->type) {
    case GLINT_GUEST_VOID:
        js_pushundefined(j);
        break;
    case GLINT_GUEST_I32:
        js_pushnumber(j, r->i32);
        break;
    case GLINT_GUEST_U32:
        js_pushnumber(j, r->u32);
        break;
    case GLINT_GUEST_I64:
        js_pushnumber(j, (double)r->i64);
        break;
    case GLINT_GUEST_U64:
        js_pushnumber(j, (double)r->u64);
        break;
    case GLINT_GUEST_F32:
        js_pushnumber(j, r->f32);
        break;
    case GLINT_GUEST_F64:
        js_pushnumber(j, r->f64);
        break;
    case GLINT_GUEST_BOOL:
        js_pushboolean(j, r->b);
        break;
    case GLINT_GUEST_STRING:
        js_pushlstring(j, r->str, (int)r->len);
        break;
    default: /* bytes */
        push_binary(j, r->bytes, r->len);
        break;
    }
}

/* The name argument (index 1) or a TypeError. */
static const char *name_arg(js_State *j, const char *fn)
{
    if (!js_isstring(j, 1))
        js_typeerror(j, "%s: the function name must be a string, got %s", fn,
                     js_isnull(j, 1) ? "null" : js_typeof(j, 1));
    return js_tostring(j, 1);
}

/* glint.call(name, ...): convert the arguments to the declared types, call, convert back. */
static void call(js_State *j)
{
    const char *name = name_arg(j, "glint.call");
    glint_guest_host_sig sig;
    if (glint_guest_host_signature(name, &sig) != 0)
        js_error(j, "glint.call: %s", glint_guest_host_error_message());
    int nargs = js_gettop(j) - 2; /* this, name, arguments */
    if (nargs != sig.nparams)
        js_typeerror(j, "glint.call: %s expects %d argument%s (%s), got %d", name, sig.nparams,
                     sig.nparams == 1 ? "" : "s", sig.text, nargs);
    glint_guest_val args[GLINT_ABI_MAX_PARAMS];
    uint8_t *owned[GLINT_ABI_MAX_PARAMS] = {0};
    char why[160];
    int bad_arg = 0, range = 0;
    for (int i = 0; i < nargs && !bad_arg; i++) {
        glint_guest_script_val v = describe(j, i + 2);
        if (sig.params[i] == GLINT_GUEST_BYTES && v.kind == GLINT_GUEST_SCRIPT_STRING) {
            int bad;
            size_t n = 0;
            owned[i] = binary_string(v.s, v.len, &n, &bad);
            if (!owned[i]) {
                snprintf(why, sizeof why, "%s",
                         bad ? "expects bytes, got a character beyond U+00FF"
                             : "expects bytes, not enough memory");
                bad_arg = i + 1;
                break;
            }
            v.s = (const char *)owned[i];
            v.len = n;
        }
        if (glint_guest_host_convert(sig.params[i], &v, &args[i], why, sizeof why) != 0) {
            bad_arg = i + 1;
            range = strstr(why, "out of range") != NULL;
        }
    }
    glint_guest_val r;
    int rc = 0;
    if (!bad_arg) {
        glint_rt_flush(); /* what the script printed comes before what the host function does */
        rc = glint_guest_host_call(name, sig.ret, &r, (unsigned)nargs, args);
    }
    for (int i = 0; i < nargs; i++)
        free(owned[i]);
    if (bad_arg && range)
        js_rangeerror(j, "glint.call: bad argument #%d (%s %s)", bad_arg + 1, name, why);
    if (bad_arg)
        js_typeerror(j, "glint.call: bad argument #%d (%s %s)", bad_arg + 1, name, why);
    if (rc != 0)
        js_error(j, "glint.call: %s", glint_guest_host_error_message());
    push_result(j, &r);
}

/* glint.signature(name): the text form ("i64(i32,string)"), or null if there is none. */
static void signature(js_State *j)
{
    const char *name = name_arg(j, "glint.signature");
    glint_guest_host_sig sig;
    if (glint_guest_host_signature(name, &sig) != 0)
        js_pushnull(j);
    else
        js_pushstring(j, sig.text);
}

/* Define the global `glint` object. */
void glint_js_open_host(js_State *j)
{
    js_newobject(j);
    js_newcfunction(j, call, "glint.call", 1);
    js_setproperty(j, -2, "call");
    js_newcfunction(j, signature, "glint.signature", 1);
    js_setproperty(j, -2, "signature");
    js_setglobal(j, "glint");
}
