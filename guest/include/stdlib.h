/* Guest libc <stdlib.h>: heap, abs, string-to-integer conversions (freestanding). */
#ifndef GLINT_GUEST_STDLIB_H
#define GLINT_GUEST_STDLIB_H

#include <stddef.h>

/* Heap over the region the runtime hands to glint__heap_init(); 16-byte aligned. */
void *malloc(size_t size);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);

int abs(int n);
long labs(long n);

/* C semantics (bases 0 and 2..36, endptr, saturation on overflow), but errno
 * does not exist in guests: ERANGE/EINVAL are not reported. */
long strtol(const char *restrict nptr, char **restrict endptr, int base);
unsigned long strtoul(const char *restrict nptr, char **restrict endptr, int base);
long long strtoll(const char *restrict nptr, char **restrict endptr, int base);
unsigned long long strtoull(const char *restrict nptr, char **restrict endptr, int base);
int atoi(const char *nptr);

#endif
