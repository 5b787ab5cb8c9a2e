/* glint serve's access log: one logfmt line per request on stderr, client text escaped. */
#include "accesslog.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct line {
    char *p;
    size_t len, size;
};

static void add(struct line *l, const char *s, size_t n)
{
    for (size_t i = 0; i < n && l->len + 1 < l->size; i++)
        l->p[l->len++] = s[i];
    l->p[l->len] = 0;
}

/* key=value, quoting and escaping client-controlled text. */
static void field(struct line *l, const char *key, const char *v)
{
    if (!v)
        v = "-";
    add(l, " ", 1);
    add(l, key, strlen(key));
    add(l, "=", 1);
    bool quote = *v == 0;
    for (const char *c = v; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= ' ' || u >= 0x7f || u == '"' || u == '\\' || u == '=')
            quote = true;
    }
    if (!quote) {
        add(l, v, strlen(v));
        return;
    }
    add(l, "\"", 1);
    for (const char *c = v; *c; c++) {
        unsigned char u = (unsigned char)*c;
        char esc[5];
        if (u < ' ' || u >= 0x7f || u == '"' || u == '\\') {
            snprintf(esc, sizeof esc, "\\x%02x", u);
            add(l, esc, 4);
        } else {
            add(l, c, 1);
        }
    }
    add(l, "\"", 1);
}

size_t serve_access_format(const struct serve_access *a, char *buf, size_t size)
{
    struct line l = {buf, 0, size};
    buf[0] = 0;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char t[64], num[32];
    snprintf(t, sizeof t, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    add(&l, t, strlen(t));
    field(&l, "remote", a->remote);
    field(&l, "method", a->method);
    field(&l, "path", a->path);
    snprintf(num, sizeof num, "%u", a->status);
    field(&l, "status", num);
    field(&l, "function", a->function);
    field(&l, "kind", a->kind);
    snprintf(num, sizeof num, "%" PRIu64, a->bytes_in);
    field(&l, "in", num);
    snprintf(num, sizeof num, "%" PRIu64, a->bytes_out);
    field(&l, "out", num);
    snprintf(num, sizeof num, "%" PRIu64, a->us);
    field(&l, "us", num);
    if (l.len + 1 >= size && size > 1)
        l.len = size - 2;
    buf[l.len++] = '\n';
    buf[l.len] = 0;
    return l.len;
}

void serve_access_log(const struct serve_access *a)
{
    char buf[1024];
    size_t n = serve_access_format(a, buf, sizeof buf);
    /* One write: lines from concurrent requests never interleave. */
    ssize_t w = write(STDERR_FILENO, buf, n);
    (void)w;
}
