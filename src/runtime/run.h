/* Running a sandbox's vCPU (private): the exit loop every call and the image's init go through. */
#ifndef GLINT_RUNTIME_RUN_H
#define GLINT_RUNTIME_RUN_H

#include "glint.h"

/* Run the guest until it reports a result (used for init; calls use it
 * too), under sb's timeout and interruptible by glint_sandbox_interrupt().
 * ret_type is the declared return type; ret may be NULL. */
int glint__sandbox_run(glint_sandbox *sb, glint_type ret_type, glint_value *ret);

#endif
