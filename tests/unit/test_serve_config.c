/* Unit tests: glint serve's config file validation, --listen, status mapping, access-log and
 * metrics formats (serve/config.c, invoke.c, accesslog.c, metrics.c). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "config.h"
#include "invoke.h"
#include "metrics.h"

static void parsed(const char *text, struct serve_config *c)
{
    char err[300] = "";
    serve_config_defaults(c);
    int rc = serve_config_parse(text, strlen(text), c, err, sizeof err);
    cr_assert_eq(rc, 0, "rejected: %s", err);
}

static void rejected(const char *text, const char *msg)
{
    struct serve_config c;
    char err[300] = "";
    serve_config_defaults(&c);
    int rc = serve_config_parse(text, strlen(text), &c, err, sizeof err);
    if (rc == 0)
        rc = serve_config_check(&c, err, sizeof err);
    serve_config_free(&c);
    cr_assert_eq(rc, -1, "accepted: %s", text);
    cr_assert(strstr(err, msg), "%s: message '%s' lacks '%s'", text, err, msg);
}

Test(serve_config, full_file)
{
    struct serve_config c;
    parsed("{\"listen\": \"127.0.0.1:9000\", \"access_log\": false,"
           " \"limits\": {\"max_body\": \"64K\", \"max_connections\": 8, \"idle_timeout_s\": 2,"
           "   \"read_timeout_ms\": 500, \"drain_ms\": 0},"
           " \"functions\": ["
           "  {\"guest\": \"a.elf\", \"pool\": 3, \"wait_ms\": 5, \"queue\": 0, \"heap\": \"1M\","
           "   \"stack\": 65536, \"timeout_ms\": 0, \"budget\": 10, \"hot\": false},"
           "  {\"name\": \"g\", \"image\": \"b.gimg\", \"load\": \"s.lua\", \"handler\": \"greet\","
           "   \"hot\": true}"
           "]}",
           &c);
    char err[200];
    cr_assert_eq(serve_config_check(&c, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(c.listen, "127.0.0.1:9000");
    cr_assert_not(c.access_log);
    cr_assert_eq(c.max_body, 64 << 10);
    cr_assert_eq(c.max_connections, 8);
    cr_assert_eq(c.idle_timeout_s, 2);
    cr_assert_eq(c.read_timeout_ms, 500);
    cr_assert_eq(c.drain_ms, 0);
    cr_assert_eq(c.nfns, 2);
    cr_assert_str_eq(c.fns[0].path, "a.elf");
    cr_assert_eq(c.fns[0].pool, 3);
    cr_assert_eq(c.fns[0].wait_ms, 5);
    cr_assert_eq(c.fns[0].queue, 0);
    cr_assert_eq(c.fns[0].cfg.heap_size, 1 << 20);
    cr_assert_eq(c.fns[0].cfg.stack_size, 65536);
    cr_assert_eq(c.fns[0].cfg.budget, 10);
    cr_assert_not(c.fns[0].hot);
    cr_assert_str_eq(c.fns[1].name, "g");
    cr_assert_str_eq(c.fns[1].path, "b.gimg");
    cr_assert_str_eq(c.fns[1].load, "s.lua");
    cr_assert_str_eq(c.fns[1].handler, "greet");
    cr_assert_eq(c.fns[1].pool, 0); /* CPUs */
    cr_assert_eq(c.fns[1].wait_ms, SERVE_DEFAULT_WAIT_MS);
    cr_assert_eq(c.fns[1].queue, UINT32_MAX); /* 4 x the pool size */
    cr_assert(c.fns[1].hot);
    serve_config_free(&c);
}

Test(serve_config, every_bad_value_names_its_key)
{
    rejected("[]", "must hold a JSON object");
    rejected("{\"functions\": [", "line 1");
    rejected("{\"functions\": [], \"x\": 1}", "functions: must be an array of 1..256");
    rejected("{\"listen\": \"a\", \"x\": 1}", "unknown key \"x\"");
    rejected("{\"limits\": {}}", "functions: missing");
    rejected("{\"functions\": [1]}", "functions[0]: must be an object");
    rejected("{\"functions\": [{\"guest\": \"a\"}, {\"pool\": 1}]}",
             "functions[1]: needs \"guest\"");
    rejected("{\"functions\": [{\"guest\": \"a\", \"image\": \"b\"}]}",
             "one of \"guest\" and \"image\"");
    rejected("{\"functions\": [{\"guest\": \"\"}]}",
             "functions[0].guest: must be a non-empty string");
    rejected("{\"functions\": [{\"guest\": \"a\", \"pool\": 257}]}",
             "functions[0].pool: must be an integer 1..256");
    rejected("{\"functions\": [{\"guest\": \"a\", \"pool\": \"2\"}]}", "functions[0].pool");
    rejected("{\"functions\": [{\"guest\": \"a\", \"wait_ms\": -1}]}", "functions[0].wait_ms");
    rejected("{\"functions\": [{\"guest\": \"a\", \"queue\": 5000}]}", "functions[0].queue");
    rejected("{\"functions\": [{\"guest\": \"a\", \"heap\": \"1T\"}]}", "functions[0].heap");
    rejected("{\"functions\": [{\"guest\": \"a\", \"stack\": 4096}]}",
             "functions[0].stack: 4096 bytes is out of range");
    rejected("{\"functions\": [{\"guest\": \"a\", \"input_size\": true}]}",
             "functions[0].input_size: must be a size");
    rejected("{\"functions\": [{\"guest\": \"a\", \"hot\": 1}]}",
             "functions[0].hot: must be true or false");
    rejected("{\"functions\": [{\"guest\": \"a\", \"colour\": 1}]}",
             "functions[0]: unknown key \"colour\"");
    rejected("{\"functions\": [{\"guest\": \"a\", \"export\": \"E\", \"handler\": \"h\"}]}",
             "not both");
    rejected("{\"functions\": [{\"guest\": \"a\", \"name\": \"n\"}]}",
             "functions[0].name: a name needs");
    rejected("{\"functions\": [{\"guest\": \"a\", \"export\": \"a/b\"}]}", "served name 'a/b'");
    rejected("{\"functions\": [{\"guest\": \"a\", \"pool\": 1, \"pool\": 2}]}", "duplicate");
    rejected("{\"limits\": {\"max_body\": 0}, \"functions\": [{\"guest\": \"a\"}]}",
             "limits.max_body");
    rejected("{\"limits\": {\"max_body\": \"2G\"}, \"functions\": [{\"guest\": \"a\"}]}",
             "limits.max_body: at most 1G");
    rejected("{\"limits\": {\"idle_timeout_s\": 0}, \"functions\": [{\"guest\": \"a\"}]}",
             "limits.idle_timeout_s");
    rejected("{\"limits\": {\"spare\": 0}, \"functions\": [{\"guest\": \"a\"}]}",
             "limits: unknown key \"spare\"");
    rejected("{\"access_log\": \"yes\", \"functions\": [{\"guest\": \"a\"}]}",
             "access_log: must be true or false");
}

Test(serve_config, listen_addresses)
{
    char host[64], err[200];
    uint16_t port;
    cr_assert_eq(serve_parse_listen("127.0.0.1:8080", host, sizeof host, &port, err, sizeof err),
                 0);
    cr_assert_str_eq(host, "127.0.0.1");
    cr_assert_eq(port, 8080);
    cr_assert_eq(serve_parse_listen("[::1]:0", host, sizeof host, &port, err, sizeof err), 0);
    cr_assert_str_eq(host, "::1");
    cr_assert_eq(port, 0);
    cr_assert_eq(serve_parse_listen("localhost:80", host, sizeof host, &port, err, sizeof err), 0);
    cr_assert_str_eq(host, "127.0.0.1");
    static const char *bad[] = {"8080",   ":80",     "127.0.0.1:", "127.0.0.1:65536", "host:80",
                                "::1:80", "[::1:80", "1.2.3.4:8x", "1.2.3.4:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(serve_parse_listen(bad[i], host, sizeof host, &port, err, sizeof err), -1,
                     "%s accepted", bad[i]);
}

Test(serve_status, every_failure_kind_has_its_status)
{
    const char *k;
    cr_assert_eq(serve_failure_status(GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR, &k), 422);
    cr_assert_str_eq(k, "guest_error");
    cr_assert_eq(serve_failure_status(GLINT_EABORT, GLINT_FAIL_ABORT, &k), 422);
    cr_assert_eq(serve_failure_status(GLINT_EFAULT, GLINT_FAIL_FAULT, &k), 422);
    cr_assert_str_eq(k, "fault");
    cr_assert_eq(serve_failure_status(GLINT_EFAULT, GLINT_FAIL_TRIPLE_FAULT, &k), 422);
    cr_assert_eq(serve_failure_status(GLINT_EPROTO, GLINT_FAIL_PROTOCOL, &k), 422);
    cr_assert_eq(serve_failure_status(GLINT_EBUDGET, GLINT_FAIL_BUDGET, &k), 422);
    cr_assert_eq(serve_failure_status(GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT, &k), 504);
    cr_assert_str_eq(k, "timeout");
    cr_assert_eq(serve_failure_status(GLINT_EHV, GLINT_FAIL_HYPERVISOR, &k), 500);
    cr_assert_str_eq(k, "hypervisor");
    cr_assert_eq(serve_failure_status(GLINT_EINTR, GLINT_FAIL_INTERRUPTED, &k), 503);
    cr_assert_eq(serve_failure_status(GLINT_EBUSY, GLINT_FAIL_NONE, &k), 429);
    cr_assert_str_eq(k, "busy");
    cr_assert_eq(serve_failure_status(GLINT_ESIG, GLINT_FAIL_USAGE, &k), 400);
    cr_assert_eq(serve_failure_status(GLINT_ETOOBIG, GLINT_FAIL_USAGE, &k), 400);
    cr_assert_str_eq(k, "bad_arguments");
    cr_assert_eq(serve_failure_status(GLINT_ENOMEM, GLINT_FAIL_NONE, &k), 500);
    cr_assert_str_eq(k, "internal");
}

Test(serve_accesslog, client_text_is_escaped)
{
    struct serve_access a = {.remote = "127.0.0.1:5",
                             .method = "POST",
                             .path = "/v1/functions/x\x1b[31m \"q\"\n",
                             .status = 200,
                             .function = "x",
                             .bytes_in = 3,
                             .bytes_out = 4,
                             .us = 5};
    char buf[512];
    size_t n = serve_access_format(&a, buf, sizeof buf);
    cr_assert_eq(n, strlen(buf));
    cr_assert_eq(buf[n - 1], '\n');
    cr_assert_null(memchr(buf, 0x1b, n));
    cr_assert_null(memchr(buf, '\n', n - 1));
    cr_assert(strstr(buf, " path=\"/v1/functions/x\\x1b[31m \\x22q\\x22\\x0a\" status=200 "
                          "function=x kind=- in=3 out=4 us=5\n"),
              "%s", buf);
    cr_assert_eq(strncmp(buf, "ts=", 3), 0);
    char tiny[40];
    n = serve_access_format(&a, tiny, sizeof tiny);
    cr_assert_eq(n, sizeof tiny - 1);
    cr_assert_eq(tiny[n - 1], '\n');
}

Test(serve_metrics, families_are_grouped_and_counted)
{
    static struct serve_metrics a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    serve_metrics_request(&a, 200, 40);
    serve_metrics_request(&a, 200, 3000);
    serve_metrics_request(&a, 429, 10);
    serve_metrics_request(&a, 299, 10);
    serve_metrics_call(&a, GLINT_FAIL_FAULT);
    serve_metrics_request(&b, 404, 20000000);
    struct serve_metrics_view v[] = {{"A", &a, 1, 2, 1, 4, 1, 5, 1},
                                     {"-", &b, 0, 0, 0, 0, 0, 0, 0}};
    size_t len;
    char *text = serve_metrics_text(v, 2, &len);
    cr_assert_not_null(text);
    cr_assert_eq(len, strlen(text));
    cr_assert(strstr(text, "glint_requests_total{function=\"A\",status=\"200\"} 2\n"));
    cr_assert(strstr(text, "glint_requests_total{function=\"A\",status=\"429\"} 1\n"));
    cr_assert(strstr(text, "glint_requests_total{function=\"A\",status=\"other\"} 1\n"));
    cr_assert(strstr(text, "glint_requests_total{function=\"-\",status=\"404\"} 1\n"));
    cr_assert(strstr(text, "glint_failures_total{function=\"A\",kind=\"fault\"} 1\n"));
    cr_assert(
        strstr(text, "glint_request_duration_seconds_bucket{function=\"A\",le=\"0.00005\"} 3\n"));
    cr_assert(
        strstr(text, "glint_request_duration_seconds_bucket{function=\"A\",le=\"0.005\"} 4\n"));
    cr_assert(strstr(text, "glint_request_duration_seconds_bucket{function=\"-\",le=\"5\"} 0\n"));
    cr_assert(
        strstr(text, "glint_request_duration_seconds_bucket{function=\"-\",le=\"+Inf\"} 1\n"));
    cr_assert(strstr(text, "glint_request_duration_seconds_count{function=\"A\"} 4\n"));
    cr_assert(strstr(text, "glint_calls_total{function=\"A\",mode=\"exit\"} 1\n"));
    cr_assert(strstr(text, "glint_calls_total{function=\"A\",mode=\"hot\"} 5\n"));
    cr_assert(strstr(text, "glint_restores_total{function=\"A\"} 1\n"));
    cr_assert(strstr(text, "glint_pool_sandboxes{function=\"A\",state=\"ready\"} 2\n"));
    cr_assert(strstr(text, "glint_pool_sandboxes{function=\"A\",state=\"busy\"} 1\n"));
    cr_assert(strstr(text, "glint_pool_sandboxes{function=\"A\",state=\"hot\"} 1\n"));
    cr_assert_null(strstr(text, "glint_pool_sandboxes{function=\"-\""));
    /* Every family's samples are contiguous: a family's name never reappears after another's. */
    const char *families[] = {"glint_requests_total{",           "glint_failures_total{",
                              "glint_request_duration_seconds_", "glint_calls_total{",
                              "glint_restores_total{",           "glint_pool_sandboxes{"};
    const char *prev_last = text;
    for (size_t f = 0; f < 6; f++) {
        const char *first = strstr(text, families[f]), *last = first;
        cr_assert_not_null(first, "%s missing", families[f]);
        cr_assert(first >= prev_last, "%s interleaved", families[f]);
        for (const char *p = first; (p = strstr(p + 1, families[f]));)
            last = p;
        prev_last = last;
    }
    free(text);
}

Test(serve_config, nats_keys)
{
    struct serve_config c;
    parsed("{\"nats\": {\"url\": \"nats://10.0.0.1:4222\", \"jetstream\": true,"
           " \"stream\": \"JOBS\", \"consumer\": \"w1\", \"ack_wait_ms\": 5000,"
           " \"max_ack_pending\": 64, \"reconnect_wait_ms\": 250},"
           " \"functions\": [{\"guest\": \"a.elf\"}]}",
           &c);
    cr_assert_str_eq(c.nats.url, "nats://10.0.0.1:4222");
    cr_assert(c.nats.jetstream);
    cr_assert_str_eq(c.nats.stream, "JOBS");
    cr_assert_str_eq(c.nats.consumer, "w1");
    cr_assert_eq(c.nats.ack_wait_ms, 5000);
    cr_assert_eq(c.nats.max_ack_pending, 64);
    cr_assert_eq(c.nats.reconnect_wait_ms, 250);
    cr_assert_null(c.listen, "no HTTP unless listen is given");
    serve_config_free(&c);
    serve_config_defaults(&c);
    cr_assert_eq(c.nats.ack_wait_ms, SERVE_DEFAULT_ACK_WAIT_MS);
    cr_assert_null(c.nats.url);
    serve_config_free(&c);
}

Test(serve_config, bad_nats_values_name_their_key)
{
    rejected("{\"nats\": [], \"functions\": [{\"guest\": \"a\"}]}", "nats: must be an object");
    rejected("{\"nats\": {\"urls\": \"x\"}, \"functions\": [{\"guest\": \"a\"}]}",
             "nats: unknown key \"urls\"");
    rejected("{\"nats\": {\"url\": 4}, \"functions\": [{\"guest\": \"a\"}]}", "nats.url");
    rejected("{\"nats\": {\"jetstream\": 1}, \"functions\": [{\"guest\": \"a\"}]}",
             "nats.jetstream: must be true or false");
    rejected("{\"nats\": {\"ack_wait_ms\": 5}, \"functions\": [{\"guest\": \"a\"}]}",
             "nats.ack_wait_ms");
    rejected("{\"nats\": {\"max_ack_pending\": 0}, \"functions\": [{\"guest\": \"a\"}]}",
             "nats.max_ack_pending");
}
