/* glint serve --forward: the HTTP API as a gateway to glint workers on NATS (docs/gateway.md). */
#ifndef GLINT_SERVE_FORWARD_H
#define GLINT_SERVE_FORWARD_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "functions.h"
#include "invoke.h"
#include "metrics.h"

#define SERVE_FORWARD_DEFAULT_TIMEOUT_MS 5000u

struct serve_forward;

/* Check the gateway's settings in c (c->forward set): the URL, the --functions list (names by
 * nats_name_ok, no duplicates, at most SERVE_FUNCTIONS_MAX). Returns 0, or -1 (err set). */
int serve_forward_check(const struct serve_config *c, char *err, size_t errsize);

/* Connect to c->forward (in the background: a server that is down is retried with backoff
 * forever, as is a lost connection) and set up what the routes need, with an empty function
 * table in *table (a gateway serves none of its own; requests that name no forwarded function
 * are counted in its unrouted row; serve_table_destroy frees it). Returns 0, or -1 with a
 * message in err (out of memory, a bad option libnats refuses); both are then NULL. */
int serve_forward_open(const struct serve_config *c, struct serve_forward **out,
                       struct serve_table **table, char *err, size_t errsize);

/* Close the connection and free everything. No request may be running. NULL ok. */
void serve_forward_close(struct serve_forward *fw);

/* True while connected to a NATS server (GET /readyz). */
bool serve_forward_ready(struct serve_forward *fw);

/* The counters of the function name[0..len) if the gateway forwards it, else NULL: with
 * --functions only those names, else any name nats_name_ok accepts (the first
 * SERVE_FUNCTIONS_MAX names seen get their own counters; later ones share the row
 * function="*", which is no valid name). */
struct serve_metrics *serve_forward_find(struct serve_forward *fw, const char *name, size_t len);

/* Forward one call of name with body (checked first: a JSON array, else 400) to the workers
 * and put their answer, or the gateway's error (503 no_workers / unavailable, 504 timeout,
 * 502 bad_reply / nats), in *r. */
void serve_forward_call(struct serve_forward *fw, const char *name, const char *body, size_t len,
                        struct serve_reply *r);

/* GET /v1/functions: {"functions": [{"name": N, "forwarded": "core"|"jetstream"}...],
 * "forward_any": bool} (malloc'd; length in *len); NULL if out of memory. */
char *serve_forward_list(struct serve_forward *fw, size_t *len);

/* GET /metrics: the request counters of every function as glint serve's (with unrouted, the
 * row of requests that named none, as function="-"), and the gateway's glint_nats_connected,
 * glint_nats_reconnects_total, glint_gateway_ignored_results_total (malloc'd); NULL if out of
 * memory. */
char *serve_forward_metrics(struct serve_forward *fw, const struct serve_metrics *unrouted,
                            size_t *len);

#endif
