/* libglint-rt: glibc's _FORTIFY_SOURCE entry points: check the object size, then do the plain
 * call; a failed check aborts the guest like glibc's __chk_fail. */
#include <glint/guest.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct rt_file FILE_;
int vfprintf(FILE_ *f, const char *fmt, va_list ap);
extern FILE_ *stdout;
typedef long jmp_buf_[25];
__attribute__((noreturn)) void longjmp(jmp_buf_ env, int val);

__attribute__((noreturn)) static void chk_fail(const char *what)
{
    glint_guest_abort(-5, "buffer overflow detected (%s)", what);
}

void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen)
{
    if (n > dlen)
        chk_fail("__memcpy_chk");
    return memcpy(d, s, n);
}

char *__strcat_chk(char *d, const char *s, size_t dlen);
char *__strcat_chk(char *d, const char *s, size_t dlen)
{
    if (strlen(d) + strlen(s) + 1 > dlen)
        chk_fail("__strcat_chk");
    return strcat(d, s);
}

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
{
    (void)flag;
    if (maxlen > slen)
        chk_fail("__vsnprintf_chk");
    return vsnprintf(s, maxlen, fmt, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...);
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
    va_end(ap);
    return n;
}

int __vsprintf_chk(char *s, int flag, size_t slen, const char *fmt, va_list ap);
int __vsprintf_chk(char *s, int flag, size_t slen, const char *fmt, va_list ap)
{
    (void)flag;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(s, slen, fmt, ap);
    va_end(ap2);
    if (n < 0 || (size_t)n >= slen)
        chk_fail("__sprintf_chk");
    return n;
}

int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = __vsprintf_chk(s, flag, slen, fmt, ap);
    va_end(ap);
    return n;
}

int __vfprintf_chk(FILE_ *f, int flag, const char *fmt, va_list ap);
int __vfprintf_chk(FILE_ *f, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return vfprintf(f, fmt, ap);
}

int __fprintf_chk(FILE_ *f, int flag, const char *fmt, ...);
int __fprintf_chk(FILE_ *f, int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    (void)flag;
    return n;
}

int __printf_chk(int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    (void)flag;
    return n;
}

/* glibc checks that the target frame is above the current one; musl's longjmp restores it. */
__attribute__((noreturn)) void __longjmp_chk(jmp_buf_ env, int val);
__attribute__((noreturn)) void __longjmp_chk(jmp_buf_ env, int val)
{
    longjmp(env, val);
}

__attribute__((noreturn)) void __assert_fail(const char *expr, const char *file, unsigned line,
                                             const char *fn);
__attribute__((noreturn)) void __assert_fail(const char *expr, const char *file, unsigned line,
                                             const char *fn)
{
    glint_guest_abort(-6, "%s:%u: %s: assertion '%s' failed", file, line, fn, expr);
}
