/* The caller's side of glint's NATS wire format: one call to the workers, core or JetStream. */
#ifndef GLINT_SERVE_NATS_CLIENT_H
#define GLINT_SERVE_NATS_CLIENT_H

#include <nats/nats.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "invoke.h"
#include "nats_wire.h"

/* Give opts the servers of urls (one URL or a comma-separated list, checked by nats_url_ok). */
natsStatus nats_set_servers(natsOptions *opts, const char *urls);

/* Statistics of one call. */
struct nats_call_stats {
    unsigned ignored; /* JetStream: results for other jobs or repeated ones, dropped */
};

/*
 * Call function name with args (a JSON array, len bytes) through nc, waiting at most
 * timeout_ms for the answer: core request/reply, or (js non-NULL) a JetStream job with a fresh
 * id whose first matching result is taken. On return *r holds the answer as the HTTP API gives
 * it: the worker's status and body (checked: a JSON object with "result", or "error" with a
 * string kind and message; else 502 bad_reply), or the caller's own error: 503 no_workers (no
 * responder / no stream takes the subject), 503 unavailable (not connected), 504 timeout (no
 * answer in time), 502 nats (any other NATS failure). r->kind is a static string.
 */
void nats_call(natsConnection *nc, jsCtx *js, const char *name, const char *args, size_t len,
               uint32_t timeout_ms, struct serve_reply *r, struct nats_call_stats *st);

#endif
