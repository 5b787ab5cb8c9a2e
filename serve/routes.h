/* glint serve's HTTP API: routing, request bodies, responses, per-request accounting. */
#ifndef GLINT_SERVE_ROUTES_H
#define GLINT_SERVE_ROUTES_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "conns.h"
#include "forward.h"
#include "functions.h"

/* What the routes share (the cls of both callbacks). */
struct serve_server {
    struct serve_table *table;     /* a gateway's (forward set) has no functions */
    struct serve_forward *forward; /* --forward: calls go to NATS workers (serve/forward.h) */
    const struct serve_config *cfg;
    struct serve_conns *conns;
    atomic_bool draining; /* SIGTERM/SIGINT seen: new requests get 503, /readyz fails */
    atomic_uint active;   /* requests between their headers and their completion */
};

/*
 * The MHD access handler:
 *   POST /v1/functions/{name}  JSON array of arguments -> {"result": v} or {"error": ...}
 *   GET  /v1/functions         the served functions and their signatures
 *   GET  /healthz, /readyz     liveness; readiness (every pool has a sandbox, not draining)
 *   GET  /metrics              Prometheus text
 * Bodies over cfg->max_body get a 413 (at once when Content-Length says so).
 */
enum MHD_Result serve_route(void *cls, struct MHD_Connection *c, const char *url,
                            const char *method, const char *version, const char *upload_data,
                            size_t *upload_data_size, void **req_cls);

/* The MHD_OPTION_NOTIFY_COMPLETED callback: metrics, access log, cleanup. */
void serve_route_done(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe);

#endif
