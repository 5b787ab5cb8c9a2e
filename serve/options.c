/* `glint serve`'s command line: listen address, functions, limits, a --config file merged in. */
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "forward.h"
#include "parse.h"
#include "report.h"

enum kind { FLAG, TEXT, U32, SIZE };
enum scope { SERVER, FUNCTION };

struct option {
    const char *name;
    enum kind kind;
    enum scope scope;
    uint32_t min, max; /* U32 */
};

static const struct option options[] = {
    {"--listen", TEXT, SERVER, 0, 0},
    {"--guest", TEXT, SERVER, 0, 0},
    {"--image", TEXT, SERVER, 0, 0},
    {"--config", TEXT, SERVER, 0, 0},
    {"--max-body", SIZE, SERVER, 0, 0},
    {"--max-connections", U32, SERVER, 1, SERVE_CONNECTIONS_MAX},
    {"--idle-timeout-s", U32, SERVER, 1, 3600},
    {"--read-timeout-ms", U32, SERVER, 1, 3600000},
    {"--drain-ms", U32, SERVER, 0, 3600000},
    {"--no-access-log", FLAG, SERVER, 0, 0},
    {"--no-confine", FLAG, SERVER, 0, 0},
    {"--nats", TEXT, SERVER, 0, 0},
    {"--jetstream", FLAG, SERVER, 0, 0},
    {"--js-stream", TEXT, SERVER, 0, 0},
    {"--js-consumer", TEXT, SERVER, 0, 0},
    {"--ack-wait-ms", U32, SERVER, 100, 3600000},
    {"--js-max-ack-pending", U32, SERVER, 1, 1000000},
    {"--reconnect-wait-ms", U32, SERVER, 10, 60000},
    {"--forward", TEXT, SERVER, 0, 0},
    {"--functions", TEXT, SERVER, 0, 0},
    {"--load", TEXT, FUNCTION, 0, 0},
    {"--export", TEXT, FUNCTION, 0, 0},
    {"--handler", TEXT, FUNCTION, 0, 0},
    {"--pool", U32, FUNCTION, 1, SERVE_POOL_MAX},
    {"--hot", FLAG, FUNCTION, 0, 0},
    {"--wait-ms", U32, FUNCTION, 0, 600000},
    {"--queue", U32, FUNCTION, 0, SERVE_QUEUE_MAX},
    {"--timeout-ms", U32, FUNCTION, 0, UINT32_MAX},
    {"--budget", TEXT, FUNCTION, 0, 0},
    {"--heap", SIZE, FUNCTION, 0, 0},
    {"--stack", SIZE, FUNCTION, 0, 0},
    {"--input-size", SIZE, FUNCTION, 0, 0},
    {"--output-size", SIZE, FUNCTION, 0, 0},
    {"--max-image-memory", SIZE, FUNCTION, 0, 0},
};

/* A file's whole text (at most 1 MiB). */
static int read_file(const char *path, char **text, size_t *len)
{
    char q[CLI_QUOTE_PATH];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
        cli_error("serve: --config %s: %s", cli_quote(path, q, sizeof q),
                  fd < 0 ? strerror(errno) : "not a regular file of at most 1M");
        if (fd >= 0)
            close(fd);
        return CLI_USAGE;
    }
    *text = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (*text && got < (size_t)st.st_size) {
        ssize_t n = read(fd, *text + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!*text || got != (size_t)st.st_size) {
        cli_error("serve: --config %s: cannot read it", cli_quote(path, q, sizeof q));
        free(*text);
        return CLI_USAGE;
    }
    *len = got;
    return CLI_OK;
}

struct given {
    const char *value[sizeof options / sizeof options[0]];
    bool set[sizeof options / sizeof options[0]];
};

static const char *given(const struct given *g, const char *name)
{
    for (size_t k = 0; k < sizeof options / sizeof options[0]; k++) {
        if (!strcmp(options[k].name, name))
            return g->set[k] ? (g->value[k] ? g->value[k] : "") : NULL;
    }
    return NULL;
}

static int u32_of(const struct option *o, const char *v, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-' || n < o->min || n > o->max) {
        char q[CLI_QUOTE_SHORT];
        cli_error("serve: %s: '%s' is not a number %u..%u", o->name, cli_quote(v, q, sizeof q),
                  o->min, o->max);
        return CLI_USAGE;
    }
    *out = (uint32_t)n;
    return CLI_OK;
}

/* Apply a function flag to the one --guest/--image function. */
static int apply_function(const struct option *o, const char *v, struct serve_function_config *f)
{
    char err[256];
    int rc = CLI_OK;
    char **text = !strcmp(o->name, "--load")      ? &f->load
                  : !strcmp(o->name, "--export")  ? &f->export_name
                  : !strcmp(o->name, "--handler") ? &f->handler
                                                  : NULL;
    if (text) {
        free(*text);
        if (!(*text = strdup(v)))
            rc = CLI_LOAD;
    } else if (!strcmp(o->name, "--pool"))
        rc = u32_of(o, v, &f->pool);
    else if (!strcmp(o->name, "--hot"))
        f->hot = true;
    else if (!strcmp(o->name, "--wait-ms"))
        rc = u32_of(o, v, &f->wait_ms);
    else if (!strcmp(o->name, "--queue"))
        rc = u32_of(o, v, &f->queue);
    else if (!strcmp(o->name, "--timeout-ms"))
        rc = u32_of(o, v, &f->cfg.timeout_ms);
    else if (!strcmp(o->name, "--budget")) {
        char *end;
        errno = 0;
        f->cfg.budget = strtoull(v, &end, 10);
        if (!*v || *end || errno || v[0] == '-') {
            char q[CLI_QUOTE_SHORT];
            cli_error("serve: --budget: '%s' is not a number of instructions",
                      cli_quote(v, q, sizeof q));
            rc = CLI_USAGE;
        }
    } else {
        /* --heap -> "heap", --input-size -> "input_size" */
        char key[32];
        snprintf(key, sizeof key, "%s", o->name + 2);
        for (char *p = key; *p; p++)
            *p = *p == '-' ? '_' : *p;
        if (serve_config_set_size(&f->cfg, key, v, 0, o->name, err, sizeof err) != 0) {
            cli_error("serve: %s", err);
            rc = CLI_USAGE;
        }
    }
    return rc;
}

/* A NATS flag (docs/nats.md) into c->nats. */
static int nats_option(struct serve_config *c, const struct option *o, const char *v)
{
    struct serve_nats_config *n = &c->nats;
    char **text = !strcmp(o->name, "--nats")          ? &n->url
                  : !strcmp(o->name, "--js-stream")   ? &n->stream
                  : !strcmp(o->name, "--js-consumer") ? &n->consumer
                                                      : NULL;
    if (text) {
        free(*text);
        return (*text = strdup(v)) ? CLI_OK : CLI_LOAD;
    }
    if (!strcmp(o->name, "--jetstream")) {
        n->jetstream = true;
        return CLI_OK;
    }
    if (!strcmp(o->name, "--ack-wait-ms"))
        return u32_of(o, v, &n->ack_wait_ms);
    if (!strcmp(o->name, "--js-max-ack-pending"))
        return u32_of(o, v, &n->max_ack_pending);
    if (!strcmp(o->name, "--reconnect-wait-ms"))
        return u32_of(o, v, &n->reconnect_wait_ms);
    return CLI_OK;
}

/* A JetStream stream or consumer name: 1..64 of [A-Za-z0-9_-]. */
static bool js_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int nats_check(struct serve_nats_config *n)
{
    char q[CLI_QUOTE_SHORT];
    if (!n->url) {
        if (n->jetstream || n->stream || n->consumer) {
            cli_error("serve: --jetstream must go with --nats URL (a worker) or --forward URL (a "
                      "gateway); --js-stream and --js-consumer need --nats URL");
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    if (strncmp(n->url, "nats://", 7) != 0 || !n->url[7] || strpbrk(n->url, " \t\r\n")) {
        cli_error("serve: --nats '%s': expected nats://HOST:PORT", cli_quote(n->url, q, sizeof q));
        return CLI_USAGE;
    }
    if ((n->stream || n->consumer) && !n->jetstream) {
        cli_error("serve: --js-stream and --js-consumer apply to --jetstream");
        return CLI_USAGE;
    }
    if (!n->stream && !(n->stream = strdup(SERVE_DEFAULT_JS_STREAM)))
        return CLI_LOAD;
    if (!n->consumer && !(n->consumer = strdup(SERVE_DEFAULT_JS_CONSUMER)))
        return CLI_LOAD;
    if (!js_name_ok(n->stream) || !js_name_ok(n->consumer)) {
        cli_error("serve: --js-stream/--js-consumer '%s': a name is 1..64 of A-Z a-z 0-9 _ -",
                  cli_quote(js_name_ok(n->stream) ? n->consumer : n->stream, q, sizeof q));
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int apply_server(struct serve_config *c, const struct given *g)
{
    const char *v;
    int rc = CLI_OK;
    for (size_t k = 0; rc == CLI_OK && k < sizeof options / sizeof options[0]; k++) {
        const struct option *o = &options[k];
        if (!g->set[k] || o->scope != SERVER)
            continue;
        v = g->value[k];
        if (!strcmp(o->name, "--listen")) {
            free(c->listen);
            if (!(c->listen = strdup(v)))
                rc = CLI_LOAD;
        } else if (!strcmp(o->name, "--max-body")) {
            char err[160], q[CLI_QUOTE_SHORT];
            if (parse_size(v, &c->max_body, err, sizeof err) != PARSE_OK ||
                c->max_body > (1ull << 30)) {
                cli_error("serve: --max-body: '%s' is not a size of 1..1G",
                          cli_quote(v, q, sizeof q));
                rc = CLI_USAGE;
            }
        } else if (!strcmp(o->name, "--max-connections"))
            rc = u32_of(o, v, &c->max_connections);
        else if (!strcmp(o->name, "--idle-timeout-s"))
            rc = u32_of(o, v, &c->idle_timeout_s);
        else if (!strcmp(o->name, "--read-timeout-ms"))
            rc = u32_of(o, v, &c->read_timeout_ms);
        else if (!strcmp(o->name, "--drain-ms"))
            rc = u32_of(o, v, &c->drain_ms);
        else if (!strcmp(o->name, "--no-access-log"))
            c->access_log = false;
        else if (!strcmp(o->name, "--no-confine"))
            c->confine = false;
        else if (!strcmp(o->name, "--forward"))
            c->forward = v;
        else if (!strcmp(o->name, "--functions"))
            c->forward_functions = v;
        else
            rc = nats_option(c, o, v); /* --jetstream too: the worker's or the gateway's */
    }
    if (rc == CLI_OK && !c->forward)
        rc = nats_check(&c->nats);
    return rc;
}

/* The worker's NATS flags, which a gateway does not take. */
static bool worker_nats_flag(const char *name)
{
    static const char *const flags[] = {
        "--nats",        "--js-stream",          "--js-consumer",
        "--ack-wait-ms", "--js-max-ack-pending", "--reconnect-wait-ms"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strcmp(name, flags[i]))
            return true;
    return false;
}

/* --forward: a gateway has no functions of its own; --timeout-ms bounds the wait for a worker. */
static int forward_options(struct serve_config *c, const struct given *g)
{
    char err[300];
    for (size_t k = 0; k < sizeof options / sizeof options[0]; k++) {
        const char *name = options[k].name;
        if (!g->set[k] || !strcmp(name, "--timeout-ms"))
            continue;
        if (options[k].scope == FUNCTION || !strcmp(name, "--guest") || !strcmp(name, "--image") ||
            !strcmp(name, "--config") || !strcmp(name, "--no-confine")) {
            cli_error("serve: %s does not go with --forward (a gateway runs no functions)", name);
            return CLI_USAGE;
        }
        if (worker_nats_flag(name)) {
            cli_error("serve: %s is a worker's (glint serve --nats), not a gateway's (--forward)",
                      name);
            return CLI_USAGE;
        }
    }
    const char *t = given(g, "--timeout-ms");
    static const struct option timeout = {"--timeout-ms", U32, FUNCTION, 1, 3600000};
    int rc = t ? u32_of(&timeout, t, &c->forward_timeout_ms) : CLI_OK;
    if (rc == CLI_OK)
        rc = apply_server(c, g);
    c->forward_jetstream = c->nats.jetstream;
    if (rc == CLI_OK && !c->listen && !(c->listen = strdup(SERVE_DEFAULT_LISTEN)))
        rc = CLI_LOAD;
    if (rc == CLI_OK && serve_forward_check(c, err, sizeof err) != 0) {
        cli_error("serve: %s", err);
        rc = CLI_USAGE;
    }
    return rc;
}

int serve_options_parse(int argc, char **argv, struct serve_config *c)
{
    char q[CLI_QUOTE_SHORT], err[300];
    struct given g;
    memset(&g, 0, sizeof g);
    serve_config_defaults(c);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            int rc = cli_help("serve");
            return rc == CLI_OK ? -1 : rc;
        }
        const char *eq = strchr(arg, '=');
        size_t namelen = eq && arg[0] == '-' && arg[1] == '-' ? (size_t)(eq - arg) : strlen(arg);
        size_t k = 0;
        while (k < sizeof options / sizeof options[0] &&
               !(strlen(options[k].name) == namelen && !strncmp(options[k].name, arg, namelen)))
            k++;
        if (k == sizeof options / sizeof options[0]) {
            if (arg[0] == '-')
                cli_error("serve: unknown option '%s' (see 'glint serve --help')",
                          cli_quote(arg, q, sizeof q));
            else
                cli_error("serve: unexpected operand '%s' (give the guest with --guest)",
                          cli_quote(arg, q, sizeof q));
            return CLI_USAGE;
        }
        const struct option *o = &options[k];
        if (g.set[k]) {
            cli_error("serve: %s given twice", o->name);
            return CLI_USAGE;
        }
        g.set[k] = true;
        if (o->kind == FLAG) {
            if (arg[namelen] == '=') {
                cli_error("serve: option %s takes no value", o->name);
                return CLI_USAGE;
            }
            continue;
        }
        if (arg[namelen] == '=')
            g.value[k] = arg + namelen + 1;
        else if (i + 1 < argc)
            g.value[k] = argv[++i];
        else {
            cli_error("serve: option %s needs a value", o->name);
            return CLI_USAGE;
        }
    }
    const char *guest = given(&g, "--guest"), *image = given(&g, "--image");
    const char *config = given(&g, "--config");
    if (given(&g, "--forward"))
        return forward_options(c, &g);
    if (given(&g, "--functions")) {
        cli_error("serve: --functions goes with --forward");
        return CLI_USAGE;
    }
    if (!!guest + !!image + !!config != 1) {
        cli_error("serve: give exactly one of --guest GUEST.elf, --image FILE and --config FILE "
                  "(see 'glint serve --help')");
        return CLI_USAGE;
    }
    int rc = CLI_OK;
    if (config) {
        char *text;
        size_t len;
        if ((rc = read_file(config, &text, &len)) != CLI_OK)
            return rc;
        if (serve_config_parse(text, len, c, err, sizeof err) != 0) {
            cli_error("serve: --config %s: %s", cli_quote(config, q, sizeof q), err);
            rc = CLI_USAGE;
        }
        free(text);
        for (size_t k = 0; rc == CLI_OK && k < sizeof options / sizeof options[0]; k++) {
            if (g.set[k] && options[k].scope == FUNCTION) {
                cli_error("serve: %s applies to --guest/--image; with --config set it per "
                          "function in the file",
                          options[k].name);
                rc = CLI_USAGE;
            }
        }
    } else {
        struct serve_function_config *f = serve_config_add(c, guest ? guest : image);
        if (!f) {
            cli_error("serve: out of memory");
            return CLI_LOAD;
        }
        for (size_t k = 0; rc == CLI_OK && k < sizeof options / sizeof options[0]; k++) {
            if (g.set[k] && options[k].scope == FUNCTION)
                rc = apply_function(&options[k], g.value[k], f);
        }
    }
    if (rc == CLI_OK)
        rc = apply_server(c, &g);
    /* With --nats and no --listen the worker serves NATS only (no HTTP). */
    if (rc == CLI_OK && !c->listen && !c->nats.url && !(c->listen = strdup(SERVE_DEFAULT_LISTEN)))
        rc = CLI_LOAD;
    if (rc == CLI_OK && serve_config_check(c, err, sizeof err) != 0) {
        cli_error("serve: %s", err);
        rc = CLI_USAGE;
    }
    return rc;
}
