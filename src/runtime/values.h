/* Conversions between API values and codec values, and checks of host-supplied values. */
#ifndef GLINT_VALUES_H
#define GLINT_VALUES_H

#include "codec.h"
#include "glint.h"

glint__cval glint__to_cval(const glint_value *v);

/* Decoded value to API value; string/bytes still point at the decoded buffer. */
glint_value glint__from_cval(const glint__cval *c);

/* What is wrong with a host-supplied value (string/bytes pointer and length,
 * text valid UTF-8 without NUL, at most max bytes), or NULL. Returns
 * glint__too_long when only the length is the problem. */
const char *glint__check_value(const glint_value *v, uint64_t max);
extern const char glint__too_long[];

/* "(i32, string) -> bool" into buf. */
void glint__sig_to_string(char *buf, size_t n, glint_type ret, const glint_type *params, size_t np);

#endif
