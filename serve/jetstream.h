/* glint serve's JetStream jobs (docs/nats.md): stream and durable pull consumer set up if
 * missing, jobs fetched within the worker's capacity, result published, then acked. */
#ifndef GLINT_SERVE_JETSTREAM_H
#define GLINT_SERVE_JETSTREAM_H

#include <stddef.h>

#include "nats_worker.h"

#define JS_SUBJECTS "glint.jobs.>"

/* Create w's stream and consumer if missing (cfg->nats: names, ack wait; max_ack_pending the
 * worker's capacity), bind a pull subscription and start fetching jobs into w->dispatch.
 * Returns 0 or -1 with a message in err. */
int js_consumer_start(struct nats_worker *w, char *err, size_t errsize);

/* Stop fetching and join the fetch thread (jobs already fetched still run). NULL ok. */
void js_consumer_stop(struct js_consumer *j);

/* Free the subscription and context. Call after the jobs in flight are done. NULL ok. */
void js_consumer_destroy(struct js_consumer *j);

/* A job (run on a request thread): call its function, publish the result to its Glint-Reply
 * subject, then ack it (or hand it back with a nak when the pool was busy or shutting down).
 * Takes msg. */
void js_job_run(struct nats_worker *w, struct serve_fn *fn, natsMsg *msg);

#endif
