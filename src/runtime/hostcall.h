/* Host calls (private): serve the request a guest left in its output buffer. */
#ifndef GLINT_RUNTIME_HOSTCALL_H
#define GLINT_RUNTIME_HOSTCALL_H

#include "glint.h"

/* Serve the host call the guest left in its output buffer: validate,
 * dispatch, reply. Returns 0 (the guest may resume) or a poisoning
 * GLINT_EPROTO. */
int glint__handle_hostcall(glint_sandbox *sb);

#endif
