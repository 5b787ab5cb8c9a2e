/* glint serve's access log: one logfmt line per request on stderr, written with one write(2). */
#ifndef GLINT_SERVE_ACCESSLOG_H
#define GLINT_SERVE_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

struct serve_access {
    const char *remote;        /* "127.0.0.1:5555" */
    const char *method, *path; /* client-controlled: escaped */
    unsigned status;
    const char *function; /* served function, or NULL */
    const char *kind;     /* error kind, or NULL */
    uint64_t bytes_in, bytes_out, us;
};

/* Format one line into buf (NUL-terminated, ends with '\n'; cut to size): ts=RFC 3339 UTC
 * with milliseconds, then remote, method, path, status, function, kind, in, out, us. Values with
 * spaces, quotes or bytes outside printable ASCII are quoted, such bytes written as \xNN.
 * Returns the length. */
size_t serve_access_format(const struct serve_access *a, char *buf, size_t size);

/* Format and write the line to stderr. */
void serve_access_log(const struct serve_access *a);

#endif
