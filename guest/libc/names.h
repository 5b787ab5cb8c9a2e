/* Guest libc symbol names: standard names in guests, glint_test_* when built for host tests. */
#ifndef GLINT_LIBC_NAMES_H
#define GLINT_LIBC_NAMES_H

/*
 * Every guest libc function is defined as GLINT_LIBC(name):
 *   - guest build: GLINT_LIBC(memcpy) is memcpy; the prototypes also come from
 *     guest/include/{string,stdlib,stdio}.h, and the redeclarations below are
 *     checked against them by the compiler;
 *   - host-test build (-DGLINT_LIBC_HOST_TEST): GLINT_LIBC(memcpy) is
 *     glint_test_memcpy, so the code can be linked into a host program next to
 *     glibc and compared with it. In this mode only compiler-provided headers
 *     are included here (no <string.h> etc. that would clash with glibc's).
 *
 * The glint-specific heap entry points follow the same rule:
 * glint__heap_init / glint_test_glint__heap_init and so on.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef GLINT_LIBC_HOST_TEST
#define GLINT_LIBC(name) glint_test_##name
#else
#define GLINT_LIBC(name) name
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#endif

/* string.c: memory and strings */
void *GLINT_LIBC(memcpy)(void *restrict dst, const void *restrict src, size_t n);
void *GLINT_LIBC(memmove)(void *dst, const void *src, size_t n);
void *GLINT_LIBC(memset)(void *dst, int c, size_t n);
int GLINT_LIBC(memcmp)(const void *a, const void *b, size_t n);
void *GLINT_LIBC(memchr)(const void *s, int c, size_t n);
size_t GLINT_LIBC(strlen)(const char *s);
size_t GLINT_LIBC(strnlen)(const char *s, size_t maxlen);
int GLINT_LIBC(strcmp)(const char *a, const char *b);
int GLINT_LIBC(strncmp)(const char *a, const char *b, size_t n);
char *GLINT_LIBC(strcpy)(char *restrict dst, const char *restrict src);
char *GLINT_LIBC(strncpy)(char *restrict dst, const char *restrict src, size_t n);
char *GLINT_LIBC(strcat)(char *restrict dst, const char *restrict src);
char *GLINT_LIBC(strncat)(char *restrict dst, const char *restrict src, size_t n);
char *GLINT_LIBC(strchr)(const char *s, int c);
char *GLINT_LIBC(strrchr)(const char *s, int c);
char *GLINT_LIBC(strstr)(const char *haystack, const char *needle);
char *GLINT_LIBC(strdup)(const char *s);
char *GLINT_LIBC(strndup)(const char *s, size_t n);

/* string.c: <stdlib.h> integer helpers and conversions */
int GLINT_LIBC(abs)(int n);
long GLINT_LIBC(labs)(long n);
long GLINT_LIBC(strtol)(const char *restrict nptr, char **restrict endptr, int base);
unsigned long GLINT_LIBC(strtoul)(const char *restrict nptr, char **restrict endptr, int base);
long long GLINT_LIBC(strtoll)(const char *restrict nptr, char **restrict endptr, int base);
unsigned long long GLINT_LIBC(strtoull)(const char *restrict nptr, char **restrict endptr,
                                        int base);
int GLINT_LIBC(atoi)(const char *nptr);

/* heap.c */
void *GLINT_LIBC(malloc)(size_t size);
void *GLINT_LIBC(calloc)(size_t nmemb, size_t size);
void *GLINT_LIBC(realloc)(void *ptr, size_t size);
void GLINT_LIBC(free)(void *ptr);

/*
 * Hand the heap its region; called once by the runtime at start-up, before any
 * allocation (calling it again discards every allocation). The usable part is
 * [base, base+size) shrunk to 16-byte alignment. Until it is called, or if the
 * region is too small, malloc returns NULL.
 */
void GLINT_LIBC(glint__heap_init)(void *base, size_t size);

/*
 * Walk the whole heap and verify its invariants (block tags, canaries,
 * coalescing, free lists). Returns 0 when consistent, -1 otherwise. Optional
 * outputs (may be NULL): total free payload bytes and the largest single
 * allocation that would currently succeed. Meant for tests and debugging.
 */
int GLINT_LIBC(glint__heap_check)(size_t *free_bytes, size_t *largest_alloc);

/*
 * Provided by the runtime (guest) or by the test program (host): called when
 * free/realloc detect a bad pointer or a damaged block; `what` is a short
 * static message. The guest runtime aborts; if it returns, the heap ignores
 * the offending request (free does nothing, realloc returns NULL).
 */
void GLINT_LIBC(glint__heap_corrupt)(const char *what);

/* format.c */
int GLINT_LIBC(snprintf)(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int GLINT_LIBC(vsnprintf)(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
