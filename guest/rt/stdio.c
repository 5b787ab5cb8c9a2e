/* libglint-rt: a glibc-shaped minimal stdio: stdout/stderr go to the host's print by line, files
 * cannot be opened. */
#include <glint/guest.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "glint_rt.h"
#include "rt.h"

/*
 * Code compiled against glibc's <stdio.h> expands getc_unlocked/putc_unlocked inline: it reads
 * _IO_read_ptr/_IO_read_end (and the write pair) at glibc's offsets and calls __uflow or
 * __overflow when they are equal. Here they are always NULL, so every access takes the slow
 * path into this file. The rest of the struct is this layer's own.
 */
typedef struct rt_file {
    int glibc_flags;                       /* glibc _flags (unused, 0) */
    char *read_ptr, *read_end, *read_base; /* glibc's read pointers: always NULL */
    char *write_base, *write_ptr, *write_end;
    char glibc_rest[216 - 56]; /* the remainder of glibc's struct _IO_FILE */
    int kind;                  /* OUT_STREAM, IN_STREAM */
    int eof, error;
} FILE_;

enum { IN_STREAM, OUT_STREAM };
#define EOF_ (-1)

static FILE_ files[3] = {{.kind = IN_STREAM}, {.kind = OUT_STREAM}, {.kind = OUT_STREAM}};
FILE_ *stdin = &files[0];
FILE_ *stdout = &files[1];
FILE_ *stderr = &files[2];

/* One line buffer for both output streams (the host's print has no streams). */
static char line[4096];
static size_t used;

static void send(void)
{
    if (used)
        glint_guest_print("%.*s", (int)used, line);
    used = 0;
}

void glint_rt_flush(void)
{
    send();
}

void glint_rt_discard(void)
{
    used = 0;
}

static size_t out(FILE_ *f, const char *p, size_t n)
{
    if (!f || f->kind != OUT_STREAM) {
        if (f)
            f->error = 1;
        rt_errno = RT_EBADF;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i] ? p[i] : '?'; /* print takes NUL-terminated text */
        line[used++] = c;
        if (c == '\n' || used == sizeof line)
            send();
    }
    return n;
}

/* ---- output -------------------------------------------------------------------------------- */

size_t fwrite(const void *p, size_t size, size_t n, FILE_ *f);
size_t fwrite(const void *p, size_t size, size_t n, FILE_ *f)
{
    if (size == 0 || n == 0)
        return 0;
    return out(f, p, size * n) / size;
}

int fputs(const char *s, FILE_ *f);
int fputs(const char *s, FILE_ *f)
{
    size_t n = strlen(s);
    return out(f, s, n) == n ? 1 : EOF_;
}

int fputc(int c, FILE_ *f);
int fputc(int c, FILE_ *f)
{
    char ch = (char)c;
    return out(f, &ch, 1) == 1 ? (unsigned char)c : EOF_;
}
int putc(int c, FILE_ *f);
int putc(int c, FILE_ *f)
{
    return fputc(c, f);
}
int __overflow(FILE_ *f, int c);
int __overflow(FILE_ *f, int c)
{
    return c == EOF_ ? 0 : fputc(c, f);
}
int puts(const char *s);
int puts(const char *s)
{
    return fputs(s, stdout) == EOF_ || fputc('\n', stdout) == EOF_ ? EOF_ : 1;
}

int vfprintf(FILE_ *f, const char *fmt, va_list ap);
int vfprintf(FILE_ *f, const char *fmt, va_list ap)
{
    char buf[1024];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return n;
    }
    if ((size_t)n < sizeof buf) {
        va_end(ap2);
        return out(f, buf, (size_t)n) == (size_t)n ? n : -1;
    }
    /* Longer than the stack buffer: format again, in pieces is not possible; cut it. */
    va_end(ap2);
    out(f, buf, sizeof buf - 1);
    return n;
}
int fprintf(FILE_ *f, const char *fmt, ...);
int fprintf(FILE_ *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}
int printf(const char *fmt, ...);
int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}

int fflush(FILE_ *f);
int fflush(FILE_ *f)
{
    if (!f || f->kind == OUT_STREAM)
        send();
    return 0;
}

int setvbuf(FILE_ *f, char *buf, int mode, size_t size);
int setvbuf(FILE_ *f, char *buf, int mode, size_t size)
{
    (void)f, (void)buf, (void)mode, (void)size;
    return 0; /* output is always line-buffered to print */
}

/* ---- input: stdin is empty ------------------------------------------------------------------ */

int __uflow(FILE_ *f);
int __uflow(FILE_ *f)
{
    if (f)
        f->eof = 1;
    return EOF_;
}
int getc(FILE_ *f);
int getc(FILE_ *f)
{
    return __uflow(f);
}
int fgetc(FILE_ *f);
int fgetc(FILE_ *f)
{
    return __uflow(f);
}
int ungetc(int c, FILE_ *f);
int ungetc(int c, FILE_ *f)
{
    (void)c, (void)f;
    return EOF_;
}
char *fgets(char *s, int n, FILE_ *f);
char *fgets(char *s, int n, FILE_ *f)
{
    (void)s, (void)n;
    __uflow(f);
    return NULL;
}
size_t fread(void *p, size_t size, size_t n, FILE_ *f);
size_t fread(void *p, size_t size, size_t n, FILE_ *f)
{
    (void)p, (void)size, (void)n;
    if (f && f->kind == OUT_STREAM) {
        f->error = 1;
        rt_errno = RT_EBADF;
    } else
        __uflow(f);
    return 0;
}

/* ---- state ---------------------------------------------------------------------------------- */

int feof(FILE_ *f);
int feof(FILE_ *f)
{
    return f->eof;
}
int ferror(FILE_ *f);
int ferror(FILE_ *f)
{
    return f->error;
}
void clearerr(FILE_ *f);
void clearerr(FILE_ *f)
{
    f->eof = f->error = 0;
}
void flockfile(FILE_ *f);
void flockfile(FILE_ *f)
{
    (void)f; /* one thread */
}
void funlockfile(FILE_ *f);
void funlockfile(FILE_ *f)
{
    (void)f;
}

/* ---- files: none can be opened -------------------------------------------------------------- */

/* "r" modes: the file does not exist for the guest; writing: not allowed. */
static FILE_ *no_file(const char *mode)
{
    rt_errno = mode && mode[0] == 'r' && !strchr(mode, '+') ? RT_ENOENT : RT_EACCES;
    return NULL;
}
FILE_ *fopen(const char *path, const char *mode);
FILE_ *fopen(const char *path, const char *mode)
{
    (void)path;
    return no_file(mode);
}
FILE_ *fopen64(const char *path, const char *mode);
FILE_ *fopen64(const char *path, const char *mode)
{
    (void)path;
    return no_file(mode);
}
FILE_ *freopen64(const char *path, const char *mode, FILE_ *f);
FILE_ *freopen64(const char *path, const char *mode, FILE_ *f)
{
    (void)path, (void)f;
    return no_file(mode);
}
FILE_ *tmpfile64(void);
FILE_ *tmpfile64(void)
{
    rt_errno = RT_EACCES;
    return NULL;
}
int fclose(FILE_ *f);
int fclose(FILE_ *f)
{
    fflush(f);
    return 0; /* the three standard streams stay usable */
}
int fseeko64(FILE_ *f, long long off, int whence);
int fseeko64(FILE_ *f, long long off, int whence)
{
    (void)f, (void)off, (void)whence;
    rt_errno = RT_ESPIPE;
    return -1;
}
int fseek(FILE_ *f, long off, int whence);
int fseek(FILE_ *f, long off, int whence)
{
    return fseeko64(f, off, whence);
}
long long ftello64(FILE_ *f);
long long ftello64(FILE_ *f)
{
    (void)f;
    rt_errno = RT_ESPIPE;
    return -1;
}
long ftell(FILE_ *f);
long ftell(FILE_ *f)
{
    return (long)ftello64(f);
}
