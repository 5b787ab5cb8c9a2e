/* Guest libc <stdio.h>: formatting into memory only (see guest/libc/format.c). */
#ifndef GLINT_GUEST_STDIO_H
#define GLINT_GUEST_STDIO_H

#include <stdarg.h>
#include <stddef.h>

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
