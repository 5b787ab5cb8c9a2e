/* Guest libc: snprintf/vsnprintf with C semantics and exact decimal conversion of doubles. */
#include "format.h"

/*
 * Supported: flags "- 0 + space #", width and precision (digits or '*'),
 * length modifiers hh h l ll z j t L, conversions d i u o x X c s p n % and
 * f F e E g G a A (a A as glibc prints them: hex mantissa, rounded to nearest-even).
 *
 *   - The return value is the length the full output would have (C
 *     semantics); the buffer is always NUL-terminated when size > 0. Output
 *     longer than INT_MAX makes the call return -1.
 *   - %s with NULL prints "(null)" (cut by the precision like any string);
 *     %p prints 0x<hex> like glibc, and "(nil)" for NULL.
 *   - %c and %s ignore the l modifier (no wide characters in guests).
 *   - %n is not supported: its pointer argument is consumed and ignored.
 *   - Unknown conversions are copied to the output as written.
 *   - Floating point is converted exactly: the double's binary value is
 *     expanded to decimal with small integer bignums (no floating-point
 *     arithmetic at all), then rounded half-to-even on the exact value -- the
 *     same digits glibc prints in the default rounding mode, for every
 *     magnitude, for f, e and g. L (long double) arguments are converted to
 *     double first. inf/nan print as inf/nan (INF/NAN for F E G), with sign.
 * Integer conversions use only integer arithmetic. The floating-point
 * conversions are in format_float.c; format.h has what both files share.
 */

enum { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_J, L_T, L_BIGL };

_Static_assert(sizeof(ptrdiff_t) == sizeof(size_t), "%zd/%tu use the other type");

/* ---- output ---- */

static void put_padded(out *o, const spec *sp, const char *s, size_t n)
{
    size_t right = field_begin(o, sp, n, "", 0, false);
    put_mem(o, s, n);
    put_rep(o, ' ', right);
}

/* ---- integers ---- */

static void fmt_int(out *o, const spec *sp, uintmax_t v, bool neg, unsigned base, bool is_signed)
{
    const char *digs = (sp->flags & F_UPPER) ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[3 * sizeof(uintmax_t) + 1]; /* octal digits of the largest value */
    size_t n = 0;
    bool zero = v == 0;

    while (v) {
        tmp[n++] = digs[v % base];
        v /= base;
    }
    size_t prec = sp->prec < 0 ? 1 : (size_t)sp->prec;
    size_t zeros = prec > n ? prec - n : 0;
    if (base == 8 && (sp->flags & F_ALT) && zeros == 0 && (n == 0 || tmp[n - 1] != '0'))
        zeros = 1; /* "%#o": the first digit is a 0 */

    char pre[3];
    size_t pl = 0;
    if (neg)
        pre[pl++] = '-';
    else if (is_signed && (sp->flags & F_PLUS))
        pre[pl++] = '+';
    else if (is_signed && (sp->flags & F_SPACE))
        pre[pl++] = ' ';
    if (base == 16 && (sp->flags & F_ALT) && !zero) {
        pre[pl++] = '0';
        pre[pl++] = (sp->flags & F_UPPER) ? 'X' : 'x';
    }

    size_t right = field_begin(o, sp, pl + zeros + n, pre, pl, sp->prec < 0);
    put_rep(o, '0', zeros);
    while (n)
        put(o, tmp[--n]);
    put_rep(o, ' ', right);
}

static intmax_t arg_signed(va_list *ap, int len)
{
    switch (len) {
    case L_HH:
        return (signed char)va_arg(*ap, int);
    case L_H:
        return (short)va_arg(*ap, int);
    case L_L:
        return va_arg(*ap, long);
    case L_LL:
    case L_BIGL: /* %Ld: long long, as in glibc */
        return va_arg(*ap, long long);
    case L_Z:
    case L_T:
        return va_arg(*ap, ptrdiff_t);
    case L_J:
        return va_arg(*ap, intmax_t);
    default:
        return va_arg(*ap, int);
    }
}

static uintmax_t arg_unsigned(va_list *ap, int len)
{
    switch (len) {
    case L_HH:
        return (unsigned char)va_arg(*ap, unsigned);
    case L_H:
        return (unsigned short)va_arg(*ap, unsigned);
    case L_L:
        return va_arg(*ap, unsigned long);
    case L_LL:
    case L_BIGL:
        return va_arg(*ap, unsigned long long);
    case L_Z:
    case L_T:
        return va_arg(*ap, size_t);
    case L_J:
        return va_arg(*ap, uintmax_t);
    default:
        return va_arg(*ap, unsigned);
    }
}
/* ---- driver ---- */

static unsigned flag_of(char c)
{
    switch (c) {
    case '-':
        return F_MINUS;
    case '0':
        return F_ZERO;
    case '+':
        return F_PLUS;
    case ' ':
        return F_SPACE;
    case '#':
        return F_ALT;
    default:
        return 0;
    }
}

/* Decimal number at *f (saturated at INT_MAX). */
static int parse_num(const char **f)
{
    int n = 0;
    for (; **f >= '0' && **f <= '9'; (*f)++) {
        int dgt = **f - '0';
        n = n > (__INT_MAX__ - dgt) / 10 ? __INT_MAX__ : n * 10 + dgt;
    }
    return n;
}

static int parse_length(const char **f)
{
    const char *s = *f;
    int len = L_NONE;
    switch (*s) {
    case 'h':
        len = s[1] == 'h' ? L_HH : L_H;
        break;
    case 'l':
        len = s[1] == 'l' ? L_LL : L_L;
        break;
    case 'z':
        len = L_Z;
        break;
    case 'j':
        len = L_J;
        break;
    case 't':
        len = L_T;
        break;
    case 'L':
        len = L_BIGL;
        break;
    default:
        return L_NONE;
    }
    *f = s + ((len == L_HH || len == L_LL) ? 2 : 1);
    return len;
}

int GLINT_LIBC(vsnprintf)(char *restrict buf, size_t size, const char *restrict fmt, va_list ap0)
{
    out o = {buf, size, 0};
    va_list ap;
    const char *f = fmt;

    va_copy(ap, ap0);
    while (*f) {
        if (*f != '%') {
            const char *s = f;
            while (*f && *f != '%')
                f++;
            put_mem(&o, s, (size_t)(f - s));
            continue;
        }
        const char *start = f++;
        spec sp = {0, 0, -1};
        unsigned fl;
        while ((fl = flag_of(*f)) != 0) {
            sp.flags |= fl;
            f++;
        }
        if (*f == '*') {
            int w = va_arg(ap, int);
            f++;
            if (w < 0) {
                sp.flags |= F_MINUS;
                sp.width = (size_t)0 - (size_t)(long long)w;
            } else {
                sp.width = (size_t)w;
            }
        } else {
            sp.width = (size_t)parse_num(&f);
        }
        if (*f == '.') {
            f++;
            if (*f == '*') {
                int p = va_arg(ap, int);
                f++;
                sp.prec = p < 0 ? -1 : p;
            } else {
                sp.prec = parse_num(&f);
            }
        }
        int len = parse_length(&f);
        char c = *f;
        if (c == 'X' || c == 'F' || c == 'E' || c == 'G' || c == 'A') {
            sp.flags |= F_UPPER;
            c = (char)(c - 'A' + 'a');
        }

        switch (c) {
        case 'd':
        case 'i': {
            intmax_t v = arg_signed(&ap, len);
            uintmax_t mag = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;
            fmt_int(&o, &sp, mag, v < 0, 10, true);
            break;
        }
        case 'u':
        case 'o':
        case 'x': {
            uintmax_t v = arg_unsigned(&ap, len);
            fmt_int(&o, &sp, v, false, c == 'u' ? 10 : c == 'o' ? 8 : 16, false);
            break;
        }
        case 'c': {
            char ch = (char)va_arg(ap, int);
            put_padded(&o, &sp, &ch, 1);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t n =
                sp.prec >= 0 ? GLINT_LIBC(strnlen)(s, (size_t)sp.prec) : GLINT_LIBC(strlen)(s);
            put_padded(&o, &sp, s, n);
            break;
        }
        case 'p': {
            void *p = va_arg(ap, void *);
            if (!p) {
                put_padded(&o, &sp, "(nil)", 5);
            } else {
                sp.flags |= F_ALT;
                fmt_int(&o, &sp, (uintptr_t)p, false, 16, true);
            }
            break;
        }
        case 'n':
            (void)va_arg(ap, void *);
            break;
        case 'f':
        case 'e':
        case 'g':
        case 'a': {
            double v = len == L_BIGL ? (double)va_arg(ap, long double) : va_arg(ap, double);
            GLINT_LIBC(glint__fmt_float)(&o, &sp, v, c);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        default:
            /* Not a conversion: copy it as written (the argument list is unknown). */
            if (!c) {
                put_mem(&o, start, (size_t)(f - start));
                continue;
            }
            put_mem(&o, start, (size_t)(f + 1 - start));
            break;
        }
        f++;
    }
    va_end(ap);

    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len > (size_t)__INT_MAX__ ? -1 : (int)o.len;
}

int GLINT_LIBC(snprintf)(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = GLINT_LIBC(vsnprintf)(buf, size, fmt, ap);
    va_end(ap);
    return r;
}
