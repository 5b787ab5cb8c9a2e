/* glint's NATS wire format: subject and header names, and the checks of names and URLs. */
#ifndef GLINT_SERVE_NATS_WIRE_H
#define GLINT_SERVE_NATS_WIRE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The wire format (docs/gateway.md; the workers, glint serve --nats: docs/nats.md):
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

/* True if url is a nats:// URL, "nats://[USER[:PASS]@]HOST[:PORT]" with a port of 1..65535 and
 * no spaces or control characters, or a comma-separated list of at most NATS_URLS_MAX of them
 * (servers of one cluster, as libnats takes them). */
#define NATS_URLS_MAX 16
bool nats_url_ok(const char *url);

/* The HTTP status that goes with an error kind of the HTTP API (docs/serve.md), for a reply
 * without a Glint-Status header: bad_arguments 400, guest_error 422, timeout 504...; 0 for a
 * kind it does not know. *static_kind is set to the same kind as a static string ("other" if
 * unknown). */
unsigned nats_kind_status(const char *kind, const char **static_kind);

#endif
