/* glint serve's function table: each served name with its image, pool, signature and counters. */
#ifndef GLINT_SERVE_FUNCTIONS_H
#define GLINT_SERVE_FUNCTIONS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "glint.h"
#include "metrics.h"

/* One image and its pool, shared by the functions served from it. */
struct serve_pool {
    glint_image *img;
    glint_pool *pool;
    uint32_t size;        /* sandboxes */
    uint32_t limit;       /* requests admitted at once (size + queue); more get a 429 */
    atomic_uint admitted; /* requests admitted now (in a call or waiting for a sandbox) */
    atomic_uint busy;     /* requests in glint_pool_call now */
};

struct serve_fn {
    char name[GLINT_NAME_MAX + 1]; /* served name: /v1/functions/{name} */
    struct serve_pool *pool;
    const char *export_name;  /* export called (points into the image's exports) */
    glint_function_info info; /* its signature */
    char *handler;            /* handler mode: Call(handler, json_args); else NULL */
    struct serve_metrics metrics;
};

/* How a request reached the server (glint_transport_requests_total). */
enum serve_transport { SERVE_VIA_HTTP, SERVE_VIA_NATS, SERVE_VIA_JETSTREAM, SERVE_NTRANSPORTS };

struct serve_table {
    struct serve_fn *fns;
    size_t nfns;
    struct serve_pool *pools;
    size_t npools;
    struct serve_metrics unrouted;                 /* requests that named no served function */
    atomic_ullong by_transport[SERVE_NTRANSPORTS]; /* requests answered, by transport */
    /* More /metrics families (the NATS worker's), appended by serve_table_metrics: malloc'd
     * text, NULL if out of memory. NULL: none. */
    char *(*more_metrics)(void *ctx, size_t *len);
    void *more_metrics_ctx;
    /* Whether that transport is ready too (the NATS worker: connected), for /readyz; NULL:
     * nothing more to check. Called with more_metrics_ctx. */
    bool (*more_ready)(void *ctx);
};

/* Load every function of c: images (with --load scripts run and derived), pools, the table.
 * Pools are sized to the CPUs where the config says 0. Returns 0, or -1 with a message in err
 * (naming the function and file); *out is then NULL. */
int serve_table_load(const struct serve_config *c, struct serve_table **out, char *err,
                     size_t errsize);

/* The function served as name (len bytes, not NUL-terminated), or NULL. */
struct serve_fn *serve_table_find(struct serve_table *t, const char *name, size_t len);

/* GET /v1/functions: {"functions":[{"name","params","result"} or {"name","handler"}]}
 * (malloc'd; length in *len); NULL if out of memory. */
char *serve_table_list(const struct serve_table *t, size_t *len);

/* /metrics text for every function (malloc'd); NULL if out of memory. */
char *serve_table_metrics(struct serve_table *t, size_t *len);

/* Destroy pools and images. No call may be running. NULL ok. */
void serve_table_destroy(struct serve_table *t);

#endif
