/* Failure records (private): what a sandbox's last call reports, and when it poisons. */
#ifndef GLINT_RUNTIME_FAILURE_H
#define GLINT_RUNTIME_FAILURE_H

#include "glint.h"

/* Fill sb->failure and glint_errmsg(); poisons the sandbox unless the kind is
 * USAGE or GUEST_ERROR. Returns err. */
int glint__record(glint_sandbox *sb, int err, glint_failure_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record the hypervisor failure glint_errmsg() describes as sb's failure. */
int glint__record_hv(glint_sandbox *sb, int err);

#endif
