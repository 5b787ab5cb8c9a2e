/* glint serve's configuration: defaults, the --config JSON file (jansson), validation of every key.
 */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int serve_fail(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
    return -1;
}

void serve_config_defaults(struct serve_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_body = SERVE_DEFAULT_MAX_BODY;
    c->max_connections = SERVE_DEFAULT_MAX_CONNECTIONS;
    c->idle_timeout_s = SERVE_DEFAULT_IDLE_TIMEOUT_S;
    c->read_timeout_ms = SERVE_DEFAULT_READ_TIMEOUT_MS;
    c->drain_ms = SERVE_DEFAULT_DRAIN_MS;
    c->access_log = true;
    c->confine = true;
    c->nats.ack_wait_ms = SERVE_DEFAULT_ACK_WAIT_MS;
    c->nats.reconnect_wait_ms = SERVE_DEFAULT_RECONNECT_MS;
}

void serve_config_free(struct serve_config *c)
{
    for (size_t i = 0; i < c->nfns; i++) {
        struct serve_function_config *f = &c->fns[i];
        free(f->name);
        free(f->path);
        free(f->load);
        free(f->export_name);
        free(f->handler);
    }
    free(c->fns);
    free(c->listen);
    free(c->nats.url);
    free(c->nats.stream);
    free(c->nats.consumer);
    memset(c, 0, sizeof *c);
}

struct serve_function_config *serve_config_add(struct serve_config *c, const char *path)
{
    struct serve_function_config *fns = realloc(c->fns, (c->nfns + 1) * sizeof *fns);
    if (!fns)
        return NULL;
    c->fns = fns;
    struct serve_function_config *f = &fns[c->nfns];
    memset(f, 0, sizeof *f);
    glint_config_init(&f->cfg);
    f->wait_ms = SERVE_DEFAULT_WAIT_MS;
    f->queue = UINT32_MAX;
    if (path && !(f->path = strdup(path)))
        return NULL;
    c->nfns++;
    return f;
}

struct size_key {
    const char *key;
    size_t offset;
    uint64_t min, max;
};

static const struct size_key size_keys[] = {
    {"heap", offsetof(glint_config, heap_size), GLINT_HEAP_SIZE_MIN, GLINT_HEAP_SIZE_MAX},
    {"stack", offsetof(glint_config, stack_size), GLINT_STACK_SIZE_MIN, GLINT_STACK_SIZE_MAX},
    {"input_size", offsetof(glint_config, input_size), GLINT_BUFFER_SIZE_MIN,
     GLINT_BUFFER_SIZE_MAX},
    {"output_size", offsetof(glint_config, output_size), GLINT_BUFFER_SIZE_MIN,
     GLINT_BUFFER_SIZE_MAX},
    {"max_image_memory", offsetof(glint_config, max_image_memory), GLINT_IMAGE_MEMORY_MIN,
     GLINT_IMAGE_MEMORY_MAX},
};

static bool is_size_key(const char *key)
{
    for (size_t i = 0; i < sizeof size_keys / sizeof size_keys[0]; i++) {
        if (!strcmp(size_keys[i].key, key))
            return true;
    }
    return false;
}

int serve_config_set_size(glint_config *cfg, const char *key, const char *text, uint64_t n,
                          const char *what, char *err, size_t errsize)
{
    const struct size_key *k = NULL;
    for (size_t i = 0; i < sizeof size_keys / sizeof size_keys[0]; i++) {
        if (!strcmp(size_keys[i].key, key))
            k = &size_keys[i];
    }
    if (!k)
        return 1;
    if (text) {
        char why[160];
        if (parse_size(text, &n, why, sizeof why) != PARSE_OK)
            return serve_fail(err, errsize, "%s: '%.40s' %s", what, text, why);
    } else if (n == 0) {
        return serve_fail(err, errsize, "%s: a size must be above zero", what);
    }
    uint64_t rounded = n > k->max ? n : (n + 4095) / 4096 * 4096;
    if (rounded < k->min || rounded > k->max)
        return serve_fail(err, errsize,
                          "%s: %" PRIu64 " bytes is out of range (%" PRIu64 "..%" PRIu64
                          " after rounding up to 4K)",
                          what, n, k->min, k->max);
    memcpy((char *)cfg + k->offset, &n, sizeof n);
    return 0;
}

/* An integer in [min, max] at key. */
static int get_uint(json_t *v, const char *what, uint64_t min, uint64_t max, uint64_t *out,
                    char *err, size_t errsize)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < min ||
        (uint64_t)json_integer_value(v) > max)
        return serve_fail(err, errsize, "%s: must be an integer %" PRIu64 "..%" PRIu64, what, min,
                          max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_u32(json_t *v, const char *what, uint32_t min, uint32_t max, uint32_t *out,
                   char *err, size_t errsize)
{
    uint64_t x = 0;
    if (get_uint(v, what, min, max, &x, err, errsize) != 0)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

/* A non-empty string without NUL at key, copied. */
static int get_string(json_t *v, const char *what, char **out, char *err, size_t errsize)
{
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return serve_fail(err, errsize, "%s: must be a non-empty string", what);
    free(*out);
    if (!(*out = strdup(json_string_value(v))))
        return serve_fail(err, errsize, "%s: out of memory", what);
    return 0;
}

/* A size: bytes as an integer, or text like "64K". */
static int get_size(json_t *v, glint_config *cfg, const char *key, const char *what, char *err,
                    size_t errsize)
{
    if (json_is_string(v))
        return serve_config_set_size(cfg, key, json_string_value(v), 0, what, err, errsize);
    if (json_is_integer(v) && json_integer_value(v) > 0)
        return serve_config_set_size(cfg, key, NULL, (uint64_t)json_integer_value(v), what, err,
                                     errsize);
    return serve_fail(err, errsize, "%s: must be a size (bytes, or a string like \"64K\")", what);
}

static int parse_function(json_t *o, size_t index, struct serve_config *c, char *err,
                          size_t errsize)
{
    char what[96];
    if (!json_is_object(o))
        return serve_fail(err, errsize, "functions[%zu]: must be an object", index);
    struct serve_function_config *f = serve_config_add(c, NULL);
    if (!f)
        return serve_fail(err, errsize, "functions[%zu]: out of memory", index);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        snprintf(what, sizeof what, "functions[%zu].%.40s", index, key);
        int rc = 0;
        if (!strcmp(key, "name"))
            rc = get_string(v, what, &f->name, err, errsize);
        else if (!strcmp(key, "guest") || !strcmp(key, "image")) {
            if (f->path)
                return serve_fail(err, errsize,
                                  "functions[%zu]: give one of \"guest\" and \"image\"", index);
            rc = get_string(v, what, &f->path, err, errsize);
        } else if (!strcmp(key, "load"))
            rc = get_string(v, what, &f->load, err, errsize);
        else if (!strcmp(key, "export"))
            rc = get_string(v, what, &f->export_name, err, errsize);
        else if (!strcmp(key, "handler"))
            rc = get_string(v, what, &f->handler, err, errsize);
        else if (!strcmp(key, "pool"))
            rc = get_u32(v, what, 1, SERVE_POOL_MAX, &f->pool, err, errsize);
        else if (!strcmp(key, "wait_ms"))
            rc = get_u32(v, what, 0, 600000, &f->wait_ms, err, errsize);
        else if (!strcmp(key, "queue"))
            rc = get_u32(v, what, 0, SERVE_QUEUE_MAX, &f->queue, err, errsize);
        else if (!strcmp(key, "timeout_ms"))
            rc = get_u32(v, what, 0, UINT32_MAX, &f->cfg.timeout_ms, err, errsize);
        else if (!strcmp(key, "budget"))
            rc = get_uint(v, what, 0, INT64_MAX, &f->cfg.budget, err, errsize);
        else if (!strcmp(key, "hot")) {
            if (!json_is_boolean(v))
                return serve_fail(err, errsize, "%s: must be true or false", what);
            f->hot = json_is_true(v);
        } else if (is_size_key(key))
            rc = get_size(v, &f->cfg, key, what, err, errsize);
        else
            return serve_fail(
                err, errsize,
                "functions[%zu]: unknown key \"%.40s\" (known: name, guest, image, "
                "load, export, handler, pool, wait_ms, queue, timeout_ms, budget, heap, "
                "stack, input_size, output_size, max_image_memory, hot)",
                index, key);
        if (rc != 0)
            return -1;
    }
    if (!f->path)
        return serve_fail(err, errsize, "functions[%zu]: needs \"guest\" (an ELF) or \"image\"",
                          index);
    return 0;
}

/* "nats": {"url", "jetstream", "stream", "consumer", "ack_wait_ms", "max_ack_pending",
 * "reconnect_wait_ms"} (docs/nats.md); the values are checked with the flags' rules later. */
static int parse_nats(json_t *o, struct serve_nats_config *n, char *err, size_t errsize)
{
    char what[64];
    if (!json_is_object(o))
        return serve_fail(err, errsize, "nats: must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        snprintf(what, sizeof what, "nats.%.40s", key);
        int rc;
        if (!strcmp(key, "url"))
            rc = get_string(v, what, &n->url, err, errsize);
        else if (!strcmp(key, "stream"))
            rc = get_string(v, what, &n->stream, err, errsize);
        else if (!strcmp(key, "consumer"))
            rc = get_string(v, what, &n->consumer, err, errsize);
        else if (!strcmp(key, "jetstream")) {
            rc = json_is_boolean(v) ? 0
                                    : serve_fail(err, errsize, "%s: must be true or false", what);
            n->jetstream = json_is_true(v);
        } else if (!strcmp(key, "ack_wait_ms"))
            rc = get_u32(v, what, 100, 3600000, &n->ack_wait_ms, err, errsize);
        else if (!strcmp(key, "max_ack_pending"))
            rc = get_u32(v, what, 1, 1000000, &n->max_ack_pending, err, errsize);
        else if (!strcmp(key, "reconnect_wait_ms"))
            rc = get_u32(v, what, 10, 60000, &n->reconnect_wait_ms, err, errsize);
        else
            rc = serve_fail(err, errsize,
                            "nats: unknown key \"%.40s\" (known: url, jetstream, stream, consumer, "
                            "ack_wait_ms, max_ack_pending, reconnect_wait_ms)",
                            key);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int parse_limits(json_t *o, struct serve_config *c, char *err, size_t errsize)
{
    char what[64];
    if (!json_is_object(o))
        return serve_fail(err, errsize, "limits: must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        snprintf(what, sizeof what, "limits.%.40s", key);
        int rc;
        if (!strcmp(key, "max_body")) {
            if (json_is_string(v)) {
                char why[160];
                if (parse_size(json_string_value(v), &c->max_body, why, sizeof why) != PARSE_OK)
                    return serve_fail(err, errsize, "%s: %s", what, why);
                rc = c->max_body > (1ull << 30) ? serve_fail(err, errsize, "%s: at most 1G", what)
                                                : 0;
            } else
                rc = get_uint(v, what, 1, 1ull << 30, &c->max_body, err, errsize);
        } else if (!strcmp(key, "max_connections"))
            rc = get_u32(v, what, 1, SERVE_CONNECTIONS_MAX, &c->max_connections, err, errsize);
        else if (!strcmp(key, "idle_timeout_s"))
            rc = get_u32(v, what, 1, 3600, &c->idle_timeout_s, err, errsize);
        else if (!strcmp(key, "read_timeout_ms"))
            rc = get_u32(v, what, 1, 3600000, &c->read_timeout_ms, err, errsize);
        else if (!strcmp(key, "drain_ms"))
            rc = get_u32(v, what, 0, 3600000, &c->drain_ms, err, errsize);
        else
            return serve_fail(err, errsize,
                              "limits: unknown key \"%.40s\" (known: max_body, max_connections, "
                              "idle_timeout_s, read_timeout_ms, drain_ms)",
                              key);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int serve_config_parse(const char *text, size_t len, struct serve_config *c, char *err,
                       size_t errsize)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return serve_fail(err, errsize, "line %d column %d: %s", je.line, je.column, je.text);
    int rc = 0;
    const char *key;
    json_t *v;
    if (!json_is_object(root)) {
        rc = serve_fail(err, errsize, "the file must hold a JSON object");
        goto out;
    }
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "listen"))
            rc = get_string(v, "listen", &c->listen, err, errsize);
        else if (!strcmp(key, "access_log")) {
            if (!json_is_boolean(v))
                rc = serve_fail(err, errsize, "access_log: must be true or false");
            else
                c->access_log = json_is_true(v);
        } else if (!strcmp(key, "limits"))
            rc = parse_limits(v, c, err, errsize);
        else if (!strcmp(key, "nats"))
            rc = parse_nats(v, &c->nats, err, errsize);
        else if (!strcmp(key, "functions")) {
            if (!json_is_array(v) || json_array_size(v) == 0 ||
                json_array_size(v) > SERVE_FUNCTIONS_MAX) {
                rc = serve_fail(err, errsize, "functions: must be an array of 1..%u objects",
                                SERVE_FUNCTIONS_MAX);
                goto out;
            }
            for (size_t i = 0; rc == 0 && i < json_array_size(v); i++)
                rc = parse_function(json_array_get(v, i), i, c, err, errsize);
        } else
            rc = serve_fail(
                err, errsize,
                "unknown key \"%.40s\" (known: listen, access_log, limits, nats, functions)", key);
        if (rc != 0)
            goto out;
    }
    if (c->nfns == 0)
        rc = serve_fail(err, errsize, "functions: missing (an array of the functions to serve)");
out:
    json_decref(root);
    return rc;
}

/* Served names: what the HTTP path takes. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GLINT_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

int serve_config_check(const struct serve_config *c, char *err, size_t errsize)
{
    if (c->nfns == 0)
        return serve_fail(err, errsize, "nothing to serve: give --guest, --image or --config");
    for (size_t i = 0; i < c->nfns; i++) {
        const struct serve_function_config *f = &c->fns[i];
        if (f->export_name && f->handler)
            return serve_fail(err, errsize,
                              "functions[%zu]: give \"export\" or \"handler\", not both", i);
        if (f->name && !f->export_name && !f->handler)
            return serve_fail(
                err, errsize,
                "functions[%zu].name: a name needs \"export\" or \"handler\" (without "
                "them every export is served under its own name)",
                i);
        const char *served = f->name ? f->name : f->handler ? f->handler : f->export_name;
        if (served && !name_ok(served))
            return serve_fail(err, errsize,
                              "functions[%zu]: served name '%.64s' must be 1..%d characters of "
                              "[A-Za-z0-9_.-]",
                              i, served, GLINT_NAME_MAX);
        if (f->queue != UINT32_MAX && f->queue > SERVE_QUEUE_MAX)
            return serve_fail(err, errsize, "functions[%zu].queue: at most %u", i, SERVE_QUEUE_MAX);
    }
    return 0;
}

int serve_parse_listen(const char *s, char *host, size_t hostsize, uint16_t *port, char *err,
                       size_t errsize)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return serve_fail(err, errsize,
                          "--listen '%.64s': expected HOST:PORT (e.g. 127.0.0.1:8080)", s);
    size_t hl = (size_t)(colon - s);
    const char *h = s;
    if (h[0] == '[') {
        if (hl < 3 || h[hl - 1] != ']')
            return serve_fail(err, errsize, "--listen '%.64s': an IPv6 address goes in [brackets]",
                              s);
        h++;
        hl -= 2;
    } else if (memchr(h, ':', hl))
        return serve_fail(err, errsize, "--listen '%.64s': an IPv6 address goes in [brackets]", s);
    if (hl + 1 > hostsize)
        return serve_fail(err, errsize, "--listen '%.64s': host too long", s);
    memcpy(host, h, hl);
    host[hl] = 0;
    if (!strcmp(host, "localhost"))
        snprintf(host, hostsize, "127.0.0.1");
    unsigned char buf[16];
    if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
        return serve_fail(err, errsize,
                          "--listen '%.64s': host must be an IP address (or localhost), not a name",
                          s);
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p) || atoi(p) > 65535)
        return serve_fail(err, errsize, "--listen '%.64s': port must be 0..65535", s);
    *port = (uint16_t)atoi(p);
    return 0;
}
