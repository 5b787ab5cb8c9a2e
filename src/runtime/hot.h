/* Hot mode (private): calls through the mailbox page to a guest a vCPU thread keeps running. */
#ifndef GLINT_RUNTIME_HOT_H
#define GLINT_RUNTIME_HOT_H

#include <stdbool.h>

#include "glint.h"

/*
 * A hot sandbox (sb->hot non-NULL) has a vCPU thread that keeps the guest
 * in KVM_RUN; the guest spins on the mailbox (glint/abi.h, docs/abi.md).
 * Every function here is called by the sandbox's owner thread (the one
 * making calls), never concurrently with a call; glint_sandbox_interrupt()
 * reaches a hot call through its kick flag (runtime/run.c).
 *
 * Threads: the vCPU thread only runs KVM_RUN and forwards every exit that is
 * not a park; the owner thread handles each forwarded exit with the same
 * code as exit mode (results, host calls, aborts, faults, unexpected exits),
 * so host functions run on the calling thread, inside its frame of the
 * per-thread deadline stack (os/deadline.h).
 */

/* The call whose CALL message is in the input buffer: publish it, poll for
 * the result under sb's timeout, copy the result out once and validate it.
 * Fails like glint__sandbox_run, with the same error kinds. */
int glint__hot_call(glint_sandbox *sb, glint_type ret_type, glint_value *ret);

/* Bring the guest of a hot sandbox to rest at its park `out` with hot mode
 * off in the mailbox (for snapshot and derive: its state is then an
 * exit-mode state). Returns 0, or GLINT_EPROTO (recorded, sb poisoned) if
 * the guest did not park in time and had to be kicked out. No-op in exit
 * mode. */
int glint__hot_pause(glint_sandbox *sb);

/* Stop the vCPU wherever the guest is (for restore, which replaces its
 * state). No-op in exit mode. */
void glint__hot_halt(glint_sandbox *sb);

/* After glint__hot_pause / glint__hot_halt (and the restore in between):
 * arm the mailbox again and let the vCPU thread re-enter. No-op in exit
 * mode, and while sb is poisoned (the restore that clears it resumes). */
void glint__hot_resume(glint_sandbox *sb);

/* Stop hot mode for good (sandbox destruction): halt, end the vCPU thread,
 * free its state, release the admission slot. No-op in exit mode. */
void glint__hot_destroy(glint_sandbox *sb);

/* ---- isolated hot calls (pools) ----------------------------------------------
 * The pool makes some of its sandboxes hot with glint__hot_enable_isolated:
 * their guest parks right after each result, and glint__hot_release (after
 * a call that succeeded) has the vCPU thread restore the sandbox to its image
 * off the caller's path. A sandbox is never used again before that restore
 * finished: glint__hot_ready says whether it has. */

/* Hot mode for isolated calls (window up to max_spin_us while waiting for a
 * call). Fails like glint_sandbox_set_hot (GLINT_EBUSY when admission
 * refuses: the sandbox stays in exit mode). */
int glint__hot_enable_isolated(glint_sandbox *sb, uint32_t max_spin_us);

/* After a successful isolated call: restore in the background. */
void glint__hot_release(glint_sandbox *sb);

/* 1: the sandbox may be used (exit mode, or hot and restored); 0: its
 * restore is still running; negative: its restore failed (GLINT_E*, message
 * in glint_errmsg()), and it must be destroyed. */
int glint__hot_ready(glint_sandbox *sb);

#endif
