/* glint serve's JetStream jobs: stream and consumer setup, the fetch loop within the worker's
 * capacity, and each job's publish-then-ack. */
#include "jetstream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fetch waits this long for jobs before asking again (and before it sees a drain). */
#define FETCH_WAIT_MS 500
/* A job handed back (its pool busy, or the worker shutting down) is offered again after this. */
#define NAK_DELAY_MS 100

struct js_consumer {
    struct nats_worker *w;
    jsCtx *js;
    natsSubscription *sub;
    pthread_t fetcher;
    bool started;
    atomic_bool stop;
};

static int fail(char *err, size_t errsize, const char *what, natsStatus s, jsErrCode jerr)
{
    const char *last = nats_GetLastError(NULL);
    snprintf(err, errsize, "JetStream: %s: %s%s%s (error code %d)", what, natsStatus_GetText(s),
             last && *last ? ": " : "", last && *last ? last : "", (int)jerr);
    return -1;
}

/* The stream (work-queue retention on glint.jobs.>) and the durable pull consumer, created if
 * missing; existing ones are used as they are. */
static int ensure_stream_and_consumer(struct js_consumer *j, char *err, size_t errsize)
{
    const struct serve_nats_config *c = &j->w->cfg->nats;
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;
    natsStatus s = js_GetStreamInfo(&si, j->js, c->stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        jsStreamConfig sc;
        const char *subjects[] = {JS_SUBJECTS};
        jsStreamConfig_Init(&sc);
        sc.Name = c->stream;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Retention = js_WorkQueuePolicy;
        sc.Storage = js_FileStorage;
        jerr = 0;
        s = js_AddStream(&si, j->js, &sc, NULL, &jerr);
        if (s == NATS_OK)
            fprintf(stderr, "glint serve: created JetStream stream %s (%s, work queue)\n",
                    c->stream, JS_SUBJECTS);
    }
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        char what[200];
        snprintf(what, sizeof what, "stream %s", c->stream);
        return fail(err, errsize, what, s, jerr);
    }
    jsConsumerInfo *ci = NULL;
    jerr = 0;
    s = js_GetConsumerInfo(&ci, j->js, c->stream, c->consumer, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = c->consumer;
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait = (int64_t)c->ack_wait_ms * 1000000;
        cc.MaxAckPending = c->max_ack_pending ? c->max_ack_pending : j->w->capacity;
        jerr = 0;
        s = js_AddConsumer(&ci, j->js, c->stream, &cc, NULL, &jerr);
        if (s == NATS_OK)
            fprintf(stderr,
                    "glint serve: created JetStream consumer %s (ack wait %u ms, max ack "
                    "pending %lld)\n",
                    c->consumer, c->ack_wait_ms, (long long)cc.MaxAckPending);
    }
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
        char what[200];
        snprintf(what, sizeof what, "consumer %s of stream %s", c->consumer, c->stream);
        return fail(err, errsize, what, s, jerr);
    }
    return 0;
}

/* The function a job's subject glint.jobs.<name> names, or NULL. */
static struct serve_fn *job_function(struct nats_worker *w, natsMsg *msg)
{
    const char *subj = natsMsg_GetSubject(msg);
    size_t plen = strlen(NATS_JOBS_PREFIX);
    if (!subj || strncmp(subj, NATS_JOBS_PREFIX, plen) != 0)
        return NULL;
    return serve_table_find(w->table, subj + plen, strlen(subj + plen));
}

/* A job for no served function: answered 404 and acked (no worker of this stream can run it
 * better; a worker with other functions should use its own stream). */
static void job_not_found(struct nats_worker *w, natsMsg *msg)
{
    struct serve_reply r;
    memset(&r, 0, sizeof r);
    serve_reply_error(&r, 404, "not_found", "no function for subject %.200s",
                      natsMsg_GetSubject(msg));
    serve_metrics_request(&w->table->unrouted, 404, 0);
    atomic_fetch_add(&w->table->by_transport[SERVE_VIA_JETSTREAM], 1);
    const char *reply = NULL, *id = NULL;
    natsMsgHeader_Get(msg, NATS_REPLY_HEADER, &reply);
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    if (reply && *reply)
        nats_worker_publish(w, reply, &r, id);
    if (natsMsg_Ack(msg, NULL) == NATS_OK)
        atomic_fetch_add(&w->k.acks, 1);
    free(r.body);
    natsMsg_Destroy(msg);
}

static void *fetch_loop(void *arg)
{
    struct js_consumer *j = arg;
    struct nats_worker *w = j->w;
    while (!atomic_load(&j->stop)) {
        unsigned free_threads = nats_dispatch_free(w->dispatch);
        if (free_threads == 0) {
            nats_dispatch_wait(w->dispatch, false, 100);
            continue;
        }
        natsMsgList list = {0};
        natsStatus s =
            natsSubscription_Fetch(&list, j->sub, (int)free_threads, FETCH_WAIT_MS, NULL);
        if (s != NATS_OK && s != NATS_TIMEOUT) {
            /* Disconnected, or the consumer is gone: try again shortly. */
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        for (int i = 0; i < list.Count; i++) {
            natsMsg *msg = list.Msgs[i];
            list.Msgs[i] = NULL;
            struct serve_fn *fn = job_function(w, msg);
            if (!fn) {
                job_not_found(w, msg);
                continue;
            }
            if (!nats_worker_submit_job(w, fn, msg)) {
                /* Cannot happen (no more were fetched than threads were free), but never
                 * hold a job we cannot run: hand it back. */
                if (natsMsg_NakWithDelay(msg, NAK_DELAY_MS, NULL) == NATS_OK)
                    atomic_fetch_add(&w->k.naks, 1);
                natsMsg_Destroy(msg);
            }
        }
        natsMsgList_Destroy(&list);
    }
    return NULL;
}

int js_consumer_start(struct nats_worker *w, char *err, size_t errsize)
{
    struct js_consumer *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    j->w = w;
    w->js = j;
    const struct serve_nats_config *c = &w->cfg->nats;
    jsErrCode jerr = 0;
    natsStatus s = natsConnection_JetStream(&j->js, w->nc, NULL);
    if (s != NATS_OK)
        return fail(err, errsize, "no JetStream context", s, 0);
    if (ensure_stream_and_consumer(j, err, errsize) != 0)
        return -1;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = c->stream;
    so.Consumer = c->consumer;
    s = js_PullSubscribe(&j->sub, j->js, JS_SUBJECTS, c->consumer, NULL, &so, &jerr);
    if (s != NATS_OK)
        return fail(err, errsize, "cannot bind a pull subscription", s, jerr);
    int rc = pthread_create(&j->fetcher, NULL, fetch_loop, j);
    if (rc != 0) {
        snprintf(err, errsize, "JetStream: cannot start the fetch thread: %s", strerror(rc));
        return -1;
    }
    j->started = true;
    return 0;
}

void js_consumer_stop(struct js_consumer *j)
{
    if (!j || !j->started)
        return;
    atomic_store(&j->stop, true);
    pthread_join(j->fetcher, NULL);
    j->started = false;
}

void js_consumer_destroy(struct js_consumer *j)
{
    if (!j)
        return;
    js_consumer_stop(j);
    natsSubscription_Destroy(j->sub);
    jsCtx_Destroy(j->js);
    free(j);
}

void js_job_run(struct nats_worker *w, struct serve_fn *fn, natsMsg *msg)
{
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta->NumDelivered > 1)
        atomic_fetch_add(&w->k.redeliveries, 1);
    jsMsgMetaData_Destroy(meta);
    const char *reply = NULL, *id = NULL;
    natsMsgHeader_Get(msg, NATS_REPLY_HEADER, &reply);
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    struct serve_reply r;
    const char *data = natsMsg_GetData(msg);
    nats_worker_invoke(w, fn, data ? data : "", (size_t)natsMsg_GetDataLength(msg),
                       SERVE_VIA_JETSTREAM, &r);
    if (r.status == 429 || r.status == 503) {
        /* Not this worker's to answer now (its pool is taken by HTTP requests, or it is
         * shutting down): another worker, or this one later, takes the job. */
        if (natsMsg_NakWithDelay(msg, NAK_DELAY_MS, NULL) == NATS_OK)
            atomic_fetch_add(&w->k.naks, 1);
    } else if (!reply || !*reply) {
        atomic_fetch_add(&w->k.unanswerable, 1);
        if (natsMsg_Ack(msg, NULL) == NATS_OK)
            atomic_fetch_add(&w->k.acks, 1);
    } else if (nats_worker_publish(w, reply, &r, id) == NATS_OK) {
        /* Only once the result is out: a worker that dies before this line leaves the job
         * unacked, and JetStream redelivers it after ack_wait. */
        if (natsMsg_Ack(msg, NULL) == NATS_OK)
            atomic_fetch_add(&w->k.acks, 1);
    }
    free(r.body);
    natsMsg_Destroy(msg);
}
