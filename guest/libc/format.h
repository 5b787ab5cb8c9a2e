/* Private to format.c and format_float.c: the field spec, the output buffer and its put helpers. */
#ifndef GLINT_LIBC_FORMAT_H
#define GLINT_LIBC_FORMAT_H

#include "names.h"

/* Conversion flags in spec.flags (F_UPPER: the conversion letter was upper case). */
enum {
    F_MINUS = 1,
    F_ZERO = 2,
    F_PLUS = 4,
    F_SPACE = 8,
    F_ALT = 16,
    F_UPPER = 32,
};

typedef struct spec {
    unsigned flags;
    size_t width;
    long long prec; /* -1: none */
} spec;

typedef struct out {
    char *buf;
    size_t size;
    size_t len; /* bytes the full output has so far */
} out;

/* ---- output: every byte counts in len, only those that fit (leaving the NUL) are stored ---- */

static inline void put(out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static inline void put_rep(out *o, char c, size_t n)
{
    while (n && o->len + 1 < o->size) {
        o->buf[o->len++] = c;
        n--;
    }
    o->len += n;
}

static inline void put_mem(out *o, const char *s, size_t n)
{
    while (n && o->len + 1 < o->size) {
        o->buf[o->len++] = *s++;
        n--;
    }
    o->len += n;
}

/*
 * Start a numeric field whose text is `prefix` (sign, 0x) followed by body
 * characters, `total` characters in all: emits the left padding and prefix,
 * returns the right padding to emit after the body.
 */
static inline size_t field_begin(out *o, const spec *sp, size_t total, const char *prefix,
                                 size_t plen, bool zero_ok)
{
    size_t pad = sp->width > total ? sp->width - total : 0;
    if (sp->flags & F_MINUS) {
        put_mem(o, prefix, plen);
        return pad;
    }
    if (zero_ok && (sp->flags & F_ZERO)) {
        put_mem(o, prefix, plen);
        put_rep(o, '0', pad);
    } else {
        put_rep(o, ' ', pad);
        put_mem(o, prefix, plen);
    }
    return 0;
}

/*
 * format_float.c: a %f %e %g conversion (conv is 'f', 'e' or 'g'; F_UPPER in sp->flags for
 * F E G) of v, exactly rounded.
 */
void GLINT_LIBC(glint__fmt_float)(out *o, const spec *sp, double v, char conv);

#endif
