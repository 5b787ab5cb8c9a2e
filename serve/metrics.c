/* glint serve's counters and their Prometheus text rendering (names prefixed glint_). */
#include "metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned status_codes[] = {
#define SERVE_STATUS_CODE(code) code,
    SERVE_STATUSES(SERVE_STATUS_CODE)
#undef SERVE_STATUS_CODE
};

static const uint64_t bounds[SERVE_NBUCKETS] = SERVE_LATENCY_BUCKETS;

void serve_metrics_request(struct serve_metrics *m, unsigned status, uint64_t us)
{
    size_t slot = SERVE_NSTATUS;
    for (size_t k = 0; k < SERVE_NSTATUS; k++) {
        if (status_codes[k] == status)
            slot = k;
    }
    atomic_fetch_add_explicit(&m->requests[slot], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < SERVE_NBUCKETS && us > bounds[b])
        b++;
    atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us, us, memory_order_relaxed);
}

void serve_metrics_call(struct serve_metrics *m, glint_failure_kind kind)
{
    atomic_fetch_add_explicit(&m->restores, 1, memory_order_relaxed);
    if (kind != GLINT_FAIL_NONE && (unsigned)kind < SERVE_NKINDS)
        atomic_fetch_add_explicit(&m->failures[kind], 1, memory_order_relaxed);
}

struct out {
    char *p;
    size_t len, cap;
    bool failed;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = true;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n + 1;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->failed = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
}

static unsigned long long get(const atomic_ullong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

/* Failure kinds as label values. */
static const char *kind_label(unsigned k)
{
    static const char *names[SERVE_NKINDS] = {
        [GLINT_FAIL_NONE] = "none",
        [GLINT_FAIL_USAGE] = "usage",
        [GLINT_FAIL_GUEST_ERROR] = "guest_error",
        [GLINT_FAIL_ABORT] = "abort",
        [GLINT_FAIL_FAULT] = "fault",
        [GLINT_FAIL_TRIPLE_FAULT] = "triple_fault",
        [GLINT_FAIL_TIMEOUT] = "timeout",
        [GLINT_FAIL_PROTOCOL] = "protocol",
        [GLINT_FAIL_HYPERVISOR] = "hypervisor",
        [GLINT_FAIL_INTERRUPTED] = "interrupted",
        [GLINT_FAIL_BUDGET] = "budget",
    };
    return k < SERVE_NKINDS && names[k] ? names[k] : "other";
}

/* Microseconds as seconds without an exponent or trailing zeros: 50 -> "0.00005". */
static void seconds(uint64_t us, char *buf, size_t size)
{
    snprintf(buf, size, "%llu.%06llu", (unsigned long long)(us / 1000000),
             (unsigned long long)(us % 1000000));
    size_t n = strlen(buf);
    while (buf[n - 1] == '0')
        buf[--n] = 0;
    if (buf[n - 1] == '.')
        buf[--n] = 0;
}

char *serve_metrics_text(const struct serve_metrics_view *v, size_t n, size_t *len)
{
    struct out o = {.cap = 4096};
    if (!(o.p = malloc(o.cap)))
        return NULL;
    o.p[0] = 0;
    /* Served names are [A-Za-z0-9_.-]: safe inside a label value as they are. */
    emit(&o, "# HELP glint_requests_total HTTP requests answered, by function and status.\n"
             "# TYPE glint_requests_total counter\n");
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k <= SERVE_NSTATUS; k++) {
            unsigned long long c = get(&v[i].m->requests[k]);
            if (c == 0 && k != SERVE_STATUS_200)
                continue; /* only the statuses seen (and 200) */
            if (k == SERVE_NSTATUS)
                emit(&o, "glint_requests_total{function=\"%s\",status=\"other\"} %llu\n",
                     v[i].function, c);
            else
                emit(&o, "glint_requests_total{function=\"%s\",status=\"%u\"} %llu\n",
                     v[i].function, status_codes[k], c);
        }
    }
    emit(&o, "# HELP glint_failures_total Guest calls that failed, by function and failure kind.\n"
             "# TYPE glint_failures_total counter\n");
    for (size_t i = 0; i < n; i++) {
        if (!v[i].has_pool)
            continue;
        for (unsigned k = 1; k < SERVE_NKINDS; k++)
            emit(&o, "glint_failures_total{function=\"%s\",kind=\"%s\"} %llu\n", v[i].function,
                 kind_label(k), get(&v[i].m->failures[k]));
    }
    emit(&o, "# HELP glint_request_duration_seconds Time from a request's headers to its "
             "response.\n# TYPE glint_request_duration_seconds histogram\n");
    for (size_t i = 0; i < n; i++) {
        unsigned long long cum = 0;
        for (size_t b = 0; b < SERVE_NBUCKETS; b++) {
            cum += get(&v[i].m->buckets[b]);
            char le[32];
            seconds(bounds[b], le, sizeof le);
            emit(&o, "glint_request_duration_seconds_bucket{function=\"%s\",le=\"%s\"} %llu\n",
                 v[i].function, le, cum);
        }
        cum += get(&v[i].m->buckets[SERVE_NBUCKETS]);
        emit(&o, "glint_request_duration_seconds_bucket{function=\"%s\",le=\"+Inf\"} %llu\n",
             v[i].function, cum);
        emit(&o, "glint_request_duration_seconds_sum{function=\"%s\"} %.6f\n", v[i].function,
             (double)get(&v[i].m->latency_sum_us) / 1e6);
        emit(&o, "glint_request_duration_seconds_count{function=\"%s\"} %llu\n", v[i].function,
             get(&v[i].m->latency_count));
    }
    emit(&o, "# HELP glint_calls_total Guest calls made by a function's pool, by mode (exit: "
             "one VM exit per call; hot: through a hot sandbox's mailbox).\n"
             "# TYPE glint_calls_total counter\n");
    for (size_t i = 0; i < n; i++) {
        if (!v[i].has_pool)
            continue;
        emit(&o, "glint_calls_total{function=\"%s\",mode=\"exit\"} %llu\n", v[i].function,
             (unsigned long long)v[i].exit_calls);
        emit(&o, "glint_calls_total{function=\"%s\",mode=\"hot\"} %llu\n", v[i].function,
             (unsigned long long)v[i].hot_calls);
    }
    emit(&o, "# HELP glint_restores_total Sandboxes restored to their image after a call.\n"
             "# TYPE glint_restores_total counter\n");
    for (size_t i = 0; i < n; i++) {
        if (v[i].has_pool)
            emit(&o, "glint_restores_total{function=\"%s\"} %llu\n", v[i].function,
                 get(&v[i].m->restores));
    }
    emit(&o, "# HELP glint_pool_sandboxes Sandboxes of a function's pool, by state (ready: "
             "idle and restored; busy: in a call; size: configured; hot: running hot).\n"
             "# TYPE glint_pool_sandboxes gauge\n");
    for (size_t i = 0; i < n; i++) {
        if (!v[i].has_pool)
            continue;
        emit(&o, "glint_pool_sandboxes{function=\"%s\",state=\"ready\"} %zu\n", v[i].function,
             v[i].ready);
        emit(&o, "glint_pool_sandboxes{function=\"%s\",state=\"busy\"} %zu\n", v[i].function,
             v[i].busy);
        emit(&o, "glint_pool_sandboxes{function=\"%s\",state=\"size\"} %zu\n", v[i].function,
             v[i].size);
        emit(&o, "glint_pool_sandboxes{function=\"%s\",state=\"hot\"} %zu\n", v[i].function,
             v[i].hot);
    }
    if (o.failed) {
        free(o.p);
        return NULL;
    }
    *len = o.len;
    return o.p;
}
