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

/* Decode the RESULT message in buf (cap bytes: the output buffer of a
 * stopped guest, or a hot call's copy of it) as hostile input into *ret
 * (may be NULL); a string/bytes result is copied into sb. Returns 0 or the
 * recorded failure's GLINT_E* (a guest error, or a protocol error). */
int glint__finish_result(glint_sandbox *sb, const uint8_t *buf, uint32_t cap, glint_type ret_type,
                         glint_value *ret);

/* Record the failure an exit other than I/O or an interrupt means (triple
 * fault, access outside memory, failed entry, ...); returns its GLINT_E*. */
int glint__report_exit(glint_sandbox *sb, const struct glint__exit *ex);

#endif
