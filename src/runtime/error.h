/* Error codes and the per-thread "what went wrong" message behind glint_errmsg(). */
#ifndef GLINT_ERROR_H
#define GLINT_ERROR_H

#include "glint.h"

/* Record a formatted message for glint_errmsg() and return code. */
int glint__fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clear the calling thread's message. */
void glint__clear_error(void);

#endif
