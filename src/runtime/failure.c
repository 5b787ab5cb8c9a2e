/* Failure records: fill a sandbox's glint_failure, poison it, and let the caller read both. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/error.h"
#include "runtime/failure.h"
#include "runtime/sandbox.h"

int glint__record(glint_sandbox *sb, int err, glint_failure_kind kind, const char *fmt, ...)
{
    glint_failure *f = &sb->failure;
    f->error = err;
    f->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    if (kind != GLINT_FAIL_USAGE && kind != GLINT_FAIL_GUEST_ERROR)
        sb->poisoned = true;
    return glint__fail(err, "%s", f->message);
}

int glint__record_hv(glint_sandbox *sb, int err)
{
    return glint__record(sb, err, GLINT_FAIL_HYPERVISOR, "%s", glint_errmsg());
}

void glint_sandbox_last_failure(const glint_sandbox *sb, glint_failure *out)
{
    if (!out)
        return;
    if (!sb) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = sb->failure;
}

bool glint_sandbox_poisoned(const glint_sandbox *sb)
{
    return sb && sb->poisoned;
}
