/* Unit tests of the guest libc (guest/libc), built for the host under glint_test_* names. */
#ifndef GLINT_LIBC_HOST_TEST
#define GLINT_LIBC_HOST_TEST 1
#endif

#include <criterion/criterion.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../../guest/libc/names.h"

/* ---- shared helpers ---- */

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
    rng_state = s ? s : 1;
}

static uint64_t rnd(void) /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

#define HEAP_SIZE (1u << 20)
static unsigned char heap_mem[HEAP_SIZE] __attribute__((aligned(16)));

/* Initial state of a fresh 1 MiB heap: one free block (header 16, epilogue 16). */
#define HEAP_LARGEST (HEAP_SIZE - 32u)

static int corrupt_calls;
static const char *corrupt_what;

void glint_test_glint__heap_corrupt(const char *what)
{
    corrupt_calls++;
    corrupt_what = what;
}

static void heap_setup(void)
{
    corrupt_calls = 0;
    corrupt_what = NULL;
    glint_test_glint__heap_init(heap_mem, sizeof heap_mem);
}

static void assert_heap_ok(void)
{
    cr_assert_eq(glint_test_glint__heap_check(NULL, NULL), 0, "heap invariants broken");
}

/* ---- string.h ---- */

Test(libc_string, memcpy_sizes_and_alignments)
{
    unsigned char src[320], dst[320], ref[320];
    rng_seed(1);
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)rnd();
    for (size_t so = 0; so < 16; so++) {
        for (size_t dof = 0; dof < 16; dof++) {
            for (size_t n = 0; n < 280; n += (n < 40 ? 1 : 13)) {
                memset(dst, 0xa5, sizeof dst);
                memset(ref, 0xa5, sizeof ref);
                memcpy(ref + dof, src + so, n);
                void *r = glint_test_memcpy(dst + dof, src + so, n);
                cr_assert_eq(r, dst + dof);
                cr_assert(memcmp(dst, ref, sizeof dst) == 0, "memcpy so=%zu do=%zu n=%zu", so, dof,
                          n);
            }
        }
    }
}

Test(libc_string, memmove_overlap_both_ways)
{
    unsigned char buf[300], ref[300];
    for (size_t n = 0; n <= 130; n += (n < 40 ? 1 : 7)) {
        for (size_t so = 0; so < 48; so++) {
            for (size_t dof = 0; dof < 48; dof++) {
                for (size_t i = 0; i < sizeof buf; i++)
                    buf[i] = ref[i] = (unsigned char)(i * 31 + 7);
                memmove(ref + dof, ref + so, n);
                void *r = glint_test_memmove(buf + dof, buf + so, n);
                cr_assert_eq(r, buf + dof);
                cr_assert(memcmp(buf, ref, sizeof buf) == 0, "memmove so=%zu do=%zu n=%zu", so, dof,
                          n);
            }
        }
    }
}

Test(libc_string, memset_sizes_values)
{
    unsigned char buf[300], ref[300];
    int values[] = {0, 0x5a, 0xff, 0x1ab, -1};
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
        for (size_t off = 0; off < 16; off++) {
            for (size_t n = 0; n < 270; n += (n < 40 ? 1 : 11)) {
                memset(buf, 0x11, sizeof buf);
                memset(ref, 0x11, sizeof ref);
                memset(ref + off, values[v], n);
                cr_assert_eq(glint_test_memset(buf + off, values[v], n), buf + off);
                cr_assert(memcmp(buf, ref, sizeof buf) == 0, "memset v=%d off=%zu n=%zu", values[v],
                          off, n);
            }
        }
    }
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

Test(libc_string, memcmp_memchr)
{
    unsigned char a[80], b[80];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = b[i] = (unsigned char)(i + 1);
    cr_assert_eq(glint_test_memcmp(a, b, sizeof a), 0);
    cr_assert_eq(glint_test_memcmp(a, b, 0), 0);
    for (size_t pos = 0; pos < 70; pos++) {
        b[pos] = 0x80; /* high bit: compares as unsigned char */
        cr_assert_eq(sign(glint_test_memcmp(a, b, sizeof a)), -1, "pos %zu", pos);
        cr_assert_eq(sign(glint_test_memcmp(b, a, sizeof a)), 1, "pos %zu", pos);
        cr_assert_eq(glint_test_memcmp(a, b, pos), 0, "pos %zu", pos);
        b[pos] = a[pos];
    }

    const char s[] = "abcdefabc\0xyz";
    cr_assert_eq(glint_test_memchr(s, 'c', sizeof s), s + 2);
    cr_assert_eq(glint_test_memchr(s, 'x', sizeof s), s + 10);
    cr_assert_eq(glint_test_memchr(s, 'x', 10), NULL);
    cr_assert_eq(glint_test_memchr(s, 0, sizeof s), s + 9);
    cr_assert_eq(glint_test_memchr(s, 0x100 + 'b', sizeof s), s + 1);
    cr_assert_eq(glint_test_memchr(s, 'a', 0), NULL);
    unsigned char hi[] = {1, 2, 0xe9, 4};
    cr_assert_eq(glint_test_memchr(hi, 0xe9, 4), hi + 2);
    cr_assert_eq(glint_test_memchr(hi, -23, 4), hi + 2); /* (unsigned char)-23 == 0xe9 */
}

Test(libc_string, strlen_strnlen)
{
    cr_assert_eq(glint_test_strlen(""), 0);
    cr_assert_eq(glint_test_strlen("a"), 1);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    cr_assert_eq(glint_test_strlen(big), 999);
    cr_assert_eq(glint_test_strlen(big + 3), 996);
    cr_assert_eq(glint_test_strnlen("hello", 0), 0);
    cr_assert_eq(glint_test_strnlen("hello", 3), 3);
    cr_assert_eq(glint_test_strnlen("hello", 5), 5);
    cr_assert_eq(glint_test_strnlen("hello", 100), 5);
    char unterminated[4] = {'a', 'b', 'c', 'd'};
    cr_assert_eq(glint_test_strnlen(unterminated, 4), 4);
}

Test(libc_string, strcmp_strncmp)
{
    static const char *const strs[] = {
        "", "a", "b", "ab", "abc", "abd", "abcd", "\x80", "\x7f", "\xff\x01", "A", "abc\xe9",
    };
    size_t n = sizeof strs / sizeof strs[0];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            cr_assert_eq(sign(glint_test_strcmp(strs[i], strs[j])), sign(strcmp(strs[i], strs[j])),
                         "strcmp %zu %zu", i, j);
            for (size_t k = 0; k < 6; k++) {
                cr_assert_eq(sign(glint_test_strncmp(strs[i], strs[j], k)),
                             sign(strncmp(strs[i], strs[j], k)), "strncmp %zu %zu %zu", i, j, k);
            }
        }
    }
    cr_assert_eq(glint_test_strncmp("abc", "abd", 2), 0);
    cr_assert_eq(glint_test_strncmp("abc", "abc", SIZE_MAX), 0);
}

Test(libc_string, copy_and_concat)
{
    char buf[32];
    memset(buf, 'Z', sizeof buf);
    cr_assert_eq(glint_test_strcpy(buf, "hello"), buf);
    cr_assert_str_eq(buf, "hello");
    cr_assert_eq(buf[6], 'Z');
    cr_assert_eq(glint_test_strcat(buf, ", world"), buf);
    cr_assert_str_eq(buf, "hello, world");
    cr_assert_eq(glint_test_strcpy(buf, ""), buf);
    cr_assert_str_eq(buf, "");

    /* strncpy pads with NULs, and does not terminate when src is too long. */
    memset(buf, 'Z', sizeof buf);
    cr_assert_eq(glint_test_strncpy(buf, "ab", 6), buf);
    cr_assert(memcmp(buf, "ab\0\0\0\0Z", 7) == 0);
    memset(buf, 'Z', sizeof buf);
    glint_test_strncpy(buf, "abcdef", 3);
    cr_assert(memcmp(buf, "abcZ", 4) == 0);
    glint_test_strncpy(buf, "abcdef", 0);
    cr_assert_eq(buf[0], 'a');

    /* strncat appends at most n chars and always terminates. */
    strcpy(buf, "ab");
    memset(buf + 3, 'Z', sizeof buf - 3);
    cr_assert_eq(glint_test_strncat(buf, "cdef", 2), buf);
    cr_assert_str_eq(buf, "abcd");
    glint_test_strncat(buf, "xy", 10);
    cr_assert_str_eq(buf, "abcdxy");
    glint_test_strncat(buf, "q", 0);
    cr_assert_str_eq(buf, "abcdxy");
}

Test(libc_string, strchr_strrchr_strstr)
{
    const char *s = "hello, world";
    cr_assert_eq(glint_test_strchr(s, 'o'), s + 4);
    cr_assert_eq(glint_test_strrchr(s, 'o'), s + 8);
    cr_assert_eq(glint_test_strchr(s, 'h'), s);
    cr_assert_eq(glint_test_strrchr(s, 'h'), s);
    cr_assert_eq(glint_test_strchr(s, 'z'), NULL);
    cr_assert_eq(glint_test_strrchr(s, 'z'), NULL);
    cr_assert_eq(glint_test_strchr(s, 0), s + 12);
    cr_assert_eq(glint_test_strrchr(s, 0), s + 12);
    cr_assert_eq(glint_test_strchr(s, 0x100 + 'w'), s + 7);
    const char *hi = "a\xe9z\xe9";
    cr_assert_eq(glint_test_strchr(hi, 0xe9), hi + 1);
    cr_assert_eq(glint_test_strrchr(hi, 0xe9), hi + 3);
    cr_assert_eq(glint_test_strchr("", 'a'), NULL);

    static const char *const hay[] = {"", "a", "abc", "ababcab", "aaaaab", "mississippi", "xyz"};
    static const char *const needles[] = {"",   "a",    "b",          "abc",
                                          "ab", "aab",  "issip",      "ppi",
                                          "z",  "xyzz", "ississippi", "mississippi!"};
    for (size_t i = 0; i < sizeof hay / sizeof hay[0]; i++) {
        for (size_t j = 0; j < sizeof needles / sizeof needles[0]; j++) {
            const char *want = strstr(hay[i], needles[j]);
            const char *got = glint_test_strstr(hay[i], needles[j]);
            cr_assert_eq(got, want, "strstr(\"%s\", \"%s\")", hay[i], needles[j]);
        }
    }
}

Test(libc_string, strdup_strndup, .init = heap_setup)
{
    char *a = glint_test_strdup("guest");
    cr_assert_not_null(a);
    cr_assert_str_eq(a, "guest");
    char *b = glint_test_strndup("guest", 3);
    cr_assert_str_eq(b, "gue");
    char *c = glint_test_strndup("ab", 10);
    cr_assert_str_eq(c, "ab");
    char *d = glint_test_strdup("");
    cr_assert_str_eq(d, "");
    char raw[3] = {'x', 'y', 'z'}; /* strndup must not read past n */
    char *e = glint_test_strndup(raw, 3);
    cr_assert_str_eq(e, "xyz");
    glint_test_free(a);
    glint_test_free(b);
    glint_test_free(c);
    glint_test_free(d);
    glint_test_free(e);
    assert_heap_ok();
    cr_assert_eq(corrupt_calls, 0);
}

/* ---- stdlib.h: conversions ---- */

static const char *const num_strs[] = {
    "",
    "   ",
    "0",
    "-0",
    "+12",
    "  -123abc",
    "\t\n\v\f\r 42",
    "0x1f",
    "0X1F",
    "0x",
    "0xg",
    "-0x10",
    "  +0x",
    "0x0x1",
    "077",
    "089",
    "0b101",
    "z",
    "ZZ",
    "+-3",
    "- 3",
    "1_000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "-18446744073709551615",
    "-18446744073709551616",
    "99999999999999999999999999999",
    "-99999999999999999999999999999",
    "0x7fffffffffffffff",
    "0xffffffffffffffff",
    "0x10000000000000000",
    "-1",
    "777777777777777777777",
    "1777777777777777777777",
    "2000000000000000000000",
    "1111111111111111111111111111111111111111111111111111111111111111",
    "10000000000000000000000000000000000000000000000000000000000000000",
    "3w5e11264sgsf",
    "3w5e11264sgsg",
};

Test(libc_stdlib, strto_family_matches_glibc)
{
    static const int bases[] = {0, 2, 8, 10, 16, 36};
    for (size_t i = 0; i < sizeof num_strs / sizeof num_strs[0]; i++) {
        const char *s = num_strs[i];
        for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
            int base = bases[b];
            char *e1, *e2;
            long l1 = glint_test_strtol(s, &e1, base), l2 = strtol(s, &e2, base);
            cr_assert_eq(l1, l2, "strtol(\"%s\", %d): %ld vs %ld", s, base, l1, l2);
            cr_assert_eq(e1, e2, "strtol(\"%s\", %d) end +%td vs +%td", s, base, e1 - s, e2 - s);

            unsigned long u1 = glint_test_strtoul(s, &e1, base), u2 = strtoul(s, &e2, base);
            cr_assert_eq(u1, u2, "strtoul(\"%s\", %d): %lu vs %lu", s, base, u1, u2);
            cr_assert_eq(e1, e2, "strtoul(\"%s\", %d) end", s, base);

            long long ll1 = glint_test_strtoll(s, &e1, base), ll2 = strtoll(s, &e2, base);
            cr_assert_eq(ll1, ll2, "strtoll(\"%s\", %d): %lld vs %lld", s, base, ll1, ll2);
            cr_assert_eq(e1, e2, "strtoll(\"%s\", %d) end", s, base);

            unsigned long long ull1 = glint_test_strtoull(s, &e1, base);
            unsigned long long ull2 = strtoull(s, &e2, base);
            cr_assert_eq(ull1, ull2, "strtoull(\"%s\", %d): %llu vs %llu", s, base, ull1, ull2);
            cr_assert_eq(e1, e2, "strtoull(\"%s\", %d) end", s, base);

            /* endptr is optional */
            cr_assert_eq(glint_test_strtol(s, NULL, base), l2);
        }
        cr_assert_eq(glint_test_atoi(s), atoi(s), "atoi(\"%s\")", s);
    }
}

Test(libc_stdlib, strto_edge_cases)
{
    char *end;
    const char *s = "0x";
    cr_assert_eq(glint_test_strtol(s, &end, 16), 0);
    cr_assert_eq(end, s + 1, "\"0x\" parses as 0 and stops at the x");
    s = "  junk";
    cr_assert_eq(glint_test_strtoul(s, &end, 10), 0);
    cr_assert_eq(end, s, "no digits: end is the start, spaces included");
    /* Invalid base: 0 and no conversion. */
    s = "123";
    cr_assert_eq(glint_test_strtol(s, &end, 1), 0);
    cr_assert_eq(end, s);
    cr_assert_eq(glint_test_strtol(s, &end, 37), 0);
    cr_assert_eq(end, s);
    cr_assert_eq(glint_test_strtol(s, &end, -2), 0);
    cr_assert_eq(end, s);
    cr_assert_eq(glint_test_strtol("LONG", NULL, 36), strtol("LONG", NULL, 36));
    cr_assert_eq(glint_test_strtol("9223372036854775807", NULL, 10), LONG_MAX);
    cr_assert_eq(glint_test_strtol("9223372036854775808", NULL, 10), LONG_MAX);
    cr_assert_eq(glint_test_strtol("-9223372036854775808", NULL, 10), LONG_MIN);
    cr_assert_eq(glint_test_strtol("-9223372036854775809", NULL, 0), LONG_MIN);
    cr_assert_eq(glint_test_strtoul("-1", NULL, 10), ULONG_MAX);
    cr_assert_eq(glint_test_strtoull("-18446744073709551616", NULL, 10), ULLONG_MAX);
}

Test(libc_stdlib, abs_labs)
{
    cr_assert_eq(glint_test_abs(0), 0);
    cr_assert_eq(glint_test_abs(-5), 5);
    cr_assert_eq(glint_test_abs(5), 5);
    cr_assert_eq(glint_test_abs(INT_MAX), INT_MAX);
    cr_assert_eq(glint_test_abs(-INT_MAX), INT_MAX);
    cr_assert_eq(glint_test_labs(-7L), 7L);
    cr_assert_eq(glint_test_labs(LONG_MIN + 1), LONG_MAX);
    cr_assert_eq(glint_test_atoi("  -42x"), -42);
}

/* ---- stdio.h: snprintf ---- */

static char g_mine[4096], g_ref[4096];

static void check_same(const char *what, int line, int rm, int rr)
{
    cr_assert_eq(rm, rr, "line %d: %s: returned %d, glibc %d (\"%s\" vs \"%s\")", line, what, rm,
                 rr, g_mine, g_ref);
    size_t n = (size_t)rr < sizeof g_ref ? (size_t)rr + 1 : sizeof g_ref;
    cr_assert(memcmp(g_mine, g_ref, n) == 0, "line %d: %s: \"%s\" vs glibc \"%s\"", line, what,
              g_mine, g_ref);
}

/* Format with both implementations (each call checked by -Wformat) and compare. */
#define CMP(...)                                                                                   \
    check_same(#__VA_ARGS__, __LINE__, glint_test_snprintf(g_mine, sizeof g_mine, __VA_ARGS__),    \
               snprintf(g_ref, sizeof g_ref, __VA_ARGS__))

Test(libc_format, integers_match_glibc)
{
    CMP("plain text");
    CMP("%d|%i|%d|%d|%d", 0, 1, -1, INT_MAX, INT_MIN);
    CMP("[%5d][%-5d][%05d][%+d][% d][%+05d][% 05d]", 42, 42, -42, 42, 42, -42, 42);
    CMP("[%.3d][%.0d][%5.0d][%-+8.3d][%.0d]", 7, 0, 0, 7, 1);
    CMP("[%u][%u][%5u][%-5u]", 0u, UINT_MAX, 3u, 3u);
    CMP("[%o][%#o][%#o][%#.3o][%#5o][%#o][%.0o][%#.0o]", 8u, 0u, 8u, 8u, 8u, 0777u, 0u, 0u);
    CMP("[%x][%X][%#x][%#x][%#X][%#010x][%#-10x][%.8x][%#.0x]", 0xbeefu, 0xbeefu, 0u, 255u, 255u,
        255u, 255u, 255u, 0u);
    CMP("[%hhd][%hhu][%hhx][%hd][%hu][%hx]", 300, -1, 0x1ff, 70000, -1, 0x12345);
    CMP("[%ld][%lu][%lx][%lo]", LONG_MIN, ULONG_MAX, ULONG_MAX, ULONG_MAX);
    CMP("[%lld][%lld][%llu][%llX]", LLONG_MIN, LLONG_MAX, ULLONG_MAX, 0x0123456789abcdefull);
    CMP("[%zu][%zd][%zx][%jd][%ju][%td][%tx]", SIZE_MAX, (ssize_t)-5, (size_t)0xabc, INTMAX_MIN,
        UINTMAX_MAX, (ptrdiff_t)-9, (ptrdiff_t)0x7f);
    CMP("[%*d][%-*d][%*d][%.*d][%.*d][%*.*d]", 6, 1, 6, 2, -6, 3, 4, 4, -1, 5, 8, 3, 6);
    CMP("[%20.15lld][%-+20.15lld][%020lld]", -123456789012ll, 123456789012ll, -1ll);
    CMP("%d%%%d %% |", 1, 2);

    /* Valid C that -Wformat flags as suspicious: ignored flags, empty format. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-zero-length"
    CMP("");
    CMP("[%08.3d][%-08d][%+u][% u][%+x][% o][%#d][%0s][%05c][%+s]", -7, 5, 3u, 3u, 3u, 3u, 3, "s",
        'c', "t");
#pragma GCC diagnostic pop
}

Test(libc_format, chars_strings_pointers_match_glibc)
{
    CMP("[%c][%3c][%-3c][%c%c]", 'A', 'b', 'c', 'x', 'y');
    CMP("a%cb", 0); /* embedded NUL: compared up to the returned length */
    CMP("[%s][%10s][%-10s][%.2s][%10.2s][%.*s][%s][%.0s]", "hi", "hi", "hi", "hello", "hello", 3,
        "hello", "", "abc");
    CMP("[%p][%20p][%-20p][%p]", (void *)0x1234, (void *)0x1234, (void *)0xdeadbeef,
        (void *)UINTPTR_MAX);
    CMP("[%p][%10p][%-10p]", (void *)0, (void *)0, (void *)0);

    const char *volatile null_str = NULL;
    cr_assert_eq(glint_test_snprintf(g_mine, sizeof g_mine, "[%s][%8s]", null_str, null_str), 18);
    cr_assert_str_eq(g_mine, "[(null)][  (null)]");
}

Test(libc_format, floats_match_glibc)
{
    CMP("%f|%f|%f|%f|%f", 0.0, -0.0, 1.0, 1.5, 0.1);
    CMP("%f|%f|%f|%f|%f", 123.456, 1e10, 1e18, 1e-7, -2.5e-3);
    CMP("[%.0f][%.0f][%.0f][%.0f][%.0f][%.0f]", 0.5, 1.5, 2.5, 3.5, -0.5, 0.51);
    CMP("[%.1f][%.1f][%.2f][%.2f][%.3f][%.6f]", 1.25, 1.35, 0.125, 0.375, 9.9996, 999.9999995);
    CMP("[%10.3f][%-10.3f][%010.3f][%+f][% f][%#.0f][%+.0f]", 3.14159, 3.14159, -1.5, 1.0, 1.0, 2.0,
        2.0);
    CMP("[%.10f][%.20f][%.30f][%.17f]", 1.0 / 3, 0.1, 1e-20, 2.0 / 3);
    CMP("%f", 1e300);
    CMP("%.3f", DBL_MAX);
    CMP("%.3f", -DBL_MAX);
    CMP("%.1100f", DBL_TRUE_MIN);
    CMP("%.330f", DBL_MIN);
    CMP("[%f][%f][%f][%5f][%-6f][%06f][%F][%F][%+f][% f]", (double)INFINITY, -(double)INFINITY,
        (double)NAN, (double)INFINITY, (double)INFINITY, (double)INFINITY, (double)INFINITY,
        (double)NAN, (double)INFINITY, (double)NAN);
    CMP("[%e][%E][%.0e][%#.0e][%.3e][%e][%e][%e]", 1.0, 12345.678, 15.0, 25.0, 9.9995, 0.0, -1e-300,
        DBL_MAX);
    CMP("[%e][%.20e][%12.4e][%-12.4e][%012.4e][%+e]", 5e-324, 0.1, 3.0, 3.0, -3.0, 1e100);
    CMP("[%g][%g][%g][%g][%g][%g][%g]", 100000.0, 1000000.0, 1e-4, 1e-5, 0.0001234, 123456789.0,
        0.0);
    CMP("[%.3g][%#g][%G][%.0g][%#.0g][%g][%g][%.10g]", 3.14159, 1.5, 1e-10, 2.5, 2.5, 1e100, -0.0,
        1.0 / 3);
    CMP("[%g][%g][%.1g][%.2g][%#.3g][%g]", 999999.5, 9.9999995e-5, 0.96, 995.0, 100.0, 1e-320);
    CMP("[%10g][%-10g][%010g][%+g][% g]", 1.5, 1.5, -1.5, 1.5, 1.5);
    CMP("[%Lf][%Le][%Lg]", 1.5L, 1.5L, 1.5L);
    CMP("[%*.*f][%-*.*e]", 12, 2, 3.14159, 12, 2, 3.14159);
}

Test(libc_format, random_doubles_match_glibc)
{
    rng_seed(42);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = rnd();
        double v;
        switch (i % 4) {
        case 0: /* any bit pattern: all magnitudes, subnormals, inf, nan */
            memcpy(&v, &bits, sizeof v);
            break;
        case 1: /* moderate magnitudes */
            v = ldexp((double)(bits >> 11), (int)(rnd() % 120) - 110);
            break;
        case 2: /* decimal-looking values */
            v = (double)(int64_t)(bits % 2000000001ull - 1000000000ll) / 1000.0;
            break;
        default: /* exact binary fractions: rounding ties */
            v = ldexp((double)(bits % 100000), -(int)(rnd() % 12));
            break;
        }
        int p = (int)(rnd() % 26);
        CMP("%.*f", p, v);
        CMP("%.*e", p, v);
        CMP("%.*g", p, v);
        CMP("%#.*G", p, v);
        CMP("%+.*e|% -.*f", p, v, p, v);
        CMP("%f|%e|%g", v, v, v);
    }
}

Test(libc_format, random_integers_match_glibc)
{
    rng_seed(7);
    for (int i = 0; i < 20000; i++) {
        long long v = (long long)rnd() >> (rnd() % 64);
        int w = (int)(rnd() % 30), p = (int)(rnd() % 25);
        CMP("%lld|%llu|%llx|%llo|%llX", v, (unsigned long long)v, (unsigned long long)v,
            (unsigned long long)v, (unsigned long long)v);
        CMP("%*.*lld|%-*.*lld|%0*lld|%+*lld|% *lld", w, p, v, w, p, v, w, v, w, v, w, v);
        CMP("%#*.*llx|%#-*llo|%#0*llx", w, p, (unsigned long long)v, w, (unsigned long long)v, w,
            (unsigned long long)v);
        CMP("%hhd|%hd|%d|%hhx|%hx", (int)v, (int)v, (int)v, (unsigned)v, (unsigned)v);
    }
}

static int call_v(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int call_v(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = glint_test_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return r;
}

Test(libc_format, truncation_and_return_value)
{
    char buf[16];
    cr_assert_eq(glint_test_snprintf(NULL, 0, "hello %s", "world"), 11);
    memset(buf, 'Z', sizeof buf);
    cr_assert_eq(glint_test_snprintf(buf, 0, "hello"), 5);
    cr_assert_eq(buf[0], 'Z', "size 0 writes nothing");
    cr_assert_eq(glint_test_snprintf(buf, 1, "hello"), 5);
    cr_assert_eq(buf[0], '\0');
    cr_assert_eq(buf[1], 'Z');
    cr_assert_eq(glint_test_snprintf(buf, 5, "hello world"), 11);
    cr_assert_str_eq(buf, "hell");
    cr_assert_eq(glint_test_snprintf(buf, 6, "%s", "hello"), 5);
    cr_assert_str_eq(buf, "hello");
    cr_assert_eq(glint_test_snprintf(buf, 5, "%s", "hello"), 5);
    cr_assert_str_eq(buf, "hell");
    memset(buf, 'Z', sizeof buf);
    cr_assert_eq(glint_test_snprintf(buf, sizeof buf, "%1000d", 7), 1000);
    cr_assert_eq(strlen(buf), sizeof buf - 1);
    cr_assert_eq(glint_test_snprintf(buf, sizeof buf, "%.500f", 1.0), 502);
    cr_assert_str_eq(buf, "1.0000000000000");
    cr_assert_eq(glint_test_snprintf(buf, sizeof buf, "%-12s|%d", "ab", 5), 14);
    cr_assert_str_eq(buf, "ab          |5");

    cr_assert_eq(call_v(buf, sizeof buf, "%s-%d-%.1f", "v", 3, 2.25), 7);
    cr_assert_str_eq(buf, "v-3-2.2");
    cr_assert_eq(call_v(buf, 4, "%d", 123456), 6);
    cr_assert_str_eq(buf, "123");

    /* Output longer than INT_MAX cannot be returned as int. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-overflow"
    cr_assert_eq(glint_test_snprintf(buf, sizeof buf, "%2147483647d%d", 1, 1), -1);
#pragma GCC diagnostic pop
}

Test(libc_format, documented_extensions)
{
    int n = 99;
    cr_assert_eq(glint_test_snprintf(g_mine, sizeof g_mine, "%d%n|%d", 1, &n, 2), 3);
    cr_assert_str_eq(g_mine, "1|2");
    cr_assert_eq(n, 99, "%%n is ignored");
}

/* %a/%A print exactly what glibc prints (Lua's string.format("%a") relies on it). */
Test(libc_format, hex_float_matches_glibc)
{
    static const char *const fmts[] = {"%a",  "%A",  "%.0a", "%.1a",   "%.3a",  "%.20a", "%#a",
                                       "%+a", "% a", "%20a", "%-20a|", "%020a", "%#.0a", "%.13a"};
    static const double vals[] = {0.0,      -0.0,
                                  1.0,      -0.1,
                                  0.5,      3.999,
                                  1.0 / 3,  1e300,
                                  5e-324,   2.2250738585072014e-308,
                                  1.5,      1.9999999999999998,
                                  255.9375, 0x1.08p0,
                                  0x1.18p0, 0x1.fffffffffffffp1023};
    char want[128];
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            int wn = snprintf(want, sizeof want, fmts[i], vals[j]);
            int mn = glint_test_snprintf(g_mine, sizeof g_mine, fmts[i], vals[j]);
#pragma GCC diagnostic pop
            cr_assert_str_eq(g_mine, want, "%s of %.17g", fmts[i], vals[j]);
            cr_assert_eq(mn, wn);
        }
}

/* ---- heap ---- */

Test(libc_heap, uninitialised_or_tiny_heap_returns_null)
{
    glint_test_glint__heap_init(NULL, 0);
    cr_assert_null(glint_test_malloc(1));
    cr_assert_null(glint_test_calloc(1, 1));
    cr_assert_null(glint_test_realloc(NULL, 1));
    cr_assert_neq(glint_test_glint__heap_check(NULL, NULL), 0);
    glint_test_glint__heap_init(heap_mem + 1, 40); /* too small once aligned */
    cr_assert_null(glint_test_malloc(1));
    glint_test_glint__heap_init(heap_mem + 3, 100); /* unaligned base */
    void *p = glint_test_malloc(1);
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p % 16, 0);
    assert_heap_ok();
}

Test(libc_heap, alignment_and_basic_use, .init = heap_setup)
{
    size_t free0, largest0;
    cr_assert_eq(glint_test_glint__heap_check(&free0, &largest0), 0);
    cr_assert_eq(largest0, HEAP_LARGEST);
    cr_assert_eq(free0, HEAP_LARGEST);

    void *ps[300];
    for (size_t i = 0; i < 300; i++) {
        ps[i] = glint_test_malloc(i);
        cr_assert_not_null(ps[i], "malloc(%zu)", i);
        cr_assert_eq((uintptr_t)ps[i] % 16, 0, "malloc(%zu) alignment", i);
        memset(ps[i], (int)i, i);
    }
    for (size_t i = 0; i < 300; i++) {
        for (size_t j = 0; j < i; j++)
            cr_assert_eq(((unsigned char *)ps[i])[j], (unsigned char)i);
    }
    cr_assert_neq(ps[0], ps[1], "malloc(0) returns unique pointers");
    assert_heap_ok();
    for (size_t i = 0; i < 300; i += 2)
        glint_test_free(ps[i]);
    assert_heap_ok();
    for (size_t i = 1; i < 300; i += 2)
        glint_test_free(ps[i]);
    glint_test_free(NULL);

    size_t free1, largest1;
    cr_assert_eq(glint_test_glint__heap_check(&free1, &largest1), 0);
    cr_assert_eq(largest1, HEAP_LARGEST, "everything coalesced back into one block");
    cr_assert_eq(corrupt_calls, 0);
}

Test(libc_heap, whole_heap_and_exhaustion, .init = heap_setup)
{
    cr_assert_null(glint_test_malloc(HEAP_LARGEST + 1));
    cr_assert_null(glint_test_malloc(2u << 20));
    cr_assert_null(glint_test_malloc(SIZE_MAX));
    cr_assert_null(glint_test_malloc(SIZE_MAX - 8));
    void *all = glint_test_malloc(HEAP_LARGEST);
    cr_assert_not_null(all);
    memset(all, 0x5c, HEAP_LARGEST);
    cr_assert_null(glint_test_malloc(1), "heap is full");
    glint_test_free(all);

    /* Fill with small blocks until malloc fails, free all, allocate everything again. */
    static void *ps[HEAP_SIZE / 32];
    size_t n = 0;
    while ((ps[n] = glint_test_malloc(1000)) != NULL)
        n++;
    cr_assert_gt(n, 1000, "only %zu blocks of 1000 bytes fit", n);
    cr_assert_eq(n, (HEAP_SIZE - 16) / 1024, "1000-byte requests take 1024-byte blocks");
    assert_heap_ok();
    cr_assert_null(glint_test_calloc(10, 100));
    for (size_t i = 0; i < n; i += 2)
        glint_test_free(ps[i]);
    assert_heap_ok();
    for (size_t i = 1; i < n; i += 2)
        glint_test_free(ps[i]);
    all = glint_test_malloc(HEAP_LARGEST);
    cr_assert_not_null(all, "freeing everything coalesces the heap into one block");
    glint_test_free(all);
    assert_heap_ok();
    cr_assert_eq(corrupt_calls, 0);
}

Test(libc_heap, calloc_zeroes_and_checks_overflow, .init = heap_setup)
{
    unsigned char *p = glint_test_malloc(4096);
    memset(p, 0xff, 4096);
    glint_test_free(p);
    unsigned char *q = glint_test_calloc(64, 64);
    cr_assert_not_null(q);
    for (size_t i = 0; i < 4096; i++)
        cr_assert_eq(q[i], 0);
    glint_test_free(q);

    cr_assert_null(glint_test_calloc(SIZE_MAX / 2 + 1, 2));
    cr_assert_null(glint_test_calloc(SIZE_MAX, SIZE_MAX));
    cr_assert_null(glint_test_calloc((SIZE_MAX >> 20) + 1, 1u << 20));
    cr_assert_null(glint_test_calloc(1u << 20, (SIZE_MAX >> 20) + 1));
    void *z = glint_test_calloc(0, 5);
    cr_assert_not_null(z);
    glint_test_free(z);
    assert_heap_ok();
}

Test(libc_heap, realloc_semantics, .init = heap_setup)
{
    size_t free0, free1;
    cr_assert_eq(glint_test_glint__heap_check(&free0, NULL), 0);

    unsigned char *p = glint_test_realloc(NULL, 100);
    cr_assert_not_null(p);
    for (int i = 0; i < 100; i++)
        p[i] = (unsigned char)i;

    /* realloc(p, 0) frees p and returns NULL */
    cr_assert_null(glint_test_realloc(p, 0));
    cr_assert_eq(glint_test_glint__heap_check(&free1, NULL), 0);
    cr_assert_eq(free1, free0);

    /* grows in place into a free successor, shrinks in place */
    p = glint_test_malloc(100);
    unsigned char *b = glint_test_malloc(1000);
    unsigned char *guard = glint_test_malloc(16);
    for (int i = 0; i < 100; i++)
        p[i] = (unsigned char)i;
    glint_test_free(b);
    unsigned char *p2 = glint_test_realloc(p, 900);
    cr_assert_eq(p2, p, "grew in place");
    for (int i = 0; i < 100; i++)
        cr_assert_eq(p2[i], (unsigned char)i);
    p2 = glint_test_realloc(p, 50);
    cr_assert_eq(p2, p, "shrank in place");
    assert_heap_ok();

    /* has to move: the successor is in use */
    unsigned char *blocker = glint_test_malloc(5000);
    cr_assert_not_null(blocker);
    unsigned char *big = glint_test_realloc(guard, 3000);
    cr_assert_not_null(big);
    memset(big, 0x77, 3000);
    unsigned char *moved = glint_test_realloc(p, 20000);
    cr_assert_not_null(moved);
    cr_assert_neq(moved, p);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(moved[i], (unsigned char)i);
    assert_heap_ok();

    /* failure leaves the block intact */
    cr_assert_null(glint_test_realloc(moved, HEAP_SIZE));
    cr_assert_null(glint_test_realloc(moved, SIZE_MAX));
    for (int i = 0; i < 50; i++)
        cr_assert_eq(moved[i], (unsigned char)i);
    glint_test_free(moved);
    glint_test_free(big);
    glint_test_free(blocker);
    cr_assert_eq(glint_test_glint__heap_check(&free1, NULL), 0);
    cr_assert_eq(free1, free0);
    cr_assert_eq(corrupt_calls, 0);
}

Test(libc_heap, bad_frees_are_detected, .init = heap_setup)
{
    unsigned char *p = glint_test_malloc(256);
    unsigned char *q = glint_test_malloc(64);
    memset(p, 0, 256);

    int on_stack;
    glint_test_free(&on_stack);
    cr_assert_eq(corrupt_calls, 1, "pointer outside the heap");
    glint_test_free(p + 1);
    cr_assert_eq(corrupt_calls, 2, "unaligned pointer");
    glint_test_free(p + 64);
    cr_assert_eq(corrupt_calls, 3, "pointer into the middle of a block");
    memset(p, 0xab, 256);
    glint_test_free(p + 64);
    cr_assert_eq(corrupt_calls, 4, "pointer into the middle of a block (garbage header)");
    cr_assert_null(glint_test_realloc(p + 32, 10));
    cr_assert_eq(corrupt_calls, 5, "realloc of a bad pointer");
    glint_test_free(heap_mem + sizeof heap_mem);
    cr_assert_eq(corrupt_calls, 6, "one past the heap");
    assert_heap_ok();

    /* damaged header: the size is still plausible, only the canary tells */
    unsigned char saved[16];
    memcpy(saved, q - 16, 16);
    q[-16] ^= 0x20;
    glint_test_free(q);
    cr_assert_eq(corrupt_calls, 7, "damaged header");
    memcpy(q - 16, saved, 16);

    /* a forged header inside a block: plausible size and flags, no canary */
    size_t forged[2] = {64 | 3, 0};
    memcpy(p + 48, forged, sizeof forged);
    glint_test_free(p + 64);
    cr_assert_eq(corrupt_calls, 8, "forged header");
    corrupt_calls = 7;

    /* double free, also once the block has merged with its neighbours */
    glint_test_free(q);
    cr_assert_eq(corrupt_calls, 7);
    glint_test_free(q);
    cr_assert_eq(corrupt_calls, 8, "double free");
    cr_assert_not_null(corrupt_what);
    glint_test_free(p);
    glint_test_free(p);
    cr_assert_eq(corrupt_calls, 9, "double free after coalescing");
    assert_heap_ok();
    size_t largest;
    cr_assert_eq(glint_test_glint__heap_check(NULL, &largest), 0);
    cr_assert_eq(largest, HEAP_LARGEST);
}

Test(libc_heap, double_free_after_merging_into_previous_block, .init = heap_setup)
{
    void *a = glint_test_malloc(100);
    void *b = glint_test_malloc(100);
    void *c = glint_test_malloc(100);
    glint_test_free(a);
    glint_test_free(b); /* b's block is now inside the free block that starts at a */
    cr_assert_eq(corrupt_calls, 0);
    glint_test_free(b);
    cr_assert_eq(corrupt_calls, 1, "double free of a block merged backwards");
    cr_assert_not_null(strstr(corrupt_what, "double free"), "reported as: %s", corrupt_what);
    glint_test_free(a);
    cr_assert_eq(corrupt_calls, 2);
    assert_heap_ok();
    glint_test_free(c);
    assert_heap_ok();
    cr_assert_eq(corrupt_calls, 2);
}

#define SLOTS 512

struct slot {
    unsigned char *p;
    size_t n;
    unsigned char tag;
};

static unsigned char pattern(unsigned char tag, size_t i)
{
    return (unsigned char)(tag + i * 7 + (i >> 8));
}

static void fill(struct slot *s)
{
    for (size_t i = 0; i < s->n; i++)
        s->p[i] = pattern(s->tag, i);
}

static bool intact(const struct slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s->p[i] != pattern(s->tag, i))
            return false;
    }
    return true;
}

static size_t rand_size(void)
{
    uint64_t r = rnd() % 100;
    if (r < 60)
        return 1 + rnd() % 128;
    if (r < 90)
        return 1 + rnd() % 4096;
    return 1 + rnd() % 65536;
}

static int by_addr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct slot *)a)->p,
              y = (uintptr_t)((const struct slot *)b)->p;
    return (x > y) - (x < y);
}

static void check_all(struct slot *slots)
{
    static struct slot sorted[SLOTS];
    size_t n = 0;
    assert_heap_ok();
    for (size_t i = 0; i < SLOTS; i++) {
        if (slots[i].p) {
            cr_assert(intact(&slots[i], slots[i].n), "slot %zu content damaged", i);
            sorted[n++] = slots[i];
        }
    }
    qsort(sorted, n, sizeof sorted[0], by_addr);
    for (size_t i = 1; i < n; i++) {
        cr_assert_leq((uintptr_t)sorted[i - 1].p + sorted[i - 1].n, (uintptr_t)sorted[i].p,
                      "live blocks overlap");
    }
}

Test(libc_heap, random_operations, .init = heap_setup)
{
    static struct slot slots[SLOTS];
    unsigned tagc = 1;
    size_t nulls = 0, inplace = 0;

    rng_seed(0x5eed);
    for (int op = 0; op < 30000; op++) {
        struct slot *s = &slots[rnd() % SLOTS];
        size_t largest;
        cr_assert_eq(glint_test_glint__heap_check(NULL, &largest), 0, "op %d", op);
        if (!s->p) {
            size_t n = rand_size();
            bool zeroed = rnd() % 4 == 0;
            unsigned char *p = zeroed ? glint_test_calloc(1, n) : glint_test_malloc(n);
            if (!p) {
                cr_assert_lt(largest, n, "op %d: malloc(%zu) failed with %zu free", op, n, largest);
                nulls++;
                continue;
            }
            cr_assert_eq((uintptr_t)p % 16, 0);
            if (zeroed) {
                for (size_t i = 0; i < n; i++)
                    cr_assert_eq(p[i], 0, "calloc not zeroed");
            }
            s->p = p;
            s->n = n;
            s->tag = (unsigned char)tagc++;
            fill(s);
        } else if (rnd() % 2) {
            cr_assert(intact(s, s->n), "op %d: content damaged", op);
            glint_test_free(s->p);
            s->p = NULL;
        } else {
            size_t n = rand_size();
            cr_assert(intact(s, s->n), "op %d: content damaged", op);
            unsigned char *p = glint_test_realloc(s->p, n);
            if (!p) {
                cr_assert_lt(largest, n, "op %d: realloc(%zu) failed with %zu free", op, n,
                             largest);
                cr_assert(intact(s, s->n), "failed realloc damaged the block");
                nulls++;
                continue;
            }
            cr_assert_eq((uintptr_t)p % 16, 0);
            inplace += p == s->p;
            s->p = p;
            cr_assert(intact(s, s->n < n ? s->n : n), "op %d: realloc lost content", op);
            s->n = n;
            s->tag = (unsigned char)tagc++;
            fill(s);
        }
        if (op % 64 == 0)
            check_all(slots);
    }
    check_all(slots);
    cr_assert_gt(nulls, 0, "the sequence should run the heap out of memory sometimes");
    cr_assert_gt(inplace, 0, "some reallocs should stay in place");

    for (size_t i = 0; i < SLOTS; i++) {
        glint_test_free(slots[i].p);
        slots[i].p = NULL;
    }
    size_t free_bytes, largest;
    cr_assert_eq(glint_test_glint__heap_check(&free_bytes, &largest), 0);
    cr_assert_eq(largest, HEAP_LARGEST);
    cr_assert_eq(free_bytes, HEAP_LARGEST);
    void *all = glint_test_malloc(HEAP_LARGEST);
    cr_assert_not_null(all, "heap fully coalesced after freeing everything");
    glint_test_free(all);
    cr_assert_eq(corrupt_calls, 0);
}
