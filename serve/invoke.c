/* One function call of glint serve: body to arguments, admission, pooled call, status mapping. */
#include "invoke.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void serve_reply_error(struct serve_reply *r, unsigned status, const char *kind, const char *fmt,
                       ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(r->body);
    r->status = status;
    r->kind = kind;
    r->body = sj_error(kind, msg, &r->len);
}

unsigned serve_failure_status(int err, glint_failure_kind kind, const char **kind_name)
{
    static const struct {
        unsigned status;
        const char *name;
    } by_kind[] = {
        [GLINT_FAIL_GUEST_ERROR] = {422, "guest_error"},
        [GLINT_FAIL_ABORT] = {422, "abort"},
        [GLINT_FAIL_FAULT] = {422, "fault"},
        [GLINT_FAIL_TRIPLE_FAULT] = {422, "triple_fault"},
        [GLINT_FAIL_PROTOCOL] = {422, "protocol"},
        [GLINT_FAIL_BUDGET] = {422, "budget"},
        [GLINT_FAIL_TIMEOUT] = {504, "timeout"},
        [GLINT_FAIL_HYPERVISOR] = {500, "hypervisor"},
        [GLINT_FAIL_INTERRUPTED] = {503, "interrupted"},
    };
    if ((unsigned)kind < sizeof by_kind / sizeof by_kind[0] && by_kind[kind].name) {
        *kind_name = by_kind[kind].name;
        return by_kind[kind].status;
    }
    /* No guest failure: the pool's own answer, or a usage error. */
    if (err == GLINT_EBUSY) {
        *kind_name = "busy";
        return 429;
    }
    if (err == GLINT_ESIG || err == GLINT_ETOOBIG || err == GLINT_EINVAL) {
        *kind_name = "bad_arguments";
        return 400;
    }
    *kind_name = "internal";
    return 500;
}

/* The reply of a failed pool call. */
static void call_failed(struct serve_fn *f, int err, const glint_failure *fl, struct serve_reply *r)
{
    const char *msg = fl->message[0] ? fl->message : glint_errmsg();
    const char *kind;
    unsigned status = serve_failure_status(err, fl->kind, &kind);
    if (status == 429) {
        r->retry_after_s = 1;
        serve_reply_error(r, 429, kind, "%s: no sandbox became free within the wait bound",
                          f->name);
    } else if (status == 500 && fl->kind != GLINT_FAIL_HYPERVISOR) {
        serve_reply_error(r, 500, kind, "%s: %s: %s", f->name, glint_strerror(err), msg);
    } else {
        serve_reply_error(r, status, kind, "%s: %s", f->name, msg);
    }
}

/* The call itself, once admitted. */
static void call(struct serve_fn *f, const char *body, size_t len, struct serve_reply *r)
{
    char err[300];
    glint_value args[2];
    struct sj_args parsed;
    char *json_args = NULL;
    const glint_value *argv;
    size_t argc;
    memset(&parsed, 0, sizeof parsed);
    if (f->handler) {
        if (sj_parse_array(body, len, &json_args, err, sizeof err) != 0) {
            serve_reply_error(r, 400, "malformed_json", "%s", err);
            return;
        }
        args[0] = glint_string(f->handler);
        args[1] = glint_string(json_args);
        argv = args;
        argc = 2;
    } else {
        int prc = sj_parse_args(body, len, &f->info, &parsed, err, sizeof err);
        if (prc != 0) {
            /* Bad JSON and a wrong signature are both 400s; the kind tells which. */
            serve_reply_error(r, 400, prc == SJ_MALFORMED ? "malformed_json" : "bad_arguments",
                              "%s", err);
            return;
        }
        argv = parsed.v;
        argc = parsed.n;
    }
    glint_value ret;
    glint_failure fl;
    memset(&ret, 0, sizeof ret);
    memset(&fl, 0, sizeof fl);
    atomic_fetch_add(&f->pool->busy, 1);
    int rc = glint_pool_call(f->pool->pool, f->export_name, argv, argc, &ret, &fl);
    atomic_fetch_sub(&f->pool->busy, 1);
    fl.message[sizeof fl.message - 1] = 0;
    if (!(rc == GLINT_EBUSY && fl.kind == GLINT_FAIL_NONE) && fl.kind != GLINT_FAIL_USAGE)
        serve_metrics_call(&f->metrics, fl.kind);
    free(json_args);
    sj_args_free(&parsed);
    if (rc != 0) {
        call_failed(f, rc, &fl, r);
        return;
    }
    r->status = 200;
    r->kind = NULL;
    if (f->handler)
        r->body = sj_result_json(ret.as.str.ptr, ret.as.str.len, &r->len, err, sizeof err);
    else
        r->body = sj_result(&ret, &r->len);
    if (!r->body && f->handler)
        serve_reply_error(r, 422, "guest_error", "%s: the handler returned no JSON value: %s",
                          f->name, err);
    else if (!r->body)
        serve_reply_error(r, 500, "internal", "%s: cannot encode the result", f->name);
}

void serve_invoke(struct serve_fn *f, const char *body, size_t len, struct serve_reply *r)
{
    memset(r, 0, sizeof *r);
    /* Admission: at most limit requests in a call or waiting for a sandbox; the rest get an
     * immediate 429, so that waiting requests never pile up. */
    unsigned admitted = atomic_fetch_add(&f->pool->admitted, 1);
    if (admitted >= f->pool->limit) {
        atomic_fetch_sub(&f->pool->admitted, 1);
        r->retry_after_s = 1;
        serve_reply_error(r, 429, "busy", "%s: %u requests are already running or waiting", f->name,
                          f->pool->limit);
        return;
    }
    call(f, body, len, r);
    atomic_fetch_sub(&f->pool->admitted, 1);
}
