/* libglint-rt: what a guest embedding a prebuilt glibc-ABI archive calls on the runtime layer. */
#ifndef GLINT_RT_H
#define GLINT_RT_H

/* Send what stdout/stderr hold (they go to the host's print, line by line) now: call before
 * returning from an export, so that a partial last line is not left for the next call. */
void glint_rt_flush(void);

/* Drop buffered output without sending it (after an error path that should not print). */
void glint_rt_discard(void);

#endif
