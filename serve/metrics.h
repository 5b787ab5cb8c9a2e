/* glint serve's counters and their Prometheus text rendering (names prefixed glint_). */
#ifndef GLINT_SERVE_METRICS_H
#define GLINT_SERVE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "glint.h"

/* The HTTP statuses glint serve answers with, in metric order. */
#define SERVE_STATUSES(X)                                                                          \
    X(200) X(400) X(404) X(405) X(413) X(422) X(429) X(500) X(502) X(503) X(504)
enum {
#define SERVE_STATUS_SLOT(code) SERVE_STATUS_##code,
    SERVE_STATUSES(SERVE_STATUS_SLOT)
#undef SERVE_STATUS_SLOT
        SERVE_NSTATUS
};

/* Latency histogram bucket upper bounds, microseconds (then +Inf). */
#define SERVE_LATENCY_BUCKETS                                                                      \
    {                                                                                              \
        50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 250000, 1000000, 5000000        \
    }
#define SERVE_NBUCKETS 13

#define SERVE_NKINDS (GLINT_FAIL_BUDGET + 1)

/* Counters of one served function (or, for requests naming none, of the server). */
struct serve_metrics {
    atomic_ullong requests[SERVE_NSTATUS + 1]; /* last: any other status */
    atomic_ullong failures[SERVE_NKINDS];      /* by glint_failure_kind */
    atomic_ullong buckets[SERVE_NBUCKETS + 1]; /* not cumulative; last: above every bound */
    atomic_ullong latency_count, latency_sum_us;
    atomic_ullong restores; /* sandboxes restored after a call */
};

/* Count a finished request: its status and time. */
void serve_metrics_request(struct serve_metrics *m, unsigned status, uint64_t us);

/* Count a call that ran in a sandbox (restored afterwards) and its failure kind (NONE: none). */
void serve_metrics_call(struct serve_metrics *m, glint_failure_kind kind);

/* One function's counters and its pool's gauges, as rendered. */
struct serve_metrics_view {
    const char *function;
    const struct serve_metrics *m;
    int has_pool;                   /* 0 for the row of requests that named no function */
    size_t ready, busy, size, hot;  /* the pool's sandboxes (hot: running hot now) */
    uint64_t hot_calls, exit_calls; /* the pool's calls by mode (glint_pool_calls) */
};

/* The Prometheus text exposition (version 0.0.4) of n views, every family grouped
 * (malloc'd, NUL-terminated, length in *len); NULL if out of memory. */
char *serve_metrics_text(const struct serve_metrics_view *v, size_t n, size_t *len);

#endif
