/* Exit handling (private): what each kind of VM exit means for the call that was running. */
#ifndef GLINT_RUNTIME_EXITS_H
#define GLINT_RUNTIME_EXITS_H

#include <stdbool.h>

#include "glint.h"
#include "hv/hv.h"

/* Handle a port I/O exit: a result (decoded into *ret as ret_type, which
 * may be NULL), a host call (served; the guest may resume), an abort or a
 * fault report. Sets *done when the call is over. Returns 0 or the
 * recorded failure's GLINT_E*. */
int glint__handle_io(glint_sandbox *sb, const struct glint__exit *ex, glint_type ret_type,
                     glint_value *ret, bool *done);

/* Record the failure an exit other than I/O or an interrupt means (triple
 * fault, access outside memory, failed entry, ...); returns its GLINT_E*. */
int glint__report_exit(glint_sandbox *sb, const struct glint__exit *ex);

#endif
