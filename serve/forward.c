/* glint serve --forward: the HTTP API as a gateway to glint workers on NATS (docs/gateway.md). */
#include "forward.h"

#include <jansson.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "nats_client.h"

#define RECONNECT_WAIT_MS   250
#define RECONNECT_JITTER_MS 250
#define CONNECT_TIMEOUT_MS  2000

struct forward_fn {
    char name[GLINT_NAME_MAX + 1];
    struct serve_metrics metrics;
};

struct serve_forward {
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js; /* --jetstream: calls are jobs */
    uint32_t timeout_ms;
    bool any; /* no --functions: every valid name is forwarded */
    pthread_mutex_t lock;
    struct forward_fn *fns; /* SERVE_FUNCTIONS_MAX slots (stable addresses) */
    size_t nfns;
    struct serve_metrics overflow; /* names seen after the first SERVE_FUNCTIONS_MAX */
    atomic_bool connected;
    atomic_ullong reconnects, ignored;
};

/* Walk a comma-separated list of names, checking each; add them to fw if it is non-NULL. */
static int each_name(const char *list, struct serve_forward *fw, char *err, size_t errsize)
{
    char names[SERVE_FUNCTIONS_MAX][GLINT_NAME_MAX + 1];
    size_t n = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!nats_name_ok(p, len)) {
            snprintf(err, errsize,
                     "--functions: '%.*s' is not a function name (1..%d of [A-Za-z0-9_.-], no "
                     "leading, trailing or double '.')",
                     (int)(len > 64 ? 64 : len), p, GLINT_NAME_MAX);
            return -1;
        }
        if (n == SERVE_FUNCTIONS_MAX) {
            snprintf(err, errsize, "--functions: more than %u names", SERVE_FUNCTIONS_MAX);
            return -1;
        }
        memcpy(names[n], p, len);
        names[n][len] = 0;
        for (size_t k = 0; k < n; k++) {
            if (!strcmp(names[k], names[n])) {
                snprintf(err, errsize, "--functions: '%s' given twice", names[n]);
                return -1;
            }
        }
        if (fw)
            memcpy(fw->fns[fw->nfns++].name, names[n], len + 1);
        n++;
        if (!end)
            return 0;
        p = end + 1;
    }
}

int serve_forward_check(const struct serve_config *c, char *err, size_t errsize)
{
    if (!nats_url_ok(c->forward)) {
        snprintf(err, errsize,
                 "--forward: '%.64s' is not a URL nats://HOST[:PORT] (or a list of them, with ',')",
                 c->forward);
        return -1;
    }
    return c->forward_functions ? each_name(c->forward_functions, NULL, err, errsize) : 0;
}

static void on_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct serve_forward *fw = closure;
    atomic_store(&fw->connected, true);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct serve_forward *fw = closure;
    atomic_store(&fw->connected, false);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct serve_forward *fw = closure;
    atomic_fetch_add(&fw->reconnects, 1);
    atomic_store(&fw->connected, true);
}

int serve_forward_open(const struct serve_config *c, struct serve_forward **out,
                       struct serve_table **table, char *err, size_t errsize)
{
    *out = NULL;
    *table = NULL;
    struct serve_forward *fw = calloc(1, sizeof *fw);
    if (!fw || !(fw->fns = calloc(SERVE_FUNCTIONS_MAX, sizeof *fw->fns))) {
        free(fw);
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    pthread_mutex_init(&fw->lock, NULL);
    fw->timeout_ms =
        c->forward_timeout_ms ? c->forward_timeout_ms : SERVE_FORWARD_DEFAULT_TIMEOUT_MS;
    fw->any = !c->forward_functions;
    if (c->forward_functions && each_name(c->forward_functions, fw, err, errsize) != 0) {
        serve_forward_close(fw);
        return -1;
    }
    /* Reconnect forever with a jittered wait; a server that is down at start is retried the
     * same way (the gateway starts, /readyz says 503 until it is connected). */
    natsStatus s = natsOptions_Create(&fw->opts);
    if (s == NATS_OK)
        s = nats_set_servers(fw->opts, c->forward);
    if (s == NATS_OK)
        s = natsOptions_SetName(fw->opts, "glint serve --forward");
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(fw->opts, CONNECT_TIMEOUT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(fw->opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(fw->opts, RECONNECT_WAIT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectJitter(fw->opts, RECONNECT_JITTER_MS, RECONNECT_JITTER_MS);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(fw->opts, on_disconnected, fw);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(fw->opts, on_reconnected, fw);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(fw->opts, true, on_connected, fw);
    if (s == NATS_OK) {
        s = natsConnection_Connect(&fw->nc, fw->opts);
        if (s == NATS_OK)
            atomic_store(&fw->connected, true);
        else if (s == NATS_NOT_YET_CONNECTED)
            s = NATS_OK;
    }
    if (s == NATS_OK && c->forward_jetstream)
        s = natsConnection_JetStream(&fw->js, fw->nc, NULL);
    if (s != NATS_OK) {
        snprintf(err, errsize, "--forward %.64s: %s", c->forward, natsStatus_GetText(s));
        serve_forward_close(fw);
        return -1;
    }
    if (!(*table = calloc(1, sizeof **table))) {
        snprintf(err, errsize, "out of memory");
        serve_forward_close(fw);
        return -1;
    }
    *out = fw;
    return 0;
}

void serve_forward_close(struct serve_forward *fw)
{
    if (!fw)
        return;
    jsCtx_Destroy(fw->js);
    natsConnection_Destroy(fw->nc);
    natsOptions_Destroy(fw->opts);
    pthread_mutex_destroy(&fw->lock);
    free(fw->fns);
    free(fw);
    nats_Close();
}

bool serve_forward_ready(struct serve_forward *fw)
{
    return atomic_load(&fw->connected) &&
           natsConnection_Status(fw->nc) == NATS_CONN_STATUS_CONNECTED;
}

struct serve_metrics *serve_forward_find(struct serve_forward *fw, const char *name, size_t len)
{
    if (!nats_name_ok(name, len))
        return NULL;
    struct serve_metrics *m = NULL;
    pthread_mutex_lock(&fw->lock);
    for (size_t i = 0; i < fw->nfns && !m; i++) {
        if (strlen(fw->fns[i].name) == len && !memcmp(fw->fns[i].name, name, len))
            m = &fw->fns[i].metrics;
    }
    if (!m && fw->any) {
        if (fw->nfns < SERVE_FUNCTIONS_MAX) {
            struct forward_fn *f = &fw->fns[fw->nfns++];
            memcpy(f->name, name, len);
            f->name[len] = 0;
            m = &f->metrics;
        } else {
            m = &fw->overflow;
        }
    }
    pthread_mutex_unlock(&fw->lock);
    return m;
}

void serve_forward_call(struct serve_forward *fw, const char *name, const char *body, size_t len,
                        struct serve_reply *r)
{
    char err[300];
    char *args = NULL;
    memset(r, 0, sizeof *r);
    if (sj_parse_array(body, len, &args, err, sizeof err) != 0) {
        serve_reply_error(r, 400, "malformed_json", "%s", err);
        return;
    }
    if (!serve_forward_ready(fw)) {
        /* Not queued in libnats's reconnect buffer: an answer now beats a timeout later. */
        serve_reply_error(r, 503, "unavailable", "the gateway is not connected to NATS");
        free(args);
        return;
    }
    struct nats_call_stats st;
    nats_call(fw->nc, fw->js, name, args, strlen(args), fw->timeout_ms, r, &st);
    atomic_fetch_add(&fw->ignored, st.ignored);
    free(args);
}

char *serve_forward_list(struct serve_forward *fw, size_t *len)
{
    json_t *list = json_array();
    const char *mode = fw->js ? "jetstream" : "core";
    pthread_mutex_lock(&fw->lock);
    size_t n = fw->any ? 0 : fw->nfns; /* with no list, the names seen are not a promise */
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list,
                              json_pack("{ssss}", "name", fw->fns[i].name, "forwarded", mode));
    pthread_mutex_unlock(&fw->lock);
    json_t *root = json_pack("{sosb}", "functions", list, "forward_any", fw->any);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    *len = text ? strlen(text) : 0;
    return text;
}

char *serve_forward_metrics(struct serve_forward *fw, const struct serve_metrics *unrouted,
                            size_t *len)
{
    struct serve_metrics_view v[SERVE_FUNCTIONS_MAX + 2];
    pthread_mutex_lock(&fw->lock);
    size_t n = fw->nfns;
    for (size_t i = 0; i < n; i++)
        v[i] = (struct serve_metrics_view){.function = fw->fns[i].name, .m = &fw->fns[i].metrics};
    pthread_mutex_unlock(&fw->lock);
    if (n == SERVE_FUNCTIONS_MAX)
        v[n++] = (struct serve_metrics_view){.function = "*", .m = &fw->overflow};
    v[n++] = (struct serve_metrics_view){.function = "-", .m = unrouted};
    size_t tlen = 0;
    char *text = serve_metrics_text(v, n, &tlen);
    if (!text)
        return NULL;
    char extra[1024];
    int k = snprintf(
        extra, sizeof extra,
        "# HELP glint_nats_connected 1 while the gateway is connected to a NATS server.\n"
        "# TYPE glint_nats_connected gauge\n"
        "glint_nats_connected %d\n"
        "# HELP glint_nats_reconnects_total Reconnections to NATS after a lost connection.\n"
        "# TYPE glint_nats_reconnects_total counter\n"
        "glint_nats_reconnects_total %llu\n"
        "# HELP glint_gateway_ignored_results_total JetStream results dropped: for another job "
        "or a repeat.\n"
        "# TYPE glint_gateway_ignored_results_total counter\n"
        "glint_gateway_ignored_results_total %llu\n",
        serve_forward_ready(fw) ? 1 : 0, (unsigned long long)atomic_load(&fw->reconnects),
        (unsigned long long)atomic_load(&fw->ignored));
    char *all = realloc(text, tlen + (size_t)k + 1);
    if (!all) {
        free(text);
        return NULL;
    }
    memcpy(all + tlen, extra, (size_t)k + 1);
    *len = tlen + (size_t)k;
    return all;
}
