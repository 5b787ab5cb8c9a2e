/* The caller's side of glint's NATS wire format: one call to the workers, core or JetStream. */
#include "nats_client.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "glint.h"
#include "json.h"

natsStatus nats_set_servers(natsOptions *opts, const char *urls)
{
    char copy[NATS_URLS_MAX * 520];
    const char *servers[NATS_URLS_MAX];
    int n = 0;
    if (strlen(urls) >= sizeof copy)
        return NATS_INVALID_ARG;
    snprintf(copy, sizeof copy, "%s", urls);
    for (char *save = NULL, *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
        if (n == NATS_URLS_MAX)
            return NATS_INVALID_ARG;
        servers[n++] = u;
    }
    return natsOptions_SetServers(opts, servers, n); /* copies them */
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take a worker's reply m as *r, or a 502 if it is not what the wire format says. */
static void take_reply(natsMsg *m, struct serve_reply *r)
{
    const char *data = natsMsg_GetData(m);
    size_t len = (size_t)natsMsg_GetDataLength(m);
    json_error_t je;
    json_t *root = data && sj_depth_ok(data, len, SJ_MAX_DEPTH + 2)
                       ? json_loadb(data, len, JSON_REJECT_DUPLICATES, &je)
                       : NULL;
    json_t *err = root ? json_object_get(root, "error") : NULL;
    json_t *kind = err ? json_object_get(err, "kind") : NULL;
    json_t *msg = err ? json_object_get(err, "message") : NULL;
    bool result = root && json_is_object(root) && json_object_size(root) == 1 &&
                  json_object_get(root, "result");
    bool error = root && json_is_object(root) && json_object_size(root) == 1 &&
                 json_is_object(err) && json_is_string(kind) && json_is_string(msg);
    if (!result && !error) {
        json_decref(root);
        serve_reply_error(r, 502, "bad_reply",
                          "a worker's reply is not {\"result\": ...} or {\"error\": {\"kind\", "
                          "\"message\"}} (%zu bytes)",
                          len);
        return;
    }
    /* Without a Glint-Status header: 200 for a result, else the status of the kind. */
    const char *kind_name = NULL;
    unsigned by_kind = result ? 200 : nats_kind_status(json_string_value(kind), &kind_name);
    unsigned status = by_kind ? by_kind : 500;
    const char *st = NULL;
    if (natsMsgHeader_Get(m, NATS_HDR_STATUS, &st) == NATS_OK && st) {
        char *end;
        unsigned long v = strtoul(st, &end, 10);
        if (*end || end - st != 3 || v < 200 || v > 599 || (result != (v == 200))) {
            json_decref(root);
            serve_reply_error(r, 502, "bad_reply",
                              "a worker's reply has " NATS_HDR_STATUS " '%.8s', which does not "
                              "fit its body",
                              st);
            return;
        }
        status = (unsigned)v;
    }
    free(r->body);
    r->body = malloc(len + 1);
    if (r->body) {
        memcpy(r->body, data, len);
        r->body[len] = 0;
    }
    r->len = len;
    r->status = status;
    r->kind = kind_name;
    r->retry_after_s = status == 429 ? 1 : 0;
    json_decref(root);
}

/* The reply for a NATS failure s while calling name. */
static void nats_failed(natsStatus s, const char *name, bool jetstream, uint32_t timeout_ms,
                        struct serve_reply *r)
{
    if (s == NATS_NO_RESPONDERS && jetstream)
        serve_reply_error(r, 503, "no_workers",
                          "no JetStream stream takes " NATS_JOBS_PREFIX "%s (is a worker "
                          "running with --jetstream?)",
                          name);
    else if (s == NATS_NO_RESPONDERS)
        serve_reply_error(r, 503, "no_workers",
                          "no worker serves '%s' (no responders on " NATS_FN_PREFIX "%s)", name,
                          name);
    else if (s == NATS_MAX_PAYLOAD)
        serve_reply_error(r, 413, "body_too_large",
                          "the arguments are over the NATS server's max_payload");
    else if (s == NATS_TIMEOUT)
        serve_reply_error(r, 504, "timeout", "no answer from a worker within %u ms", timeout_ms);
    else if (s == NATS_CONNECTION_CLOSED || s == NATS_CONNECTION_DISCONNECTED ||
             s == NATS_NOT_YET_CONNECTED || s == NATS_NO_SERVER)
        serve_reply_error(r, 503, "unavailable", "not connected to NATS (%s)",
                          natsStatus_GetText(s));
    else
        serve_reply_error(r, 502, "nats", "NATS failed: %s", natsStatus_GetText(s));
}

static void core_call(natsConnection *nc, const char *subject, const char *name, const char *args,
                      size_t len, uint32_t timeout_ms, struct serve_reply *r)
{
    natsMsg *req = NULL, *reply = NULL;
    natsStatus s = natsMsg_Create(&req, subject, NULL, args, (int)len);
    if (s == NATS_OK)
        s = natsConnection_RequestMsg(&reply, nc, req, timeout_ms);
    if (s == NATS_OK)
        take_reply(reply, r);
    else
        nats_failed(s, name, false, timeout_ms, r);
    natsMsg_Destroy(reply);
    natsMsg_Destroy(req);
}

/* A fresh job id: 128 random bits in hex. */
static int job_id(char out[33])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

static void jetstream_call(natsConnection *nc, jsCtx *js, const char *subject, const char *name,
                           const char *args, size_t len, uint32_t timeout_ms, struct serve_reply *r,
                           struct nats_call_stats *st)
{
    int64_t deadline = now_ms() + timeout_ms;
    char id[33];
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    natsMsg *job = NULL;
    if (job_id(id) != 0) {
        serve_reply_error(r, 500, "internal", "no random bytes for a job id");
        return;
    }
    /* The result inbox is subscribed before the job is published (one connection keeps the
     * order), so no result can come before anyone listens. */
    natsStatus s = natsInbox_Create(&inbox);
    if (s == NATS_OK)
        s = natsConnection_SubscribeSync(&sub, nc, inbox);
    if (s == NATS_OK)
        s = natsMsg_Create(&job, subject, NULL, args, (int)len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(job, NATS_HDR_REPLY, inbox);
    if (s == NATS_OK) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = id; /* sets Nats-Msg-Id */
        po.MaxWait = timeout_ms ? timeout_ms : 1;
        jsErrCode jerr = 0;
        s = js_PublishMsg(NULL, js, job, &po, &jerr);
    }
    while (s == NATS_OK) {
        int64_t left = deadline - now_ms();
        natsMsg *m = NULL;
        s = left > 0 ? natsSubscription_NextMsg(&m, sub, left) : NATS_TIMEOUT;
        if (s != NATS_OK)
            break;
        const char *of = NULL;
        if (natsMsgHeader_Get(m, NATS_HDR_JOB, &of) == NATS_OK && of && !strcmp(of, id)) {
            take_reply(m, r);
            natsMsg_Destroy(m);
            break;
        }
        st->ignored++; /* not this job's result */
        natsMsg_Destroy(m);
    }
    if (s != NATS_OK)
        nats_failed(s, name, true, timeout_ms, r);
    /* Unsubscribed: a repeated result (a redelivered job) is dropped by the server. */
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsMsg_Destroy(job);
    natsInbox_Destroy(inbox);
}

void nats_call(natsConnection *nc, jsCtx *js, const char *name, const char *args, size_t len,
               uint32_t timeout_ms, struct serve_reply *r, struct nats_call_stats *st)
{
    memset(r, 0, sizeof *r);
    memset(st, 0, sizeof *st);
    char subject[NATS_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "%s%s", js ? NATS_JOBS_PREFIX : NATS_FN_PREFIX, name);
    if (js)
        jetstream_call(nc, js, subject, name, args, len, timeout_ms, r, st);
    else
        core_call(nc, subject, name, args, len, timeout_ms, r);
}
