/* Terminal-safe output of guest-controlled text: control characters and invalid UTF-8 escaped. */
#include "escape.h"

#include <stdint.h>
#include <unistd.h>

/* Length of the well-formed UTF-8 sequence at s[0..avail), or 0 if none. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static size_t put_hex(char *out, unsigned char b)
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[b >> 4];
    out[3] = hex[b & 15];
    return 4;
}

size_t cli_escape(const char *str, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t n = utf8_seq(s + i, len - i);
        bool control =
            n == 0 || (n == 1 && ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f)) ||
            (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0);
        if (!control) {
            for (size_t k = 0; k < n; k++)
                out[o++] = (char)s[i + k];
            i += n;
            continue;
        }
        /* Invalid: escape this one byte and resynchronise on the next. */
        size_t m = n == 0 ? 1 : n;
        for (size_t k = 0; k < m; k++)
            o += put_hex(out + o, s[i + k]);
        i += m;
    }
    return o;
}

int cli_write_text(FILE *f, const char *s, size_t len, bool escape)
{
    if (!escape)
        return len == 0 || fwrite(s, 1, len, f) == len ? 0 : -1;
    char buf[1024 * CLI_ESCAPE_MAX_EXPANSION];
    size_t i = 0;
    while (i < len) {
        size_t chunk = len - i < 1024 ? len - i : 1024;
        /* Do not split a UTF-8 sequence between chunks: end at a lead byte. */
        if (i + chunk < len) {
            size_t back = 0;
            while (back < 3 && back < chunk && ((unsigned char)s[i + chunk - back] & 0xc0) == 0x80)
                back++;
            if (back < chunk && ((unsigned char)s[i + chunk - back] & 0xc0) != 0x80)
                chunk -= back;
        }
        size_t n = cli_escape(s + i, chunk, buf);
        if (fwrite(buf, 1, n, f) != n)
            return -1;
        i += chunk;
    }
    return 0;
}

bool cli_stdout_escapes(void)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(STDOUT_FILENO) ? 1 : 0;
    return tty == 1;
}
