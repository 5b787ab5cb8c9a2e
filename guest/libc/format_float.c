/* Guest libc: %f %e %g of a double by exact decimal expansion with small integer bignums, and %a in
 * hex. */
#include "format.h"

/*
 * The double's binary value is expanded to decimal with no floating-point
 * arithmetic at all, then rounded half-to-even on the exact value: the same
 * digits glibc prints in the default rounding mode, for every magnitude.
 */

/* ---- exact decimal expansion of a double ---- */

/* A double has at most 767 significant decimal digits: they always fit. */
#define DEC_MAX    800
#define FRAC_WORDS 36 /* 1074 fraction bits + 4 bits of digit, in 32-bit words */

/*
 * value = 0.dg[0] dg[1] ... x 10^E, dg[0] != '0' (no digits: value 0), plus
 * the not yet expanded fraction w / 2^k (digits beyond nd). Digits at index
 * < 0 or >= nd (once the fraction is exhausted) are zeros.
 */
typedef struct dec {
    char dg[DEC_MAX];
    int nd;
    int E;
    int k, nw;
    uint32_t w[FRAC_WORDS];
} dec;

static bool frac_left(const dec *d)
{
    for (int i = 0; i < d->nw; i++) {
        if (d->w[i])
            return true;
    }
    return false;
}

/* Multiply the fraction by 10 and take out the integer digit. */
static unsigned frac_next(dec *d)
{
    uint64_t carry = 0;
    for (int i = 0; i < d->nw; i++) {
        uint64_t t = (uint64_t)d->w[i] * 10 + carry;
        d->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    int li = d->k / 32, sh = d->k % 32;
    uint64_t hi = d->w[li] | ((uint64_t)d->w[li + 1] << 32);
    unsigned digit = (unsigned)(hi >> sh);
    d->w[li] &= sh ? (uint32_t)((1u << sh) - 1) : 0u;
    d->w[li + 1] = 0;
    return digit;
}

/* All decimal digits of the integer m * 2^e (m > 0, 0 <= e <= 971). */
static void int_digits(dec *d, uint64_t m, int e)
{
    uint32_t w[34], chunk[40];
    int limb = e / 32, sh = e % 32, nw = limb + 3, nc = 0;

    for (int i = 0; i < nw; i++)
        w[i] = 0;
    w[limb] = (uint32_t)(m << sh);
    uint64_t x = m >> (32 - sh);
    w[limb + 1] = (uint32_t)x;
    w[limb + 2] = (uint32_t)(x >> 32);
    while (nw > 0 && w[nw - 1] == 0)
        nw--;
    while (nw > 0) {
        uint64_t rem = 0;
        for (int i = nw - 1; i >= 0; i--) {
            uint64_t cur = (rem << 32) | w[i];
            w[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        chunk[nc++] = (uint32_t)rem;
        while (nw > 0 && w[nw - 1] == 0)
            nw--;
    }
    for (int c = nc - 1; c >= 0; c--) {
        char tmp[9];
        uint32_t v = chunk[c];
        for (int j = 8; j >= 0; j--) {
            tmp[j] = (char)('0' + v % 10);
            v /= 10;
        }
        int j = 0;
        if (c == nc - 1) {
            while (j < 8 && tmp[j] == '0')
                j++;
        }
        for (; j < 9; j++)
            d->dg[d->nd++] = tmp[j];
    }
    d->E = d->nd;
}

/* Set up the expansion of m * 2^e; the integer part and the first significant digit are ready. */
static void dec_init(dec *d, uint64_t m, int e)
{
    d->nd = 0;
    d->E = 1;
    d->k = 0;
    d->nw = 0;
    if (m == 0)
        return;
    while (!(m & 1) && e < 0) {
        m >>= 1;
        e++;
    }
    if (e >= 0) {
        int_digits(d, m, e);
        return;
    }
    int k = -e;
    uint64_t ip = k < 64 ? m >> k : 0;
    uint64_t fr = k < 64 ? m & ((1ull << k) - 1) : m;
    d->E = 0;
    if (ip)
        int_digits(d, ip, 0);
    d->k = k;
    d->nw = k / 32 + 2;
    for (int i = 0; i < d->nw; i++)
        d->w[i] = 0;
    d->w[0] = (uint32_t)fr;
    d->w[1] = (uint32_t)(fr >> 32);
    if (!ip) {
        unsigned digit;
        while ((digit = frac_next(d)) == 0)
            d->E--;
        d->dg[d->nd++] = (char)('0' + digit);
    }
}

/* Expand until there are `want` significant digits (or the value is exhausted). */
static void dec_more(dec *d, long long want)
{
    while (d->nd < want && d->nd < DEC_MAX && frac_left(d))
        d->dg[d->nd++] = (char)('0' + frac_next(d));
}

/* Round to `keep` significant digits (keep < 0: to zero), half to even. Call
 * dec_more(d, keep + 1) first. Afterwards the digits are the exact value. */
static void dec_round(dec *d, long long keep)
{
    if (keep >= d->nd)
        return;
    bool up = false;
    if (keep >= 0) {
        char r = d->dg[keep];
        bool rest = frac_left(d);
        for (int i = (int)keep + 1; !rest && i < d->nd; i++)
            rest = d->dg[i] != '0';
        bool odd = keep > 0 && ((d->dg[keep - 1] - '0') & 1);
        up = r > '5' || (r == '5' && (rest || odd));
    }
    d->nd = keep < 0 ? 0 : (int)keep;
    d->nw = 0;
    if (!up)
        return;
    int i = d->nd - 1;
    while (i >= 0 && d->dg[i] == '9')
        d->dg[i--] = '0';
    if (i >= 0) {
        d->dg[i]++;
    } else {
        d->dg[0] = '1';
        d->nd = 1;
        d->E++;
    }
}

/* Digits with indexes [from, to): zeros outside the stored ones. */
static void put_digits(out *o, const dec *d, long long from, long long to)
{
    if (from < 0 && from < to) {
        long long z = (to < 0 ? to : 0) - from;
        put_rep(o, '0', (size_t)z);
        from += z;
    }
    if (from < d->nd && from < to) {
        long long n = (to < d->nd ? to : d->nd) - from;
        put_mem(o, d->dg + from, (size_t)n);
        from += n;
    }
    if (from < to)
        put_rep(o, '0', (size_t)(to - from));
}

static void emit_fixed(out *o, const spec *sp, const char *sign, size_t sl, const dec *d,
                       long long p)
{
    size_t intlen = d->E > 0 ? (size_t)d->E : 1;
    bool point = p > 0 || (sp->flags & F_ALT);
    size_t right = field_begin(o, sp, sl + intlen + point + (size_t)p, sign, sl, true);
    if (d->E > 0)
        put_digits(o, d, 0, d->E);
    else
        put(o, '0');
    if (point)
        put(o, '.');
    put_digits(o, d, d->E, d->E + p);
    put_rep(o, ' ', right);
}

static void emit_exp(out *o, const spec *sp, const char *sign, size_t sl, const dec *d, long long p)
{
    int x = d->nd ? d->E - 1 : 0;
    unsigned ax = x < 0 ? (unsigned)-x : (unsigned)x;
    char ebuf[8];
    size_t en = 0;
    do {
        ebuf[en++] = (char)('0' + ax % 10);
        ax /= 10;
    } while (ax);
    if (en < 2)
        ebuf[en++] = '0';

    bool point = p > 0 || (sp->flags & F_ALT);
    size_t right = field_begin(o, sp, sl + 1 + point + (size_t)p + 2 + en, sign, sl, true);
    put_digits(o, d, 0, 1);
    if (point)
        put(o, '.');
    put_digits(o, d, 1, 1 + p);
    put(o, (sp->flags & F_UPPER) ? 'E' : 'e');
    put(o, x < 0 ? '-' : '+');
    while (en)
        put(o, ebuf[--en]);
    put_rep(o, ' ', right);
}

static char digit_at(const dec *d, long long i)
{
    return i >= 0 && i < d->nd ? d->dg[i] : '0';
}

/* %a/%A as glibc prints a double: 0x1.<hex digits>p<exp> for normal numbers, 0x0.<digits>p-1022
 * for subnormal ones, trailing zero digits dropped without a precision, the mantissa rounded to
 * nearest-even with one. inf/nan are glint__fmt_float's. */
static void fmt_hex_float(out *o, const spec *sp, double v, const char *sign, size_t sl)
{
    union {
        double d;
        uint64_t u;
    } pun = {.d = v};
    bool upper = sp->flags & F_UPPER;
    const char *xd = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned ex = (unsigned)(pun.u >> 52) & 0x7ff;
    uint64_t frac = pun.u & ((1ull << 52) - 1);
    unsigned lead = ex ? 1 : 0;
    int e = ex ? (int)ex - 1023 : (frac ? -1022 : 0);
    int digits = 13; /* 52 bits of fraction */
    if (sp->prec < 0)
        while (digits > 0 && !((frac >> (4 * (13 - digits))) & 0xf))
            digits--;
    else if (sp->prec < 13) {
        int drop = 4 * (13 - (int)sp->prec);
        uint64_t rest = frac & ((1ull << drop) - 1), half = 1ull << (drop - 1);
        frac >>= drop;
        uint64_t odd = sp->prec ? frac & 1 : lead & 1; /* the last digit kept */
        if (rest > half || (rest == half && odd))
            frac++;
        if (frac >> (4 * sp->prec)) { /* carried into the leading digit */
            frac &= (1ull << (4 * sp->prec)) - 1;
            lead++;
        }
        frac <<= drop;
        digits = (int)sp->prec;
    }
    char body[64];
    size_t n = 0;
    body[n++] = (char)('0' + lead);
    int shown = sp->prec > digits ? (int)sp->prec : digits;
    if (shown > 0 || (sp->flags & F_ALT))
        body[n++] = '.';
    for (int i = 0; i < digits; i++)
        body[n++] = xd[(frac >> (4 * (12 - i))) & 0xf];
    size_t zeros = shown > digits ? (size_t)(shown - digits) : 0;
    char tail[16];
    size_t tn = 0;
    tail[tn++] = upper ? 'P' : 'p';
    tail[tn++] = e < 0 ? '-' : '+';
    unsigned ae = (unsigned)(e < 0 ? -e : e);
    char rev[8];
    size_t rn = 0;
    do
        rev[rn++] = (char)('0' + ae % 10);
    while (ae /= 10);
    while (rn)
        tail[tn++] = rev[--rn];
    char prefix[3] = {0};
    for (size_t i = 0; i < sl; i++)
        prefix[i] = sign[i];
    prefix[sl] = '0';
    prefix[sl + 1] = upper ? 'X' : 'x';
    size_t right = field_begin(o, sp, sl + 2 + n + zeros + tn, prefix, sl + 2, true);
    put_mem(o, body, n);
    put_rep(o, '0', zeros);
    put_mem(o, tail, tn);
    put_rep(o, ' ', right);
}

void GLINT_LIBC(glint__fmt_float)(out *o, const spec *sp, double v, char conv)
{
    union {
        double d;
        uint64_t u;
    } pun = {.d = v};
    uint64_t bits = pun.u;
    unsigned ex = (unsigned)(bits >> 52) & 0x7ff;
    uint64_t frac = bits & ((1ull << 52) - 1);
    bool upper = sp->flags & F_UPPER;
    char sign[1];
    size_t sl = 0;

    if (bits >> 63)
        sign[sl++] = '-';
    else if (sp->flags & F_PLUS)
        sign[sl++] = '+';
    else if (sp->flags & F_SPACE)
        sign[sl++] = ' ';

    if (ex == 0x7ff) {
        const char *s = frac ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
        size_t right = field_begin(o, sp, sl + 3, sign, sl, false);
        put_mem(o, s, 3);
        put_rep(o, ' ', right);
        return;
    }
    if (conv == 'a') {
        fmt_hex_float(o, sp, v, sign, sl);
        return;
    }

    dec d;
    if (ex == 0)
        dec_init(&d, frac, -1074);
    else
        dec_init(&d, frac | (1ull << 52), (int)ex - 1075);
    long long p = sp->prec < 0 ? 6 : sp->prec;

    if (conv == 'f') {
        long long keep = d.E + p;
        dec_more(&d, keep + 1);
        dec_round(&d, keep);
        emit_fixed(o, sp, sign, sl, &d, p);
    } else if (conv == 'e') {
        dec_more(&d, p + 2);
        dec_round(&d, p + 1);
        emit_exp(o, sp, sign, sl, &d, p);
    } else { /* g */
        long long P = p == 0 ? 1 : p;
        bool alt = sp->flags & F_ALT;
        dec_more(&d, P + 1);
        dec_round(&d, P);
        long long x = d.E - 1; /* 0 for zero, as E is 1 */
        if (P > x && x >= -4) {
            p = P - 1 - x;
            if (!alt) {
                if (d.E + p > d.nd)
                    p = d.nd > d.E ? d.nd - d.E : 0;
                while (p > 0 && digit_at(&d, d.E + p - 1) == '0')
                    p--;
            }
            emit_fixed(o, sp, sign, sl, &d, p);
        } else {
            p = P - 1;
            if (!alt) {
                if (p >= d.nd)
                    p = d.nd > 1 ? d.nd - 1 : 0;
                while (p > 0 && digit_at(&d, p) == '0')
                    p--;
            }
            emit_exp(o, sp, sign, sl, &d, p);
        }
    }
}
