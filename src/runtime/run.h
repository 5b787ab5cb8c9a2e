/* Running a sandbox's vCPU (private): the exit loop every call and the image's init go through. */
#ifndef GLINT_RUNTIME_RUN_H
#define GLINT_RUNTIME_RUN_H

#include "glint.h"

/* Run the guest until it reports a result (used for init; calls use it
 * too), under sb's timeout and interruptible by glint_sandbox_interrupt().
 * ret_type is the declared return type; ret may be NULL. */
int glint__sandbox_run(glint_sandbox *sb, glint_type ret_type, glint_value *ret);

/* A call starts (kick: the flag glint_sandbox_interrupt() sets for it) and
 * ends; glint_sandbox_interrupt() acts only between the two. Used by the
 * exit loop and by hot calls (runtime/hot.c). */
void glint__run_begin(glint_sandbox *sb, volatile uint8_t *kick);
void glint__run_end(glint_sandbox *sb, volatile uint8_t *kick);

/* A run stopped by its kick: an interrupt, this call's deadline
 * (sb->deadline.expired) or an enclosing call's stop; records the failure
 * and returns its GLINT_E*, or 0 if none of them happened (resume). */
int glint__run_stopped(glint_sandbox *sb, uint32_t timeout);

#endif
