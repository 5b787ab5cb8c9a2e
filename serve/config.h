/* glint serve's configuration: the functions to serve and the server's limits, with defaults and
 * the validation every value goes through (from a --config file or the command line). */
#ifndef GLINT_SERVE_CONFIG_H
#define GLINT_SERVE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint.h"

/* Defaults (docs/serve.md). */
#define SERVE_DEFAULT_LISTEN          "127.0.0.1:8080"
#define SERVE_DEFAULT_MAX_BODY        (1u << 20)
#define SERVE_DEFAULT_MAX_CONNECTIONS 256u
#define SERVE_DEFAULT_IDLE_TIMEOUT_S  10u
#define SERVE_DEFAULT_READ_TIMEOUT_MS 10000u
#define SERVE_DEFAULT_DRAIN_MS        10000u
#define SERVE_DEFAULT_WAIT_MS         100u
#define SERVE_POOL_MAX                256u /* a pool's workers are at most 256 */
#define SERVE_QUEUE_MAX               4096u
#define SERVE_CONNECTIONS_MAX         10000u
#define SERVE_FUNCTIONS_MAX           256u
#define SERVE_DEFAULT_JS_STREAM       "GLINT"
#define SERVE_DEFAULT_JS_CONSUMER     "glint-workers"
#define SERVE_DEFAULT_ACK_WAIT_MS     30000u
#define SERVE_DEFAULT_RECONNECT_MS    500u

/* One entry of "functions": an image (an ELF or image file), served either as every export under
 * its own name (export and handler NULL), as one export (export) or as one handler function of a
 * runtime guest called through Call(handler, json_args) (handler); name is the served name
 * (default: the export's or handler's). */
struct serve_function_config {
    char *name, *path, *load, *export_name, *handler;
    glint_config cfg; /* sizes, timeout_ms, budget; 0 = the guest's or glint's default */
    uint32_t pool;    /* sandboxes; 0 = the number of CPUs (at most SERVE_POOL_MAX) */
    bool hot;         /* every sandbox of the pool hot (those admission refuses: exit mode) */
    uint32_t wait_ms; /* longest wait for a sandbox before a 429 */
    uint32_t
        queue; /* requests that may wait for a sandbox at once; UINT32_MAX = 4 x the pool size */
};

/* NATS worker mode (docs/nats.md): url NULL = no NATS. */
struct serve_nats_config {
    char *url;                  /* nats://HOST:PORT */
    bool jetstream;             /* jobs from a JetStream work queue instead of request/reply */
    char *stream, *consumer;    /* JetStream stream and durable consumer (created if missing) */
    uint32_t ack_wait_ms;       /* a job not acked within this is redelivered */
    uint32_t max_ack_pending;   /* of a consumer created here; 0 = the worker's capacity */
    uint32_t reconnect_wait_ms; /* between reconnect attempts (plus up to half of it as jitter) */
};

struct serve_config {
    char *listen;             /* HOST:PORT; port 0 = any free port; NULL with NATS only */
    uint64_t max_body;        /* request body bytes */
    uint32_t max_connections; /* concurrent connections */
    uint32_t idle_timeout_s;  /* an idle (keep-alive) connection is closed after this */
    uint32_t read_timeout_ms; /* a request's headers and body must arrive within this */
    uint32_t drain_ms;        /* on SIGTERM/SIGINT, longest wait for requests in flight */
    bool access_log;
    bool confine; /* pool workers confine themselves (seccomp) */
    struct serve_function_config *fns;
    size_t nfns;
    struct serve_nats_config nats;
    /* --forward URL: a gateway to glint workers on NATS (serve/forward.h), no functions of its
     * own; --functions NAME,... (NULL: any name), --jetstream, --timeout-ms (0: the default).
     * The strings point into argv. */
    const char *forward, *forward_functions;
    bool forward_jetstream;
    uint32_t forward_timeout_ms;
};

/* Write the message into err (cut to errsize); returns -1, the failure every parser and
 * loader of glint serve returns with its message. */
int serve_fail(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* *c with every default and no functions. */
void serve_config_defaults(struct serve_config *c);
void serve_config_free(struct serve_config *c);

/* Append a function with the defaults (path copied); NULL if out of memory. */
struct serve_function_config *serve_config_add(struct serve_config *c, const char *path);

/* Set a glint_config size field named key ("heap", "stack", "input_size", "output_size",
 * "max_image_memory") from text ("64K", "1M", bytes) or, if text is NULL, from n; by glint's
 * rule and ranges (rounded up to 4 KiB). Returns 0, 1 if key is not a size, or -1 with a
 * message (naming `what`) in err. */
int serve_config_set_size(glint_config *cfg, const char *key, const char *text, uint64_t n,
                          const char *what, char *err, size_t errsize);

/*
 * Parse a config file's text (JSON, docs/serve.md) into *c (which holds the defaults). Every
 * key is checked: unknown keys, wrong types and out-of-range values fail with a message naming
 * the key ("functions[1].pool: ..."). Paths are kept as written. Returns 0 or -1 (err set).
 */
int serve_config_parse(const char *text, size_t len, struct serve_config *c, char *err,
                       size_t errsize);

/* Check the whole configuration (at least one function, names unique once resolved where
 * known, export and handler not both, hot not supported yet...). Returns 0 or -1 (err set). */
int serve_config_check(const struct serve_config *c, char *err, size_t errsize);

/* Split "HOST:PORT" ("127.0.0.1:8080", "[::1]:0", "localhost:80") into a numeric host and a
 * port. Returns 0 or -1 (err set). */
int serve_parse_listen(const char *s, char *host, size_t hostsize, uint16_t *port, char *err,
                       size_t errsize);

#endif
