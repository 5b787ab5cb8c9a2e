/* JSON <-> glint values for glint serve: request bodies to arguments, results and errors to text.
 */
#ifndef GLINT_SERVE_JSON_H
#define GLINT_SERVE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint.h"

/* Deepest nesting of arrays and objects a request body may have; deeper is a 400. */
#define SJ_MAX_DEPTH 32

/* Arguments decoded from a body: v[0..n) point into root (strings) and bytes (decoded base64),
 * which stay valid until sj_args_free. */
struct sj_args {
    glint_value v[GLINT_MAX_PARAMS];
    size_t n;
    void *root;                       /* json_t * */
    uint8_t *bytes[GLINT_MAX_PARAMS]; /* malloc'd, or NULL */
};

/* False if text[0..len) nests arrays/objects deeper than max (a scan that ignores strings),
 * so that the parser never sees such input. */
bool sj_depth_ok(const char *text, size_t len, unsigned max);

/*
 * Decode body (a JSON array of positional arguments) against fi's parameter types into *a:
 * integers as JSON integers in range (u64 and i64 also as decimal strings, as values above
 * 2^63-1 do not fit every JSON parser), f32/f64 as numbers or "NaN", "Infinity", "-Infinity",
 * bool as true/false, string as a JSON string (UTF-8 without NUL), bytes as canonical base64.
 * Returns 0, SJ_MALFORMED (body not JSON, not an array, too deep) or SJ_BAD_ARGS (wrong count,
 * argument N of the wrong type or out of range), with a message naming what was wrong in err;
 * *a is then empty.
 */
enum { SJ_MALFORMED = -1, SJ_BAD_ARGS = -2 };
int sj_parse_args(const char *body, size_t len, const glint_function_info *fi, struct sj_args *a,
                  char *err, size_t errsize);
void sj_args_free(struct sj_args *a);

/* Handler functions (Call(function, json_args)): check that body is a JSON array no deeper
 * than SJ_MAX_DEPTH and return it re-encoded compactly (malloc'd, NUL-terminated) in *out.
 * Returns 0, or -1 with a message in err (*out NULL). */
int sj_parse_array(const char *body, size_t len, char **out, char *err, size_t errsize);

/* "{"result":V}" for a call result v (malloc'd, NUL-terminated; length in *len): void is null,
 * integers and bools as JSON literals, floats in their shortest round-trip form (non-finite
 * values as the strings above), strings as JSON strings, bytes as base64. NULL if out of
 * memory or v is not a valid value (a string that is not UTF-8). */
char *sj_result(const glint_value *v, size_t *len);

/* The same around a handler's JSON result text; NULL with a message in err if text is not a
 * JSON value no deeper than SJ_MAX_DEPTH (or out of memory). */
char *sj_result_json(const char *text, size_t textlen, size_t *len, char *err, size_t errsize);

/* "{"error":{"kind":K,"message":M}}" (malloc'd; message bytes that are not UTF-8 are replaced
 * by '?'); NULL only if out of memory. */
char *sj_error(const char *kind, const char *message, size_t *len);

#endif
