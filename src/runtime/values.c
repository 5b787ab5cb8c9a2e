/* Conversions between API values and codec values, and checks of host-supplied values. */
#include "runtime/values.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

glint__cval glint__to_cval(const glint_value *v)
{
    glint__cval c = {.type = (uint8_t)v->type};
    switch (v->type) {
    case GLINT_I32:
    case GLINT_U32:
    case GLINT_F32:
        memcpy(&c.bits, &v->as, 4);
        break;
    case GLINT_I64:
    case GLINT_U64:
    case GLINT_F64:
        memcpy(&c.bits, &v->as, 8);
        break;
    case GLINT_BOOL:
        c.bits = v->as.b ? 1 : 0;
        break;
    case GLINT_STRING:
        c.ptr = v->as.str.ptr;
        c.len = (uint32_t)v->as.str.len;
        break;
    case GLINT_BYTES:
        c.ptr = v->as.bytes.ptr;
        c.len = (uint32_t)v->as.bytes.len;
        break;
    default:
        break;
    }
    return c;
}

/* Decoded value to API value; string/bytes still point at the decoded buffer. */
glint_value glint__from_cval(const glint__cval *c)
{
    glint_value v;
    memset(&v, 0, sizeof v);
    v.type = (glint_type)c->type;
    if (c->type == GLINT_STRING) {
        v.as.str.ptr = c->ptr;
        v.as.str.len = c->len;
    } else if (c->type == GLINT_BYTES) {
        v.as.bytes.ptr = c->ptr;
        v.as.bytes.len = c->len;
    } else if (c->type == GLINT_BOOL) {
        v.as.b = c->bits != 0;
    } else {
        memcpy(&v.as, &c->bits, sizeof c->bits);
    }
    return v;
}

/* Check a host-supplied value: string/bytes pointer and length sane, text
 * valid UTF-8 without NUL. Returns NULL or what is wrong. */
const char glint__too_long[] = "longer than the buffer";

const char *glint__check_value(const glint_value *v, uint64_t max)
{
    if (v->type != GLINT_STRING && v->type != GLINT_BYTES)
        return NULL;
    size_t len = v->type == GLINT_STRING ? v->as.str.len : v->as.bytes.len;
    const void *p = v->type == GLINT_STRING ? (const void *)v->as.str.ptr : v->as.bytes.ptr;
    if (len && !p)
        return "NULL pointer with non-zero length";
    if (len > max)
        return glint__too_long;
    if (v->type == GLINT_STRING && !glint__utf8_valid(p, len))
        return "string is not valid UTF-8 or contains NUL";
    return NULL;
}

void glint__sig_to_string(char *buf, size_t n, glint_type ret, const glint_type *params, size_t np)
{
    size_t k = (size_t)snprintf(buf, n, "(");
    for (size_t i = 0; i < np && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", glint_type_name(params[i]));
    if (k < n)
        snprintf(buf + k, n - k, ") -> %s", glint_type_name(ret));
}
