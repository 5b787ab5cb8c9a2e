/* Guest calls: check a call against the export's signature, write its arguments, run it. */
#include <string.h>

#include "codec.h"
#include "runtime/error.h"
#include "runtime/exports.h"
#include "runtime/failure.h"
#include "runtime/hot.h"
#include "runtime/image.h"
#include "runtime/restore.h"
#include "runtime/run.h"
#include "runtime/sandbox.h"
#include "runtime/values.h"

/* May sb start a call? Busy and poisoned sandboxes keep their failure
 * record for the caller to inspect; otherwise it is cleared. */
static int check_ready(glint_sandbox *sb)
{
    if (sb->in_call)
        return glint__fail(GLINT_EBUSY, "sandbox is already running a call");
    if (sb->poisoned)
        return glint__fail(GLINT_EPOISONED, "sandbox is poisoned by an earlier %s: %s",
                           glint_failure_kind_name(sb->failure.kind), sb->failure.message);
    memset(&sb->failure, 0, sizeof sb->failure);
    return 0;
}

/* The export a call by index names, if the call's shape fits it. */
static int find_export(glint_sandbox *sb, size_t index, const glint_value *args, size_t nargs,
                       const struct glint__export **out)
{
    if (nargs && !args)
        return glint__record(sb, GLINT_EINVAL, GLINT_FAIL_USAGE,
                             "glint_sandbox_call: %zu arguments but args is NULL", nargs);
    const glint_exports *ex = glint__image_view(sb->img).exports;
    if (index >= ex->count)
        return glint__record(sb, GLINT_ENOFUNC, GLINT_FAIL_USAGE,
                             "no exported function with index %zu", index);
    const struct glint__export *e = &ex->e[index];
    if (nargs != e->nparams)
        return glint__record(sb, GLINT_ESIG, GLINT_FAIL_USAGE, "%s takes %zu arguments, got %zu",
                             e->name, e->nparams, nargs);
    *out = e;
    return 0;
}

/* Check every argument against e's signature and the input buffer before
 * anything is written: a call refused halfway must leave no argument in
 * guest memory. Sets *size to the CALL message's size. */
static int check_args(glint_sandbox *sb, const struct glint__export *e, const glint_value *args,
                      size_t nargs, uint64_t *size)
{
    const struct glint__layout *l = glint__image_layout(sb->img);
    uint64_t need = sizeof(struct glint_abi_msg);
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].type != e->params[i])
            return glint__record(sb, GLINT_ESIG, GLINT_FAIL_USAGE,
                                 "argument %zu of %s must be %s, not %s", i + 1, e->name,
                                 glint_type_name(e->params[i]), glint_type_name(args[i].type));
        const char *bad = glint__check_value(&args[i], l->input_size);
        if (bad)
            return glint__record(sb, bad == glint__too_long ? GLINT_ETOOBIG : GLINT_EINVAL,
                                 GLINT_FAIL_USAGE, "argument %zu of %s: %s", i + 1, e->name, bad);
        glint__cval c = glint__to_cval(&args[i]);
        int slen = glint__scalar_len(c.type);
        need += glint__value_wire_size(c.type, slen > 0 ? (uint64_t)slen : c.len);
    }
    if (need > (l->input_size & ~(uint64_t)7))
        return glint__record(sb, GLINT_ETOOBIG, GLINT_FAIL_USAGE,
                             "arguments of %s take %llu bytes and do not fit the %llu-byte input "
                             "buffer",
                             e->name, (unsigned long long)need, (unsigned long long)l->input_size);
    *size = need;
    return 0;
}

/* The call's budget into the boot page, if it differs from what is there
 * (restore puts the image's value back: the page is accounted first). */
static void write_budget(glint_sandbox *sb)
{
    uint64_t at = GLINT_ABI_BOOT_ADDR + offsetof(struct glint_abi_boot, budget), cur;
    memcpy(&cur, sb->mem + at, sizeof cur);
    if (cur == sb->budget)
        return;
    glint__mark_host_dirty(sb, at, sizeof cur);
    memcpy(sb->mem + at, &sb->budget, sizeof cur);
}

/* An exit-mode call: call_seq = call_seen + 1 in the mailbox, so that the
 * guest, resumed at its `out`, knows a new call is in the input buffer
 * (glint/abi.h). call_seen is the guest's: a wrong one only stops the guest
 * from taking its own call. */
static void bump_call_seq(glint_sandbox *sb)
{
    uint64_t at = GLINT_ABI_HOT_ADDR + offsetof(struct glint_abi_hot, call_seq), seen;
    memcpy(&seen, sb->mem + GLINT_ABI_HOT_ADDR + offsetof(struct glint_abi_hot, call_seen),
           sizeof seen);
    uint64_t v = seen + 1;
    glint__mark_host_dirty(sb, at, sizeof v);
    memcpy(sb->mem + at, &v, sizeof v);
}

/* Write the CALL message (size bytes, checked to fit) into the input buffer. */
static int write_args(glint_sandbox *sb, size_t index, const struct glint__export *e,
                      const glint_value *args, size_t nargs, uint64_t size)
{
    /* Everything is known to fit: account exactly the bytes about to be
     * written, so that restore copies them back whatever happens next. */
    const struct glint__layout *l = glint__image_layout(sb->img);
    glint__mark_host_dirty(sb, l->input_addr, size);
    write_budget(sb);
    if (!sb->hot)
        bump_call_seq(sb);
    glint__writer w;
    glint__msg_begin(&w, sb->mem + l->input_addr, (uint32_t)l->input_size, GLINT_ABI_MSG_CALL,
                     (uint8_t)e->ret, (int32_t)index, NULL, 0);
    for (size_t i = 0; i < nargs; i++) {
        glint__cval c = glint__to_cval(&args[i]);
        glint__msg_put(&w, &c);
    }
    if (glint__msg_end(&w) != (int64_t)size) /* cannot happen: sizes were checked */
        return glint__record(sb, GLINT_ETOOBIG, GLINT_FAIL_USAGE,
                             "arguments of %s do not fit the %llu-byte input buffer", e->name,
                             (unsigned long long)l->input_size);
    return 0;
}

int glint_sandbox_call_index(glint_sandbox *sb, size_t index, const glint_value *args, size_t nargs,
                             glint_value *ret)
{
    if (!sb)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_call: NULL sandbox");
    const struct glint__export *e = NULL;
    uint64_t size = 0;
    int rc;
    if ((rc = check_ready(sb)) || (rc = find_export(sb, index, args, nargs, &e)) ||
        (rc = check_args(sb, e, args, nargs, &size)) ||
        (rc = write_args(sb, index, e, args, nargs, size)))
        return rc;
    return sb->hot ? glint__hot_call(sb, e->ret, ret) : glint__sandbox_run(sb, e->ret, ret);
}

int glint_sandbox_call(glint_sandbox *sb, const char *name, const glint_value *args, size_t nargs,
                       glint_value *ret)
{
    if (!sb || !name)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_call: NULL argument");
    long i = glint__exports_index(glint__image_view(sb->img).exports, name);
    if (i < 0) {
        int rc = check_ready(sb);
        return rc ? rc
                  : glint__record(sb, GLINT_ENOFUNC, GLINT_FAIL_USAGE,
                                  "the guest exports no function named '%.80s'", name);
    }
    return glint_sandbox_call_index(sb, (size_t)i, args, nargs, ret);
}
