/* Argument parsing for the glint command-line tool: sizes, numbers, typed call arguments. */
#ifndef GLINT_CLI_PARSE_H
#define GLINT_CLI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint.h"

/* Result of a parse: PARSE_OK, or why it failed. */
enum parse_result {
    PARSE_OK = 0,
    PARSE_INVALID = -1, /* not valid text for the type (message in the error buffer) */
    PARSE_NOMEM = -2,   /* out of memory */
};

/* Parse a byte count: decimal digits with an optional K, M or G suffix (powers of
 * 1024, either case). Rejects zero, overflow and anything else. */
int parse_size(const char *s, uint64_t *out, char *err, size_t errsize);

/* Parse text as a value of type t (not GLINT_VOID). Strings point into s; bytes
 * are decoded into *storage, which the caller free()s (it may be set to NULL). */
int parse_value(glint_type t, const char *s, glint_value *out, void **storage, char *err,
                size_t errsize);

/* "i32, string": fi's parameter types for messages, into buf (cut to size). Returns buf. */
const char *parse_param_list(const glint_function_info *fi, char *buf, size_t size);

/* True if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

#endif
