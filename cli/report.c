/* Output of the glint command-line tool: one-line error reports, results, exit statuses. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "escape.h"

/* Length of the UTF-8 sequence starting at s[0] (at most avail bytes), or 1 if it
 * is not a well-formed lead byte followed by continuation bytes. */
static size_t utf8_unit(const unsigned char *s, size_t avail)
{
    size_t n = 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    if (n > avail)
        return 1;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 1;
    }
    return n;
}

/* True if the unit breaks or controls lines: C0/C1 controls, DEL, U+2028, U+2029, and
 * bytes that are not UTF-8 (a raw 0x9b is an 8-bit CSI to some terminals). */
static bool is_line_control(const unsigned char *s, size_t n)
{
    if (n == 1)
        return s[0] < 0x20 || s[0] >= 0x7f;
    if (n == 2)
        return s[0] == 0xc2 && s[1] < 0xa0;
    return n == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9);
}

/* Copy src to dst as one line of at most max bytes (dst holds max + 4), replacing
 * control characters with spaces and cutting at a character boundary with "...". */
static void one_line(const char *src, char *dst, size_t max)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t len = strlen(src), i = 0, o = 0;
    while (i < len) {
        size_t n = utf8_unit(s + i, len - i);
        bool ctl = is_line_control(s + i, n);
        size_t need = ctl ? 1 : n;
        if (o + need > max) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (ctl)
            dst[o++] = ' ';
        else
            memcpy(dst + o, s + i, n), o += n;
        i += n;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    dst[o] = 0;
}

void cli_error(const char *fmt, ...)
{
    char raw[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(raw, sizeof raw, "error (message could not be formatted)");
    char line[CLI_ERROR_MAX + 4];
    one_line(raw, line, CLI_ERROR_MAX);
    fflush(stdout); /* keep any output that came first in order */
    fprintf(stderr, "glint: %s\n", line);
    fflush(stderr);
}

const char *cli_quote(const char *s, char *buf, size_t size)
{
    size_t len = strlen(s);
    if (size < 4) {
        if (size > 0)
            buf[0] = 0;
        return buf;
    }
    if (len < size) {
        memcpy(buf, s, len + 1);
        return buf;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    while (o < len) {
        size_t n = utf8_unit(u + o, len - o);
        if (o + n > size - 4)
            break;
        o += n;
    }
    memcpy(buf, s, o);
    memcpy(buf + o, "...", 4);
    return buf;
}

const char *cli_size_text(uint64_t v, char *buf, size_t size)
{
    if (v != 0 && v % (UINT64_C(1) << 30) == 0)
        snprintf(buf, size, "%" PRIu64 "G", v >> 30);
    else if (v != 0 && v % (UINT64_C(1) << 20) == 0)
        snprintf(buf, size, "%" PRIu64 "M", v >> 20);
    else if (v != 0 && v % 1024 == 0)
        snprintf(buf, size, "%" PRIu64 "K", v >> 10);
    else
        snprintf(buf, size, "%" PRIu64, v);
    return buf;
}

int cli_print_value(const glint_value *v)
{
    int rc = 0;
    switch (v->type) {
    case GLINT_VOID:
        return 0;
    case GLINT_I32:
        rc = printf("%" PRId32, v->as.i32);
        break;
    case GLINT_U32:
        rc = printf("%" PRIu32, v->as.u32);
        break;
    case GLINT_I64:
        rc = printf("%" PRId64, v->as.i64);
        break;
    case GLINT_U64:
        rc = printf("%" PRIu64, v->as.u64);
        break;
    case GLINT_F32:
        rc = printf("%.9g", (double)v->as.f32);
        break;
    case GLINT_F64:
        rc = printf("%.17g", v->as.f64);
        break;
    case GLINT_BOOL:
        rc = fputs(v->as.b ? "true" : "false", stdout);
        break;
    case GLINT_STRING:
        if (v->as.str.len == 0)
            return 0; /* like void: nothing, not an empty line (so `Eval 'print(1)'`
                         prints what the native interpreter prints) */
        rc = cli_write_text(stdout, v->as.str.ptr, v->as.str.len, cli_stdout_escapes());
        break;
    case GLINT_BYTES: {
        const unsigned char *p = v->as.bytes.ptr;
        for (size_t i = 0; i < v->as.bytes.len && rc >= 0; i++)
            rc = printf("%02x", p[i]);
        break;
    }
    default:
        rc = fputs("?", stdout);
        break;
    }
    if (rc < 0 || putchar('\n') == EOF)
        return -1;
    return 0;
}

int cli_finish_stdout(void)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno;
        cli_error("cannot write to stdout: %s", e ? strerror(e) : "write error");
        return CLI_GUEST;
    }
    return CLI_OK;
}

static bool guest_error(int err)
{
    switch (err) {
    case GLINT_EGUEST:
    case GLINT_EABORT:
    case GLINT_EFAULT:
    case GLINT_ETIMEDOUT:
    case GLINT_EBUDGET:
    case GLINT_EPROTO:
    case GLINT_EPOISONED:
        return true;
    default:
        return false;
    }
}

int cli_load_status(int err)
{
    if (guest_error(err))
        return CLI_GUEST; /* the guest's init failed */
    if (err == GLINT_EINVAL || err == GLINT_ENOFUNC || err == GLINT_ESIG)
        return CLI_USAGE;
    return CLI_LOAD; /* EIO, EELF, EABI, ENOKVM, EHV, ENOMEM, ... */
}

int cli_call_status(int err, const glint_failure *f)
{
    if (err == GLINT_ENOFUNC || err == GLINT_ESIG || err == GLINT_EINVAL)
        return CLI_USAGE;
    if (f->kind == GLINT_FAIL_USAGE)
        return CLI_USAGE; /* e.g. arguments too big for the input buffer */
    return CLI_GUEST;
}

double cli_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void cli_report_timings(const char *func, double *us, uint32_t n)
{
    qsort(us, n, sizeof *us, cmp_double);
    fprintf(stderr,
            "glint: %u isolated calls of %s (call + restore): min %.1f us, median %.1f us, "
            "p99 %.1f us\n",
            n, func, us[0], us[n / 2], us[(size_t)((double)(n - 1) * 0.99)]);
}

void cli_report_hot_timings(const char *func, double *us, uint32_t n, const glint_hot_status *st)
{
    qsort(us, n, sizeof *us, cmp_double);
    fprintf(stderr,
            "glint: hot mode: %s alone: min %.1f us, median %.1f us, p99 %.1f us; "
            "%llu calls through the mailbox, %llu found the guest parked, %llu stalls\n",
            func, us[0], us[n / 2], us[(size_t)((double)(n - 1) * 0.99)],
            (unsigned long long)st->calls, (unsigned long long)st->wakes,
            (unsigned long long)st->stalls);
}
