/* `glint call --nats URL NAME JSON_ARRAY`: one call to glint workers over NATS, its JSON answer. */
#include <errno.h>
#include <jansson.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "escape.h"
#include "json.h"
#include "nats_client.h"
#include "report.h"
#include "serve.h"

#define CALL_DEFAULT_TIMEOUT_MS 5000u
#define CALL_MAX_TIMEOUT_MS     3600000u
#define CALL_MAX_ARGS           (1u << 20) /* the HTTP API's default body limit */

struct call_args {
    const char *url, *name, *args;
    uint32_t timeout_ms;
    bool jetstream;
};

static int parse_timeout(const char *v, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-' || n < 1 || n > CALL_MAX_TIMEOUT_MS) {
        char q[CLI_QUOTE_SHORT];
        cli_error("call: --timeout-ms: '%s' is not a number 1..%u", cli_quote(v, q, sizeof q),
                  CALL_MAX_TIMEOUT_MS);
        return CLI_USAGE;
    }
    *out = (uint32_t)n;
    return CLI_OK;
}

/* Options anywhere before "--"; operands NAME and JSON_ARRAY. Returns -1 after help. */
static int parse(int argc, char **argv, struct call_args *a)
{
    char q[CLI_QUOTE_SHORT];
    const char *operands[2];
    int nops = 0;
    bool dashdash = false;
    a->timeout_ms = CALL_DEFAULT_TIMEOUT_MS;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        if (!dashdash && arg[0] == '-' && arg[1] != 0) {
            if (!strcmp(arg, "--")) {
                dashdash = true;
                continue;
            }
            if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
                int rc = cli_help("call");
                return rc == CLI_OK ? -1 : rc;
            }
            if (!strcmp(arg, "--jetstream")) {
                a->jetstream = true;
                continue;
            }
            const char *eq = strchr(arg, '=');
            size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
            bool nats = n == 6 && !strncmp(arg, "--nats", 6);
            bool timeout = n == 12 && !strncmp(arg, "--timeout-ms", 12);
            if (!nats && !timeout) {
                cli_error("call: unknown option '%s' (see 'glint call --help')",
                          cli_quote(arg, q, sizeof q));
                return CLI_USAGE;
            }
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                cli_error("call: option %s needs a value", nats ? "--nats" : "--timeout-ms");
                return CLI_USAGE;
            }
            if (nats) {
                if (a->url) {
                    cli_error("call: --nats given twice");
                    return CLI_USAGE;
                }
                a->url = value;
            } else if (parse_timeout(value, &a->timeout_ms) != CLI_OK)
                return CLI_USAGE;
            continue;
        }
        if (nops == 2) {
            cli_error("call: unexpected operand '%s' (usage: glint call --nats URL NAME "
                      "JSON_ARRAY)",
                      cli_quote(arg, q, sizeof q));
            return CLI_USAGE;
        }
        operands[nops++] = arg;
    }
    if (!a->url) {
        cli_error("call: missing --nats URL (e.g. --nats nats://127.0.0.1:4222)");
        return CLI_USAGE;
    }
    if (!nats_url_ok(a->url)) {
        cli_error(
            "call: --nats: '%s' is not a URL nats://HOST[:PORT] (or a list of them, with ',')",
            cli_quote(a->url, q, sizeof q));
        return CLI_USAGE;
    }
    if (nops < 2) {
        cli_error("call: missing %s (usage: glint call --nats URL NAME JSON_ARRAY)",
                  nops == 0 ? "NAME and JSON_ARRAY" : "JSON_ARRAY");
        return CLI_USAGE;
    }
    a->name = operands[0];
    a->args = operands[1];
    if (!nats_name_ok(a->name, strlen(a->name))) {
        cli_error("call: '%s' is not a function name (1..%d of [A-Za-z0-9_.-], no leading, "
                  "trailing or double '.')",
                  cli_quote(a->name, q, sizeof q), GLINT_NAME_MAX);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Exit status for an answer, as `glint run` has them: usage errors 2 (bad arguments, no such
 * function), guest failures and timeouts 1, what kept the call from running 3. */
static int answer_status(unsigned status)
{
    if (status == 200)
        return CLI_OK;
    if (status == 400 || status == 404 || status == 405 || status == 413)
        return CLI_USAGE;
    if (status == 422 || status == 504)
        return CLI_GUEST;
    return CLI_LOAD; /* 429 overloaded, 500, 502, 503: no worker could take it */
}

/* The "message" of an error body, for the stderr line. */
static void error_message(const char *body, size_t len, char *out, size_t size)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    const char *m = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
    snprintf(out, size, "%s", m ? m : "(no message)");
    json_decref(root);
}

int cli_call(int argc, char **argv)
{
    struct call_args a = {0};
    int rc = parse(argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    char err[300];
    char *args = NULL;
    size_t alen = strlen(a.args);
    if (alen > CALL_MAX_ARGS) {
        cli_error("call: JSON_ARRAY has %zu bytes; at most %u are accepted", alen, CALL_MAX_ARGS);
        return CLI_USAGE;
    }
    if (sj_parse_array(a.args, alen, &args, err, sizeof err) != 0) {
        cli_error("call: JSON_ARRAY: %s", err);
        return CLI_USAGE;
    }
    natsOptions *opts = NULL;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = nats_set_servers(opts, a.url);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, "glint call");
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, a.timeout_ms < 2000 ? a.timeout_ms : 2000);
    if (s == NATS_OK)
        s = natsOptions_SetAllowReconnect(opts, false);
    double start_us = cli_now_us();
    if (s == NATS_OK)
        s = natsConnection_Connect(&nc, opts);
    if (s != NATS_OK) {
        char q[CLI_QUOTE_SHORT];
        cli_error("call: cannot connect to %s: %s", cli_quote(a.url, q, sizeof q),
                  natsStatus_GetText(s));
        rc = CLI_LOAD;
        goto out;
    }
    if (a.jetstream && (s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK) {
        cli_error("call: no JetStream context: %s", natsStatus_GetText(s));
        rc = CLI_LOAD;
        goto out;
    }
    /* --timeout-ms bounds the whole wait, the connection included. */
    double spent_ms = (cli_now_us() - start_us) / 1000.0;
    uint32_t left_ms = spent_ms >= a.timeout_ms ? 1 : a.timeout_ms - (uint32_t)spent_ms;
    struct serve_reply r;
    struct nats_call_stats st;
    nats_call(nc, js, a.name, args, strlen(args), left_ms, &r, &st);
    if (!r.body) {
        cli_error("call: out of memory");
        rc = CLI_LOAD;
        goto out;
    }
    /* The answer as the worker gave it (a JSON object), on one line; on a terminal C1 controls
     * (valid UTF-8 inside JSON strings) are escaped as glint run escapes guest text. A write
     * error leaves stdout's error flag set, which main's cli_finish_stdout() reports. */
    (void)cli_write_text(stdout, r.body, r.len, cli_stdout_escapes());
    putchar('\n');
    rc = answer_status(r.status);
    if (rc != CLI_OK) {
        char msg[200];
        error_message(r.body, r.len, msg, sizeof msg);
        cli_error("call: %s: %u %s: %s", a.name, r.status, r.kind ? r.kind : "error", msg);
    }
    free(r.body);
out:
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
    nats_Close();
    free(args);
    return rc;
}
