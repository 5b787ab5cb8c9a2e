/* Unit tests: the CLI's escaping of guest text for terminals (cli/escape.c, compiled in here). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "../../cli/escape.c"

static void expect(const char *in, size_t len, const char *want)
{
    char out[4096];
    cr_assert_leq(len * CLI_ESCAPE_MAX_EXPANSION, sizeof out);
    size_t n = cli_escape(in, len, out);
    cr_assert_eq(n, strlen(want), "got \"%.*s\", want \"%s\"", (int)n, out, want);
    cr_assert_eq(memcmp(out, want, n), 0, "got \"%.*s\", want \"%s\"", (int)n, out, want);
}

#define EXPECT(lit, want) expect(lit, sizeof(lit) - 1, want)

Test(cli_escape, printable_and_utf8_unchanged)
{
    EXPECT("hello, world", "hello, world");
    EXPECT("gr\xc3\xbc\xc3\x9f \xe2\x9c\x93 \xf0\x9f\x98\x80",
           "gr\xc3\xbc\xc3\x9f \xe2\x9c\x93 \xf0\x9f\x98\x80");
    EXPECT("\xc2\xa0nbsp", "\xc2\xa0nbsp"); /* U+00A0 is not a control */
    EXPECT("back\\slash", "back\\slash");
    EXPECT("", "");
}

Test(cli_escape, newline_and_tab_kept)
{
    EXPECT("a\nb\tc\n", "a\nb\tc\n");
}

Test(cli_escape, c0_controls_and_del)
{
    EXPECT("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07");
    EXPECT("cr\rlf", "cr\\x0dlf");
    EXPECT("nul\0x", "nul\\x00x");
    EXPECT("del\x7f", "del\\x7f");
    EXPECT("\x01\x1f", "\\x01\\x1f");
}

Test(cli_escape, c1_controls)
{
    EXPECT("\xc2\x9b"
           "31m",
           "\\xc2\\x9b31m"); /* CSI */
    EXPECT("\xc2\x80\xc2\x9f", "\\xc2\\x80\\xc2\\x9f");
}

Test(cli_escape, invalid_utf8_bytes)
{
    EXPECT("\xff", "\\xff");
    EXPECT("\x9b"
           "1m",
           "\\x9b1m");                                  /* raw 8-bit CSI */
    EXPECT("\xc0\xaf", "\\xc0\\xaf");                   /* overlong '/' */
    EXPECT("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* surrogate */
    EXPECT("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
    EXPECT("cut\xe2\x82", "cut\\xe2\\x82");             /* sequence cut at the end */
    EXPECT("\xe2\x82z", "\\xe2\\x82z");                 /* cut by an ASCII byte */
}

/* The buffered writer escapes exactly like cli_escape, even where a UTF-8 sequence straddles
 * its internal chunks, and writes the exact bytes when not escaping. */
Test(cli_escape, writer_matches_escape_across_chunks)
{
    size_t len = 5000;
    char *in = malloc(len);
    cr_assert_not_null(in);
    for (size_t i = 0; i < len;) {
        static const char pattern[] = "ab\xe2\x9c\x93\x1b\xf0\x9f\x98\x80\n\xff";
        for (size_t k = 0; k < sizeof pattern - 1 && i < len; k++)
            in[i++] = pattern[k];
    }
    char *want = malloc(len * CLI_ESCAPE_MAX_EXPANSION);
    cr_assert_not_null(want);
    size_t wn = cli_escape(in, len, want);
    for (int escape = 0; escape < 2; escape++) {
        char *got = NULL;
        size_t gn = 0;
        FILE *f = open_memstream(&got, &gn);
        cr_assert_not_null(f);
        cr_assert_eq(cli_write_text(f, in, len, escape), 0);
        fclose(f);
        if (escape) {
            cr_assert_eq(gn, wn);
            cr_assert_eq(memcmp(got, want, wn), 0);
        } else {
            cr_assert_eq(gn, len);
            cr_assert_eq(memcmp(got, in, len), 0);
        }
        free(got);
    }
    free(want);
    free(in);
}
