/* The caller's side of glint's NATS wire format: one call to the workers, core or JetStream. */
#ifndef GLINT_SERVE_NATS_CLIENT_H
#define GLINT_SERVE_NATS_CLIENT_H

#include <nats/nats.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "invoke.h"

/*
 * The wire format (docs/nats.md), shared with the workers (glint serve --nats):
 *   core:      request/reply on glint.fn.<name> (workers in queue group glint-workers)
 *   JetStream: a job published on glint.jobs.<name> (stream GLINT) with headers Glint-Reply
 *              (the subject for the result) and Nats-Msg-Id (the job's id); the result comes
 *              on Glint-Reply with header Glint-Job = the job's id, possibly more than once.
 *   bodies:    the HTTP API's: a JSON array of arguments; {"result": v} or
 *              {"error": {"kind", "message"}}, with header Glint-Status = the HTTP status.
 */
#define NATS_FN_PREFIX   "glint.fn."
#define NATS_JOBS_PREFIX "glint.jobs."
#define NATS_QUEUE_GROUP "glint-workers"
#define NATS_HDR_STATUS  "Glint-Status"
#define NATS_HDR_REPLY   "Glint-Reply"
#define NATS_HDR_JOB     "Glint-Job"
#define NATS_HDR_MSG_ID  "Nats-Msg-Id"
#define NATS_SUBJECT_MAX 80

/* True if name[0..len) is a served function name that is also one NATS subject suffix:
 * 1..GLINT_NAME_MAX bytes of [A-Za-z0-9_.-], not starting or ending with '.', no "..". */
bool nats_name_ok(const char *name, size_t len);

/* True if url is a nats:// URL: "nats://[USER[:PASS]@]HOST[:PORT]" with a port of 1..65535 and
 * no spaces or control characters (what libnats is given; a comma-separated list is refused). */
bool nats_url_ok(const char *url);

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
