/* Guest libc: memory/string functions of <string.h> and the integer helpers of <stdlib.h>. */
#include "names.h"

/*
 * memcpy/memmove/memset move 8 bytes at a time through a may_alias,
 * alignment-1 type (legal for any address, no strict-aliasing or alignment
 * UB), then finish bytewise. The string functions work bytewise: they never
 * read past the terminator, so they are clean under AddressSanitizer.
 *
 * GCC can recognise a copy/fill loop and replace it by a call to
 * memcpy/memset -- inside memcpy/memset that is infinite recursion, even with
 * -ffreestanding -fno-builtin. GLINT_NO_LIBCALL turns that off per function.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define GLINT_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define GLINT_NO_LIBCALL
#endif

typedef uint64_t __attribute__((may_alias, aligned(1))) word_u;

#define WORD sizeof(uint64_t)

GLINT_NO_LIBCALL
void *GLINT_LIBC(memcpy)(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    while (n >= 4 * WORD) {
        uint64_t a = ((const word_u *)s)[0], b = ((const word_u *)s)[1];
        uint64_t c = ((const word_u *)s)[2], e = ((const word_u *)s)[3];
        ((word_u *)d)[0] = a;
        ((word_u *)d)[1] = b;
        ((word_u *)d)[2] = c;
        ((word_u *)d)[3] = e;
        d += 4 * WORD;
        s += 4 * WORD;
        n -= 4 * WORD;
    }
    while (n >= WORD) {
        *(word_u *)d = *(const word_u *)s;
        d += WORD;
        s += WORD;
        n -= WORD;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

GLINT_NO_LIBCALL
void *GLINT_LIBC(memmove)(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if ((uintptr_t)d - (uintptr_t)s >= n) {
        /* d is before s, or at/after its end: a forward copy never reads a
         * byte it has already overwritten. */
        while (n >= WORD) {
            uint64_t w = *(const word_u *)s;
            *(word_u *)d = w;
            d += WORD;
            s += WORD;
            n -= WORD;
        }
        while (n--)
            *d++ = *s++;
    } else {
        /* d lies inside (s, s+n): copy backwards. */
        d += n;
        s += n;
        while (n >= WORD) {
            d -= WORD;
            s -= WORD;
            n -= WORD;
            uint64_t w = *(const word_u *)s;
            *(word_u *)d = w;
        }
        while (n--)
            *--d = *--s;
    }
    return dst;
}

GLINT_NO_LIBCALL
void *GLINT_LIBC(memset)(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    unsigned char b = (unsigned char)c;
    uint64_t w = 0x0101010101010101ull * b;

    while (n >= 4 * WORD) {
        ((word_u *)d)[0] = w;
        ((word_u *)d)[1] = w;
        ((word_u *)d)[2] = w;
        ((word_u *)d)[3] = w;
        d += 4 * WORD;
        n -= 4 * WORD;
    }
    while (n >= WORD) {
        *(word_u *)d = w;
        d += WORD;
        n -= WORD;
    }
    while (n--)
        *d++ = b;
    return dst;
}

int GLINT_LIBC(memcmp)(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    /* Skip equal words quickly, then locate the difference bytewise. */
    while (n >= WORD && *(const word_u *)x == *(const word_u *)y) {
        x += WORD;
        y += WORD;
        n -= WORD;
    }
    for (; n; n--, x++, y++) {
        if (*x != *y)
            return *x < *y ? -1 : 1;
    }
    return 0;
}

void *GLINT_LIBC(memchr)(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    unsigned char b = (unsigned char)c;

    for (; n; n--, p++) {
        if (*p == b)
            return (void *)(uintptr_t)p;
    }
    return NULL;
}

size_t GLINT_LIBC(strlen)(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t GLINT_LIBC(strnlen)(const char *s, size_t maxlen)
{
    size_t i = 0;
    while (i < maxlen && s[i])
        i++;
    return i;
}

int GLINT_LIBC(strcmp)(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (*x && *x == *y) {
        x++;
        y++;
    }
    return (*x > *y) - (*x < *y);
}

int GLINT_LIBC(strncmp)(const char *a, const char *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (; n; n--, x++, y++) {
        if (*x != *y)
            return *x < *y ? -1 : 1;
        if (!*x)
            break;
    }
    return 0;
}

GLINT_NO_LIBCALL
char *GLINT_LIBC(strcpy)(char *restrict dst, const char *restrict src)
{
    char *d = dst;
    while ((*d++ = *src++))
        ;
    return dst;
}

GLINT_NO_LIBCALL
char *GLINT_LIBC(strncpy)(char *restrict dst, const char *restrict src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    for (; i < n; i++)
        dst[i] = '\0';
    return dst;
}

char *GLINT_LIBC(strcat)(char *restrict dst, const char *restrict src)
{
    GLINT_LIBC(strcpy)(dst + GLINT_LIBC(strlen)(dst), src);
    return dst;
}

GLINT_NO_LIBCALL
char *GLINT_LIBC(strncat)(char *restrict dst, const char *restrict src, size_t n)
{
    char *d = dst + GLINT_LIBC(strlen)(dst);
    for (; n && *src; n--)
        *d++ = *src++;
    *d = '\0';
    return dst;
}

char *GLINT_LIBC(strchr)(const char *s, int c)
{
    char ch = (char)c;
    for (;; s++) {
        if (*s == ch)
            return (char *)(uintptr_t)s;
        if (!*s)
            return NULL;
    }
}

char *GLINT_LIBC(strrchr)(const char *s, int c)
{
    char ch = (char)c;
    const char *last = NULL;
    for (;; s++) {
        if (*s == ch)
            last = s;
        if (!*s)
            return (char *)(uintptr_t)last;
    }
}

char *GLINT_LIBC(strstr)(const char *haystack, const char *needle)
{
    size_t nl = GLINT_LIBC(strlen)(needle);
    if (nl == 0)
        return (char *)(uintptr_t)haystack;
    /* Naive search, but the first byte is located with strchr and the
     * comparison stops at the haystack's end (strncmp sees its NUL). */
    for (const char *p = haystack; (p = GLINT_LIBC(strchr)(p, needle[0])) != NULL; p++) {
        if (GLINT_LIBC(strncmp)(p, needle, nl) == 0)
            return (char *)(uintptr_t)p;
    }
    return NULL;
}

char *GLINT_LIBC(strdup)(const char *s)
{
    size_t n = GLINT_LIBC(strlen)(s) + 1;
    char *d = GLINT_LIBC(malloc)(n);
    if (d)
        GLINT_LIBC(memcpy)(d, s, n);
    return d;
}

char *GLINT_LIBC(strndup)(const char *s, size_t n)
{
    size_t len = GLINT_LIBC(strnlen)(s, n);
    char *d = GLINT_LIBC(malloc)(len + 1);
    if (d) {
        GLINT_LIBC(memcpy)(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* ---- <stdlib.h>: abs, string to integer ---- */

#define G_LONG_MAX   __LONG_MAX__
#define G_ULONG_MAX  (__LONG_MAX__ * 2ul + 1ul)
#define G_LLONG_MAX  __LONG_LONG_MAX__
#define G_ULLONG_MAX (__LONG_LONG_MAX__ * 2ull + 1ull)

int GLINT_LIBC(abs)(int n)
{
    /* Through unsigned: abs(INT_MIN) is INT_MIN (as on every libc), not UB here. */
    return n < 0 ? (int)(0u - (unsigned)n) : n;
}

long GLINT_LIBC(labs)(long n)
{
    return n < 0 ? (long)(0ul - (unsigned long)n) : n;
}

static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

/*
 * Common part of the strto* family: parse [space][sign][prefix]digits.
 * Returns the magnitude (saturated to ULLONG_MAX with *overflow set), sets
 * *neg, and stores the end of the subject (or nptr when there are no digits,
 * or the base is invalid) in *endptr if endptr is not NULL.
 */
static unsigned long long parse_magnitude(const char *nptr, char **endptr, int base, bool *neg,
                                          bool *overflow)
{
    const char *s = nptr;
    unsigned long long acc = 0;
    bool any = false;

    *neg = false;
    *overflow = false;
    if (base < 0 || base == 1 || base > 36) {
        if (endptr)
            *endptr = (char *)(uintptr_t)nptr;
        return 0;
    }
    while (is_space(*s))
        s++;
    if (*s == '+' || *s == '-') {
        *neg = *s == '-';
        s++;
    }
    /* "0x" counts as a prefix only when a hex digit follows; otherwise the
     * subject is just "0" and the end points at the 'x'. */
    if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
        digit_value(s[2]) < 16) {
        s += 2;
        base = 16;
    } else if (base == 0) {
        base = s[0] == '0' ? 8 : 10;
    }

    unsigned long long b = (unsigned long long)base;
    unsigned long long cutoff = G_ULLONG_MAX / b;
    unsigned long long cutlim = G_ULLONG_MAX % b;
    for (;; s++) {
        int d = digit_value(*s);
        if (d >= base)
            break;
        any = true;
        if (*overflow)
            continue;
        if (acc > cutoff || (acc == cutoff && (unsigned long long)d > cutlim)) {
            *overflow = true;
            acc = G_ULLONG_MAX;
        } else {
            acc = acc * b + (unsigned long long)d;
        }
    }
    if (endptr)
        *endptr = (char *)(uintptr_t)(any ? s : nptr);
    return any ? acc : 0;
}

/* Signed result in [-max-1, max] with C's saturation. */
static long long to_signed(unsigned long long mag, bool neg, bool overflow, long long max)
{
    if (neg) {
        if (overflow || mag > (unsigned long long)max + 1)
            return -max - 1;
        if (mag == 0)
            return 0;
        return -(long long)(mag - 1) - 1;
    }
    if (overflow || mag > (unsigned long long)max)
        return max;
    return (long long)mag;
}

/* Unsigned result: magnitude saturated to max, then negated modulo 2^N if '-'. */
static unsigned long long to_unsigned(unsigned long long mag, bool neg, bool overflow,
                                      unsigned long long max)
{
    if (overflow || mag > max)
        return max;
    return neg ? (0ull - mag) & max : mag;
}

long GLINT_LIBC(strtol)(const char *restrict nptr, char **restrict endptr, int base)
{
    bool neg, ovf;
    unsigned long long m = parse_magnitude(nptr, endptr, base, &neg, &ovf);
    return (long)to_signed(m, neg, ovf, G_LONG_MAX);
}

unsigned long GLINT_LIBC(strtoul)(const char *restrict nptr, char **restrict endptr, int base)
{
    bool neg, ovf;
    unsigned long long m = parse_magnitude(nptr, endptr, base, &neg, &ovf);
    return (unsigned long)to_unsigned(m, neg, ovf, G_ULONG_MAX);
}

long long GLINT_LIBC(strtoll)(const char *restrict nptr, char **restrict endptr, int base)
{
    bool neg, ovf;
    unsigned long long m = parse_magnitude(nptr, endptr, base, &neg, &ovf);
    return to_signed(m, neg, ovf, G_LLONG_MAX);
}

unsigned long long GLINT_LIBC(strtoull)(const char *restrict nptr, char **restrict endptr, int base)
{
    bool neg, ovf;
    unsigned long long m = parse_magnitude(nptr, endptr, base, &neg, &ovf);
    return to_unsigned(m, neg, ovf, G_ULLONG_MAX);
}

int GLINT_LIBC(atoi)(const char *nptr)
{
    return (int)GLINT_LIBC(strtol)(nptr, NULL, 10);
}
