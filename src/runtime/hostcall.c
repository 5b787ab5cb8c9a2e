/* Host calls from a guest: validate the request, check the registry, dispatch, reply. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "runtime/failure.h"
#include "runtime/hostcall.h"
#include "runtime/hostfns.h"
#include "runtime/restore.h"
#include "runtime/sandbox.h"
#include "runtime/values.h"

/* Write a HOSTRESULT of `type` and `status` with at most one value into the
 * output buffer. The caller has checked that it fits. The bytes are
 * accounted as host-written before they are written. */
static void write_reply(glint_sandbox *sb, uint8_t type, int32_t status, const glint__cval *v)
{
    uint64_t size = sizeof(struct glint_abi_msg);
    if (v) {
        int slen = glint__scalar_len(v->type);
        size += glint__value_wire_size(v->type, slen > 0 ? (uint64_t)slen : v->len);
    }
    glint__mark_host_dirty(sb, sb->output_addr, size);
    glint__writer w;
    glint__msg_begin(&w, glint__output_buf(sb), glint__output_cap(sb), GLINT_ABI_MSG_HOSTRESULT,
                     type, status, NULL, 0);
    if (v)
        glint__msg_put(&w, v);
    glint__msg_end(&w);
}

/* Write a HOSTRESULT carrying an error message for the guest. */
static void reply_error(glint_sandbox *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reply_error(glint_sandbox *sb, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    glint__cval v = {.type = GLINT_ABI_STRING, .ptr = msg, .len = (uint32_t)strlen(msg)};
    write_reply(sb, 0, -1, &v); /* < 300 bytes; the output buffer has at least 4 KiB */
}

/* Reply with r, or with an error if r is not a valid value that fits. */
static void reply_value(glint_sandbox *sb, const char *name, glint_type type, const glint_value *r)
{
    if (type == GLINT_VOID) {
        write_reply(sb, (uint8_t)type, 0, NULL);
        return;
    }
    const char *bad = glint__check_value(r, glint__output_cap(sb));
    if (bad) {
        reply_error(sb, "host function '%s' returned a bad value: %s", name, bad);
        return;
    }
    glint__cval c = glint__to_cval(r);
    int slen = glint__scalar_len(c.type);
    uint64_t size = sizeof(struct glint_abi_msg) +
                    glint__value_wire_size(c.type, slen > 0 ? (uint64_t)slen : c.len);
    if (size > (glint__output_cap(sb) & ~7u)) {
        reply_error(sb,
                    "result of host function '%s' (%llu bytes) does not fit the %u-byte output "
                    "buffer",
                    name, (unsigned long long)size, glint__output_cap(sb));
        return;
    }
    write_reply(sb, (uint8_t)type, 0, &c);
}

/* glint.signature(name): the text form of the signature of `name` in this sandbox's registry,
 * or an error reply naming it (only names the guest could call anyway are revealed). */
static void reply_signature(glint_sandbox *sb, const char *name, size_t len)
{
    const struct glint__host_fn *target = glint__host_fns_find(sb->fns, name, len);
    if (!target) {
        reply_error(sb, "no host function '%.*s' is registered for this sandbox",
                    (int)(len > GLINT_NAME_MAX ? GLINT_NAME_MAX : len), name);
        return;
    }
    char text[GLINT__SIG_TEXT_MAX];
    glint__host_fn_signature_text(target, text, sizeof text);
    glint_value v = glint_string(text);
    reply_value(sb, "glint.signature", GLINT_STRING, &v);
}

/* Free a string/bytes result handed over with GLINT_VALUE_FREE, whatever
 * became of the call (see glint.h). */
static void free_result(glint_value *r)
{
    if (!(r->flags & GLINT_VALUE_FREE))
        return;
    if (r->type == GLINT_STRING)
        free((void *)(uintptr_t)r->as.str.ptr);
    else if (r->type == GLINT_BYTES)
        free((void *)(uintptr_t)r->as.bytes.ptr);
}

/* The guest asked for a host function: validate, dispatch, reply. A
 * malformed request is a protocol violation; a request for something not
 * allowed is an error the guest sees. */
int glint__handle_hostcall(glint_sandbox *sb)
{
    glint__msg m;
    const char *why;
    if (glint__msg_decode(glint__output_buf(sb), glint__output_cap(sb), &m, &why) != 0)
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                             "malformed host call request: %s", why);
    if (m.kind != GLINT_ABI_MSG_HOSTCALL)
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                             "host call exit with a message of kind %u", m.kind);
    const struct glint__host_fn *fn = glint__host_fns_find(sb->fns, m.name, m.name_len);
    if (!fn) {
        reply_error(sb, "no host function '%s' is registered for this sandbox", m.name);
        return 0;
    }
    glint_value args[GLINT_MAX_PARAMS];
    bool match = m.count == fn->nparams && m.type == fn->ret;
    for (size_t i = 0; i < m.count && match; i++) {
        args[i] = glint__from_cval(&m.vals[i]);
        match = args[i].type == fn->params[i];
    }
    if (!match) {
        char want[200], got[200];
        glint_type types[GLINT_MAX_PARAMS];
        for (size_t i = 0; i < m.count; i++)
            types[i] = (glint_type)m.vals[i].type;
        glint__sig_to_string(want, sizeof want, fn->ret, fn->params, fn->nparams);
        glint__sig_to_string(got, sizeof got, (glint_type)m.type, types, m.count);
        reply_error(sb, "host function '%s' has signature %s, called as %s", fn->name, want, got);
        return 0;
    }
    if (fn->builtin == GLINT__BUILTIN_PRINT) {
        if (sb->fns->print)
            sb->fns->print(sb->fns->print_user, args[0].as.str.ptr, args[0].as.str.len);
        reply_value(sb, fn->name, GLINT_VOID, NULL);
        return 0;
    }
    if (fn->builtin == GLINT__BUILTIN_SIGNATURE) {
        reply_signature(sb, args[0].as.str.ptr, args[0].as.str.len);
        return 0;
    }
    glint_value r;
    memset(&r, 0, sizeof r);
    r.type = fn->ret;
    int rc = fn->fn(fn->user, args, m.count, &r);
    if (rc != 0)
        reply_error(sb, "host function '%s' failed with code %d", fn->name, rc);
    else if (r.type != fn->ret)
        reply_error(sb, "host function '%s' returned %s, declared %s", fn->name,
                    glint_type_name(r.type), glint_type_name(fn->ret));
    else
        reply_value(sb, fn->name, fn->ret, &r);
    free_result(&r);
    return 0;
}
