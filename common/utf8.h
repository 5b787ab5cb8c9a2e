/* UTF-8 validation for strings crossing the ABI; freestanding, built into host and guest. */
#ifndef GLINT_UTF8_H
#define GLINT_UTF8_H

#include <stdint.h>

/*
 * 1 if the len bytes at s are valid UTF-8 without NUL, else 0. Valid means:
 * shortest encoding only (no overlongs), no surrogates (U+D800..U+DFFF), no
 * code point above U+10FFFF, no sequence cut short by len. Reads exactly the
 * len bytes at s (s may be NULL when len is 0).
 */
int glint__utf8_valid(const uint8_t *s, uint64_t len);

#endif
