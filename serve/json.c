/* JSON <-> glint values (jansson for parsing and string escaping; numbers printed here). */
#include "json.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "parse.h"
#include "utf8.h"

static void say(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
}

bool sj_depth_ok(const char *text, size_t len, unsigned max)
{
    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}

/* Parse text as JSON (any value if any, else only an array), bounded in depth. */
static json_t *load(const char *text, size_t len, bool any, char *err, size_t errsize)
{
    if (!sj_depth_ok(text, len, SJ_MAX_DEPTH)) {
        say(err, errsize, "JSON nested deeper than %d levels", SJ_MAX_DEPTH);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, any ? JSON_DECODE_ANY : 0, &je);
    if (!root) {
        say(err, errsize, "malformed JSON at byte %d: %s", je.position, je.text);
        return NULL;
    }
    if (!any && !json_is_array(root)) {
        say(err, errsize, "the body must be a JSON array of arguments");
        json_decref(root);
        return NULL;
    }
    return root;
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* A decimal string as an integer (for i64/u64 beyond what JSON parsers take). */
static bool decimal_string(const json_t *j, bool is_signed, int64_t *s, uint64_t *u)
{
    const char *t = json_string_value(j);
    size_t n = json_string_length(j);
    if (n == 0 || n > 20 || !(t[0] == '-' ? is_signed && n > 1 : t[0] >= '0' && t[0] <= '9'))
        return false;
    for (size_t k = t[0] == '-'; k < n; k++) {
        if (t[k] < '0' || t[k] > '9')
            return false;
    }
    char *end;
    errno = 0;
    if (is_signed)
        *s = strtoll(t, &end, 10);
    else
        *u = strtoull(t, &end, 10);
    return errno == 0 && end == t + n;
}

static bool float_string(const json_t *j, double *d)
{
    const char *t = json_string_value(j);
    if (!strcmp(t, "NaN"))
        *d = NAN;
    else if (!strcmp(t, "Infinity"))
        *d = INFINITY;
    else if (!strcmp(t, "-Infinity"))
        *d = -INFINITY;
    else
        return false;
    return true;
}

/* One argument of type t from j into *v (bytes decoded into *bytes). */
static int arg_value(const json_t *j, glint_type t, glint_value *v, uint8_t **bytes, char *why,
                     size_t whysize)
{
    json_int_t i = json_is_integer(j) ? json_integer_value(j) : 0;
    int64_t s = 0;
    uint64_t u = 0;
    double d = 0;
    switch (t) {
    case GLINT_I32:
    case GLINT_U32:
    case GLINT_I64:
    case GLINT_U64: {
        bool is_signed = t == GLINT_I32 || t == GLINT_I64;
        if (json_is_integer(j)) {
            s = i;
            u = (uint64_t)i;
            if (!is_signed && i < 0)
                goto range;
        } else if (!(json_is_string(j) && (t == GLINT_I64 || t == GLINT_U64) &&
                     decimal_string(j, is_signed, &s, &u))) {
            say(why, whysize, "expected an integer, got %s", json_kind(j));
            return -1;
        }
        if (t == GLINT_I32 && (s < INT32_MIN || s > INT32_MAX))
            goto range;
        if (t == GLINT_U32 && u > UINT32_MAX)
            goto range;
        *v = t == GLINT_I32   ? glint_i32((int32_t)s)
             : t == GLINT_U32 ? glint_u32((uint32_t)u)
             : t == GLINT_I64 ? glint_i64(s)
                              : glint_u64(u);
        return 0;
    }
    case GLINT_F32:
    case GLINT_F64:
        if (json_is_number(j))
            d = json_number_value(j);
        else if (!(json_is_string(j) && float_string(j, &d))) {
            say(why, whysize, "expected a number, got %s", json_kind(j));
            return -1;
        }
        if (t == GLINT_F32 && isfinite(d) && fabs(d) > FLT_MAX)
            goto range;
        *v = t == GLINT_F32 ? glint_f32((float)d) : glint_f64(d);
        return 0;
    case GLINT_BOOL:
        if (!json_is_boolean(j)) {
            say(why, whysize, "expected true or false, got %s", json_kind(j));
            return -1;
        }
        *v = glint_bool(json_is_true(j));
        return 0;
    case GLINT_STRING:
        if (!json_is_string(j)) {
            say(why, whysize, "expected a string, got %s", json_kind(j));
            return -1;
        }
        /* jansson checks UTF-8 and refuses \u0000 (no JSON_ALLOW_NUL). */
        *v = glint_string_n(json_string_value(j), json_string_length(j));
        return 0;
    case GLINT_BYTES: {
        if (!json_is_string(j)) {
            say(why, whysize, "expected a base64 string, got %s", json_kind(j));
            return -1;
        }
        size_t n = json_string_length(j), got, bad;
        *bytes = malloc(b64_decoded_max(n) + 1);
        if (!*bytes) {
            say(why, whysize, "out of memory");
            return -1;
        }
        if (b64_decode(json_string_value(j), n, *bytes, &got, &bad) != 0) {
            if (bad == n)
                say(why, whysize, "not base64: length %zu is not a multiple of 4", n);
            else
                say(why, whysize, "not canonical base64 at character %zu", bad);
            return -1;
        }
        *v = glint_bytes(*bytes, got);
        return 0;
    }
    case GLINT_VOID:
        break;
    }
    say(why, whysize, "parameter type %d is not supported", (int)t);
    return -1;
range:
    say(why, whysize, "%s is out of range for %s", json_is_integer(j) ? "the integer" : "the value",
        glint_type_name(t));
    return -1;
}

void sj_args_free(struct sj_args *a)
{
    for (size_t k = 0; k < GLINT_MAX_PARAMS; k++) {
        free(a->bytes[k]);
        a->bytes[k] = NULL;
    }
    json_decref(a->root);
    a->root = NULL;
    a->n = 0;
}

int sj_parse_args(const char *body, size_t len, const glint_function_info *fi, struct sj_args *a,
                  char *err, size_t errsize)
{
    memset(a, 0, sizeof *a);
    json_t *root = load(body, len, false, err, errsize);
    if (!root)
        return SJ_MALFORMED;
    a->root = root;
    size_t n = json_array_size(root);
    if (n != fi->nparams || n > GLINT_MAX_PARAMS) {
        char types[GLINT_MAX_PARAMS * 8 + 1];
        parse_param_list(fi, types, sizeof types);
        say(err, errsize, "%s takes %zu argument%s (%s), got %zu", fi->name, fi->nparams,
            fi->nparams == 1 ? "" : "s", types, n);
        sj_args_free(a);
        return SJ_BAD_ARGS;
    }
    for (size_t k = 0; k < n; k++) {
        char why[160];
        if (arg_value(json_array_get(root, k), fi->params[k], &a->v[k], &a->bytes[k], why,
                      sizeof why) != 0) {
            say(err, errsize, "argument %zu (%s): %s", k + 1, glint_type_name(fi->params[k]), why);
            sj_args_free(a);
            return SJ_BAD_ARGS;
        }
    }
    a->n = n;
    return 0;
}

int sj_parse_array(const char *body, size_t len, char **out, char *err, size_t errsize)
{
    *out = NULL;
    json_t *root = load(body, len, false, err, errsize);
    if (!root)
        return -1;
    *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!*out) {
        say(err, errsize, "out of memory");
        return -1;
    }
    return 0;
}

/* A growing output buffer. */
struct out {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->failed = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* A JSON value through jansson's encoder (strings: escaping). */
static void put_json(struct out *o, json_t *j)
{
    if (!j) {
        o->failed = true;
        return;
    }
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (!text) {
        o->failed = true;
        return;
    }
    puts_(o, text);
    free(text);
}

/* The shortest %.Ng that reads back as the same value. */
static void put_float(struct out *o, double d, bool single)
{
    if (isnan(d)) {
        puts_(o, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        puts_(o, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (single ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d)
            break;
    }
    puts_(o, buf);
}

static void put_value(struct out *o, const glint_value *v)
{
    char buf[32];
    switch (v->type) {
    case GLINT_VOID:
        puts_(o, "null");
        return;
    case GLINT_I32:
        snprintf(buf, sizeof buf, "%" PRId32, v->as.i32);
        break;
    case GLINT_U32:
        snprintf(buf, sizeof buf, "%" PRIu32, v->as.u32);
        break;
    case GLINT_I64:
        snprintf(buf, sizeof buf, "%" PRId64, v->as.i64);
        break;
    case GLINT_U64:
        snprintf(buf, sizeof buf, "%" PRIu64, v->as.u64);
        break;
    case GLINT_F32:
        put_float(o, v->as.f32, true);
        return;
    case GLINT_F64:
        put_float(o, v->as.f64, false);
        return;
    case GLINT_BOOL:
        puts_(o, v->as.b ? "true" : "false");
        return;
    case GLINT_STRING:
        if (!glint__utf8_valid((const uint8_t *)v->as.str.ptr, v->as.str.len)) {
            o->failed = true;
            return;
        }
        put_json(o, json_stringn(v->as.str.ptr, v->as.str.len));
        return;
    case GLINT_BYTES: {
        char *b = malloc(b64_encoded_len(v->as.bytes.len) + 1);
        if (!b) {
            o->failed = true;
            return;
        }
        b64_encode(v->as.bytes.ptr, v->as.bytes.len, b);
        put(o, "\"", 1);
        puts_(o, b);
        put(o, "\"", 1);
        free(b);
        return;
    }
    default:
        o->failed = true;
        return;
    }
    puts_(o, buf);
}

static char *finish(struct out *o, size_t *len)
{
    if (o->failed) {
        free(o->p);
        return NULL;
    }
    if (len)
        *len = o->len;
    return o->p;
}

char *sj_result(const glint_value *v, size_t *len)
{
    struct out o = {0};
    puts_(&o, "{\"result\":");
    put_value(&o, v);
    puts_(&o, "}");
    return finish(&o, len);
}

char *sj_result_json(const char *text, size_t textlen, size_t *len, char *err, size_t errsize)
{
    json_t *j = load(text, textlen, true, err, errsize);
    if (!j)
        return NULL;
    struct out o = {0};
    puts_(&o, "{\"result\":");
    put_json(&o, j);
    puts_(&o, "}");
    char *r = finish(&o, len);
    if (!r)
        say(err, errsize, "out of memory");
    return r;
}

char *sj_error(const char *kind, const char *message, size_t *len)
{
    /* Keep the message JSON-encodable: bytes of invalid UTF-8 become '?'. */
    size_t n = strlen(message);
    char *clean = malloc(n + 1);
    if (!clean)
        return NULL;
    size_t i = 0;
    while (i < n) {
        size_t k = 1;
        while (k <= 4 && i + k <= n && !glint__utf8_valid((const uint8_t *)message + i, k))
            k++;
        if (k > 4 || i + k > n) {
            clean[i++] = '?';
            continue;
        }
        memcpy(clean + i, message + i, k);
        i += k;
    }
    clean[n] = 0;
    struct out o = {0};
    puts_(&o, "{\"error\":{\"kind\":");
    put_json(&o, json_string(kind));
    puts_(&o, ",\"message\":");
    put_json(&o, json_stringn(clean, n));
    puts_(&o, "}}");
    free(clean);
    return finish(&o, len);
}
