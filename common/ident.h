/* Function-name rules shared by exports, host functions and host calls; freestanding. */
#ifndef GLINT_IDENT_H
#define GLINT_IDENT_H

#include <stdint.h>

/*
 * 1 if name (len bytes, no NUL needed) is a valid function name:
 * [A-Za-z0-9_.]{1,63}, i.e. 1..GLINT_ABI_NAME_MAX-1 bytes; else 0. Reads
 * exactly the len bytes at name (none when len is 0 or too long).
 */
int glint__name_valid(const char *name, uint64_t len);

#endif
