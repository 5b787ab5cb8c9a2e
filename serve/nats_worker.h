/* glint serve's NATS worker (docs/nats.md): each function on subject glint.fn.<name> in queue
 * group glint-workers (request/reply), or, with --jetstream, jobs from a JetStream work queue. */
#ifndef GLINT_SERVE_NATS_WORKER_H
#define GLINT_SERVE_NATS_WORKER_H

#include <nats/nats.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "functions.h"
#include "invoke.h"
#include "nats_dispatch.h"

#define NATS_SUBJECT_PREFIX "glint.fn."
#define NATS_QUEUE_GROUP    "glint-workers"
#define NATS_JOBS_PREFIX    "glint.jobs."
/* Headers: the HTTP-equivalent status of an answer; a job's reply subject; a result's job. */
#define NATS_STATUS_HEADER "Glint-Status"
#define NATS_REPLY_HEADER  "Glint-Reply"
#define NATS_JOB_HEADER    "Glint-Job"

struct js_consumer;

/* Counters beyond serve's (rendered by nats_worker_metrics). */
struct nats_counters {
    atomic_ullong reconnects, disconnects;  /* connection events */
    atomic_ullong overloaded;               /* requests answered "overloaded" */
    atomic_ullong publish_errors;           /* answers that could not be published */
    atomic_ullong acks, naks, redeliveries; /* JetStream: acked jobs, jobs handed back, jobs
                                               seen with NumDelivered > 1 */
    atomic_ullong unanswerable;             /* jobs without a Glint-Reply header (acked) */
};

/* One core subscription: its function. */
struct nats_sub {
    struct nats_worker *w;
    struct serve_fn *fn;
    natsSubscription *sub;
};

struct nats_worker {
    struct serve_table *table;
    const struct serve_config *cfg;
    natsConnection *nc;
    struct nats_dispatch *dispatch;
    unsigned capacity;     /* request threads: the most requests in flight at once */
    struct nats_sub *subs; /* core mode: one per function */
    size_t nsubs;
    struct js_consumer *js; /* JetStream mode */
    atomic_bool connected, draining;
    struct nats_counters k;
};

/* Connect to cfg->nats.url (reconnecting forever with backoff once connected) and serve every
 * function of t. Returns 0, or -1 with a message in err (no connection, a function name that
 * cannot be a subject token, JetStream setup refused); *out is NULL then. */
int nats_worker_start(struct serve_table *t, const struct serve_config *cfg,
                      struct nats_worker **out, char *err, size_t errsize);

/* Stop taking requests (unsubscribe, or stop fetching jobs), then wait at most ms for those in
 * flight to be answered (and acked). Returns how many are still in flight (0: drained). */
unsigned nats_worker_drain(struct nats_worker *w, uint32_t ms);

/* Requests in flight now. */
unsigned nats_worker_active(struct nats_worker *w);

/* Close the connection, stop the request threads, free w. NULL ok. */
void nats_worker_destroy(struct nats_worker *w);

/* Run fn on a request's JSON body into *r (serve_invoke), as an answer over NATS: a 429 becomes
 * kind "overloaded"; counts the request in fn's metrics and by transport. */
void nats_worker_invoke(struct nats_worker *w, struct serve_fn *fn, const char *body, size_t len,
                        enum serve_transport via, struct serve_reply *r);

/* Hand a fetched JetStream job to a request thread (js_job_run); false if none is free (the
 * caller still owns msg then). */
bool nats_worker_submit_job(struct nats_worker *w, struct serve_fn *fn, natsMsg *msg);

/* Publish answer r on subject with its Glint-Status header (and Glint-Job = job if not NULL).
 * Returns the natsStatus. */
natsStatus nats_worker_publish(struct nats_worker *w, const char *subject,
                               const struct serve_reply *r, const char *job);

#endif
