/* glint serve's HTTP API: routing, bounded request bodies, JSON responses, accounting. */
#include "routes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accesslog.h"
#include "invoke.h"
#include "json.h"

#define FUNCTIONS_PREFIX "/v1/functions/"

struct request {
    uint64_t start_us;
    char method[16];
    char path[256];
    struct serve_fn *fn;       /* POST to a served function */
    struct serve_metrics *fwd; /* gateway: POST to a forwarded function, named by fwd_name */
    const char *fwd_name;      /* points into path */
    char *body;
    size_t len, cap;
    uint64_t bytes_in;
    bool too_big, answered;
    unsigned status;
    const char *kind;
    size_t bytes_out;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Queue body (malloc'd, taken over) with the status. */
static enum MHD_Result respond(struct serve_server *s, struct MHD_Connection *c, struct request *r,
                               unsigned status, char *body, size_t len, const char *ctype,
                               const char *kind, unsigned retry_after)
{
    if (!body) {
        static const char oom[] =
            "{\"error\":{\"kind\":\"internal\",\"message\":\"out of memory\"}}";
        status = 500;
        kind = "internal";
        ctype = "application/json";
        len = sizeof oom - 1;
        body = malloc(len + 1);
        if (!body)
            return MHD_NO;
        memcpy(body, oom, len + 1);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (retry_after) {
        char v[16];
        snprintf(v, sizeof v, "%u", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (status == 405)
        MHD_add_response_header(
            resp, MHD_HTTP_HEADER_ALLOW,
            r->fn || r->fwd || strncmp(r->path, FUNCTIONS_PREFIX, strlen(FUNCTIONS_PREFIX)) == 0
                ? "POST"
                : "GET");
    if (atomic_load(&s->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    r->kind = kind;
    r->bytes_out = len;
    r->answered = true;
    return rc;
}

static enum MHD_Result error(struct serve_server *s, struct MHD_Connection *c, struct request *r,
                             unsigned status, const char *kind, const char *message)
{
    size_t len = 0;
    char *body = sj_error(kind, message, &len);
    return respond(s, c, r, status, body, len, "application/json", kind, 0);
}

static enum MHD_Result text(struct serve_server *s, struct MHD_Connection *c, struct request *r,
                            unsigned status, const char *json)
{
    char *body = strdup(json);
    return respond(s, c, r, status, body, body ? strlen(body) : 0, "application/json", NULL, 0);
}

static bool ready(struct serve_server *s)
{
    if (atomic_load(&s->draining))
        return false;
    if (s->forward)
        return serve_forward_ready(s->forward);
    if (s->table->more_ready && !s->table->more_ready(s->table->more_metrics_ctx))
        return false;
    /* A pool that has handed out every sandbox is still ready: busy ones come back. */
    for (size_t i = 0; i < s->table->npools; i++) {
        struct serve_pool *p = &s->table->pools[i];
        if (glint_pool_ready(p->pool) == 0 && atomic_load(&p->busy) == 0)
            return false;
    }
    return true;
}

/* GET routes and everything that is not a function call. */
static enum MHD_Result route_other(struct serve_server *s, struct MHD_Connection *c,
                                   struct request *r, const char *url, bool get)
{
    bool known = !strcmp(url, "/healthz") || !strcmp(url, "/readyz") || !strcmp(url, "/metrics") ||
                 !strcmp(url, "/v1/functions");
    if (!known)
        return error(s, c, r, 404, "not_found", "no such route (see GET /v1/functions)");
    if (!get)
        return error(s, c, r, 405, "method_not_allowed", "this route takes GET");
    if (!strcmp(url, "/healthz"))
        return text(s, c, r, 200, "{\"status\":\"ok\"}");
    if (!strcmp(url, "/readyz"))
        return ready(s) ? text(s, c, r, 200, "{\"ready\":true}")
                        : text(s, c, r, 503, "{\"ready\":false}");
    size_t len = 0;
    if (!strcmp(url, "/metrics")) {
        char *body = s->forward ? serve_forward_metrics(s->forward, &s->table->unrouted, &len)
                                : serve_table_metrics(s->table, &len);
        return respond(s, c, r, 200, body, len, "text/plain; version=0.0.4; charset=utf-8", NULL,
                       0);
    }
    char *body =
        s->forward ? serve_forward_list(s->forward, &len) : serve_table_list(s->table, &len);
    return respond(s, c, r, 200, body, len, "application/json", NULL, 0);
}

/* First call for a request: headers are in. */
static enum MHD_Result begin(struct serve_server *s, struct MHD_Connection *c, struct request *r,
                             const char *url, const char *method)
{
    bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    if (atomic_load(&s->draining))
        return error(s, c, r, 503, "draining", "the server is shutting down");
    if (strncmp(url, FUNCTIONS_PREFIX, strlen(FUNCTIONS_PREFIX)) != 0)
        return route_other(s, c, r, url, get);
    const char *name = url + strlen(FUNCTIONS_PREFIX);
    struct serve_fn *f = s->forward ? NULL : serve_table_find(s->table, name, strlen(name));
    if (s->forward && (r->fwd = serve_forward_find(s->forward, name, strlen(name))))
        r->fwd_name = r->path + strlen(FUNCTIONS_PREFIX);
    if (!f && !r->fwd) {
        char msg[160];
        snprintf(msg, sizeof msg, "no function named '%.64s' (see GET /v1/functions)", name);
        return error(s, c, r, 404, "not_found", msg);
    }
    r->fn = f;
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return error(s, c, r, 405, "method_not_allowed", "a function is called with POST");
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > s->cfg->max_body) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body has %.20s bytes; at most %llu are accepted", cl,
                 (unsigned long long)s->cfg->max_body);
        return error(s, c, r, 413, "body_too_large", msg);
    }
    return MHD_YES; /* the body follows */
}

/* Keep up to max_body bytes of the body; beyond that, note it and drop the rest. */
static bool append(struct request *r, const char *data, size_t n, uint64_t max)
{
    r->bytes_in += n;
    if (r->too_big || r->len + n > max) {
        r->too_big = true;
        return true;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *p = realloc(r->body, cap);
        if (!p)
            return false;
        r->body = p;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    return true;
}

static void *socket_context(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

enum MHD_Result serve_route(void *cls, struct MHD_Connection *c, const char *url,
                            const char *method, const char *version, const char *upload_data,
                            size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct serve_server *s = cls;
    struct request *r = *req_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *req_cls = r;
        atomic_fetch_add(&s->active, 1);
        r->start_us = now_us();
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        return begin(s, c, r, url, method);
    }
    if (r->answered) {
        *upload_data_size = 0; /* answered early (413, 404...): the rest is dropped */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!append(r, upload_data, *upload_data_size, s->cfg->max_body))
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* The whole request is in: from here the guest's timeout bounds it, not the watchdog. */
    serve_conns_busy(s->conns, socket_context(c), true);
    if (r->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body is over the limit of %llu bytes",
                 (unsigned long long)s->cfg->max_body);
        return error(s, c, r, 413, "body_too_large", msg);
    }
    struct serve_reply reply;
    if (r->fwd)
        serve_forward_call(s->forward, r->fwd_name, r->body ? r->body : "", r->len, &reply);
    else
        serve_invoke(r->fn, r->body ? r->body : "", r->len, &reply);
    return respond(s, c, r, reply.status, reply.body, reply.len, "application/json", reply.kind,
                   reply.retry_after_s);
}

static void remote_text(struct MHD_Connection *c, char *buf, size_t size)
{
    snprintf(buf, size, "-");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    char host[INET6_ADDRSTRLEN];
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ci->client_addr;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(buf, size, "%s:%u", host, ntohs(a->sin_port));
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(buf, size, "[%s]:%u", host, ntohs(a->sin6_port));
    }
}

void serve_route_done(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct serve_server *s = cls;
    struct request *r = *req_cls;
    if (!r)
        return;
    uint64_t us = now_us() - r->start_us;
    /* A request cut off before its answer (client gone, watchdog, shutdown) counts as such. */
    (void)toe;
    unsigned status = r->answered ? r->status : 0;
    serve_metrics_request(r->fn    ? &r->fn->metrics
                          : r->fwd ? r->fwd
                                   : &s->table->unrouted,
                          status, us);
    atomic_fetch_add(&s->table->by_transport[SERVE_VIA_HTTP], 1);
    if (s->cfg->access_log) {
        char remote[INET6_ADDRSTRLEN + 16];
        remote_text(c, remote, sizeof remote);
        struct serve_access a = {
            .remote = remote,
            .method = r->method,
            .path = r->path,
            .status = status,
            .function = r->fn ? r->fn->name : r->fwd_name,
            .kind = r->answered ? r->kind : "incomplete",
            .bytes_in = r->bytes_in,
            .bytes_out = r->bytes_out,
            .us = us,
        };
        serve_access_log(&a);
    }
    serve_conns_busy(s->conns, socket_context(c), false);
    free(r->body);
    free(r);
    *req_cls = NULL;
    atomic_fetch_sub(&s->active, 1);
}
