/* A stand-in glint worker for the gateway and `glint call --nats` tests: answers per the wire
 * format. */
/*
 * Usage: responder URL [--jetstream] [--name FN]
 * Serves FN (default echo) on glint.fn.FN in queue group glint-workers and, with --jetstream,
 * takes jobs of stream GLINT (created if missing, subjects glint.jobs.>, work queue) through
 * the durable pull consumer glint-workers. What it answers depends on the first argument:
 *   "error"       422 {"error":{"kind":"guest_error",...}}
 *   "overloaded"  429 {"error":{"kind":"overloaded",...}}
 *   "silent"      no answer at all (the caller times out; a job is still acked)
 *   "bad"         a reply that is not the wire format's JSON
 *   "dup"         JetStream: a result {"result":"stale"} for another job id first, then the
 *                 right one twice
 *   anything else 200 {"result": <the first argument>} (null for an empty array)
 * Prints "ready" on stdout once subscribed; exits 0 on SIGTERM/SIGINT. Counts on stderr.
 */
#include <jansson.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static const char *mode_of(const char *data, int len, json_t **first)
{
    json_error_t je;
    json_t *root = json_loadb(data, (size_t)len, 0, &je);
    json_t *a0 = json_is_array(root) ? json_array_get(root, 0) : NULL;
    *first = a0 ? json_incref(a0) : json_null();
    json_decref(root);
    const char *s = json_string_value(*first);
    if (s && (!strcmp(s, "error") || !strcmp(s, "overloaded") || !strcmp(s, "silent") ||
              !strcmp(s, "bad") || !strcmp(s, "dup")))
        return s;
    return "echo";
}

/* Publish one answer on subject (with Glint-Job = job when job is set). */
static void answer(natsConnection *nc, const char *subject, const char *job, const char *mode,
                   json_t *first)
{
    char *body;
    const char *status = "200";
    if (!strcmp(mode, "error")) {
        body = strdup("{\"error\":{\"kind\":\"guest_error\",\"message\":\"asked to fail\"}}");
        status = "422";
    } else if (!strcmp(mode, "overloaded")) {
        body = strdup("{\"error\":{\"kind\":\"overloaded\",\"message\":\"every sandbox is "
                      "busy\"}}");
        status = "429";
    } else if (!strcmp(mode, "bad")) {
        body = strdup("{\"result\": truncated");
    } else {
        json_t *o = json_pack("{sO}", "result", first);
        body = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(o);
    }
    natsMsg *m = NULL;
    if (body && natsMsg_Create(&m, subject, NULL, body, (int)strlen(body)) == NATS_OK) {
        natsMsgHeader_Set(m, "Glint-Status", status);
        if (job)
            natsMsgHeader_Set(m, "Glint-Job", job);
        natsConnection_PublishMsg(nc, m);
    }
    natsMsg_Destroy(m);
    free(body);
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    (void)closure;
    json_t *first;
    const char *mode = mode_of(natsMsg_GetData(msg), natsMsg_GetDataLength(msg), &first);
    fprintf(stderr, "responder: core request (%s)\n", mode);
    if (strcmp(mode, "silent") != 0 && natsMsg_GetReply(msg))
        answer(nc, natsMsg_GetReply(msg), NULL, mode, first);
    json_decref(first);
    natsMsg_Destroy(msg);
}

static void on_job(natsConnection *nc, natsMsg *msg)
{
    const char *reply = NULL, *id = NULL;
    natsMsgHeader_Get(msg, "Glint-Reply", &reply);
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    json_t *first;
    const char *mode = mode_of(natsMsg_GetData(msg), natsMsg_GetDataLength(msg), &first);
    fprintf(stderr, "responder: job %s (%s)\n", id ? id : "-", mode);
    if (reply && id && strcmp(mode, "silent") != 0) {
        if (!strcmp(mode, "dup")) {
            json_t *stale = json_string("stale");
            answer(nc, reply, "another-job", "echo", stale);
            json_decref(stale);
            answer(nc, reply, id, "echo", first);
        }
        answer(nc, reply, id, mode, first);
    }
    natsMsg_Ack(msg, NULL);
    json_decref(first);
    natsMsg_Destroy(msg);
}

static int setup_jetstream(natsConnection *nc, jsCtx **js, natsSubscription **pull)
{
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char *subjects[] = {"glint.jobs.>"};
    sc.Name = "GLINT";
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Retention = js_WorkQueuePolicy;
    sc.Storage = js_MemoryStorage;
    jsErrCode jerr = 0;
    natsStatus s = natsConnection_JetStream(js, nc, NULL);
    if (s == NATS_OK) {
        s = js_AddStream(NULL, *js, &sc, NULL, &jerr);
        if (s != NATS_OK && jerr == JSStreamNameExistErr)
            s = NATS_OK;
    }
    if (s == NATS_OK) {
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = "GLINT";
        so.Config.AckPolicy = js_AckExplicit;
        s = js_PullSubscribe(pull, *js, "glint.jobs.>", "glint-workers", NULL, &so, &jerr);
    }
    if (s != NATS_OK)
        fprintf(stderr, "responder: JetStream: %s (%d)\n", natsStatus_GetText(s), (int)jerr);
    return s == NATS_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *name = "echo";
    int jetstream = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--jetstream"))
            jetstream = 1;
        else if (!strcmp(argv[i], "--name") && i + 1 < argc)
            name = argv[++i];
        else
            url = argv[i];
    }
    if (!url) {
        fprintf(stderr, "usage: responder URL [--jetstream] [--name FN]\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL, *pull = NULL;
    jsCtx *js = NULL;
    char subject[128];
    snprintf(subject, sizeof subject, "glint.fn.%s", name);
    natsOptions *opts = NULL;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(opts, url);
    if (s == NATS_OK) /* back quickly after a server restart */
        s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 100);
    if (s == NATS_OK) /* replies go out at once, not with the flusher's next round (~1 ms) */
        s = natsOptions_SetSendAsap(opts, true);
    if (s == NATS_OK)
        s = natsConnection_Connect(&nc, opts);
    if (s == NATS_OK)
        s = natsConnection_QueueSubscribe(&sub, nc, subject, "glint-workers", on_request, NULL);
    if (s == NATS_OK)
        s = natsConnection_Flush(nc);
    if (s != NATS_OK) {
        fprintf(stderr, "responder: %s: %s\n", url, natsStatus_GetText(s));
        return 1;
    }
    if (jetstream && setup_jetstream(nc, &js, &pull) != 0)
        return 1;
    printf("ready\n");
    fflush(stdout);
    while (!stop) {
        if (!pull) {
            nats_Sleep(50);
            continue;
        }
        natsMsgList list = {0};
        if (natsSubscription_Fetch(&list, pull, 1, 200, NULL) == NATS_OK) {
            for (int i = 0; i < list.Count; i++) {
                on_job(nc, list.Msgs[i]);
                list.Msgs[i] = NULL;
            }
        }
        natsMsgList_Destroy(&list);
    }
    natsSubscription_Destroy(pull);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
    nats_Close();
    return 0;
}
