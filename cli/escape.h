/* Terminal-safe output of guest-controlled text: control characters and invalid UTF-8 escaped. */
#ifndef GLINT_CLI_ESCAPE_H
#define GLINT_CLI_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Most bytes cli_escape() writes per input byte ("\xNN"). */
#define CLI_ESCAPE_MAX_EXPANSION 4

/*
 * Copy s[0..len) to out (room for CLI_ESCAPE_MAX_EXPANSION * len bytes; not
 * NUL-terminated), keeping well-formed UTF-8 and "\n" and "\t" as they are and
 * writing every other C0 control (U+0000..U+001F), DEL (U+007F), C1 control
 * (U+0080..U+009F, encoded C2 80..C2 9F) and every byte that is not part of
 * well-formed UTF-8 (overlong forms, surrogates, > U+10FFFF, stray or cut
 * sequences) as "\xNN", one per byte, lowercase hex. Returns the bytes written.
 */
size_t cli_escape(const char *s, size_t len, char *out);

/*
 * Write guest text to f: escaped as cli_escape() does if `escape`, else the
 * exact bytes. Returns 0, or -1 on a write error.
 */
int cli_write_text(FILE *f, const char *s, size_t len, bool escape);

/* Whether guest text written to stdout should be escaped: true if stdout is a
 * terminal (a pipe or file gets the exact bytes). Decided on the first call,
 * which must come before the process confines itself (isatty is an ioctl). */
bool cli_stdout_escapes(void);

#endif
