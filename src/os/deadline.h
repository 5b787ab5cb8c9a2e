/* Per-call deadlines: a POSIX timer signals the calling thread, which kicks the vCPU out. */
#ifndef GLINT_DEADLINE_H
#define GLINT_DEADLINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "glint.h"

/*
 * glint uses one real-time signal, GLINT_SIGNAL (SIGRTMIN + 8), with a
 * handler installed on first use. The handler only acts on glint's own timers
 * and on kicks; other deliveries merely interrupt KVM_RUN. The application
 * must not block that signal in threads that call into guests.
 *
 * Every guest run is a frame on a per-thread stack (a host function that
 * calls another sandbox pushes a frame above its caller's). A frame carries
 * its vCPU's kick flag and, if the call has a timeout, the sandbox's timer.
 * When a frame is stopped (its deadline passed, or glint_sandbox_interrupt()
 * set its kick flag and signalled the thread), the handler also stops every
 * frame above it: their flags are set and `stop` says why, so the inner runs
 * end with "an enclosing call timed out / was interrupted", their host
 * functions return, and the stopped frame's own run then ends as well.
 *
 * Timers and threads: a sandbox's timer signals one thread, so it is
 * recreated when another thread uses the sandbox. Threads are told apart by
 * a serial number taken from a process-wide counter on a thread's first
 * timed call, never by tid: the kernel reuses the tid of a thread that
 * exited, and a timer created for the dead thread would never signal the new
 * one (the deadline would silently never fire).
 */
#define GLINT__SIGNAL GLINT_SIGNAL

/* Why an enclosing frame stopped this one (glint__deadline.stop). */
enum { GLINT__STOP_NONE, GLINT__STOP_OUTER_TIMEOUT, GLINT__STOP_OUTER_INTERRUPT };

struct glint__deadline {
    timer_t timer;
    uint64_t owner;                /* serial of the thread the timer signals; 0 = no timer */
    volatile uint8_t *kick;        /* the run's kick flag; set when the run must stop */
    uint32_t ms;                   /* this call's timeout; 0: none */
    volatile sig_atomic_t expired; /* this frame's own deadline passed */
    volatile sig_atomic_t stop;    /* GLINT__STOP_*: an enclosing frame stopped */
    volatile uint32_t outer_ms;    /* ... and that frame's timeout, for the message */
    struct glint__deadline *prev;  /* frame below (enclosing call) on the thread */
};

/* Install the signal handler once per process. */
int glint__signal_init(void);

/* Push d as the thread's innermost running call, kicked through *kick; if
 * ms > 0, also arm it: after ms milliseconds set *kick and `expired` (and
 * interrupt the thread). Calls may nest on one thread (a host function
 * calling another sandbox): each deadline keeps working, and an enclosing
 * frame that is already stopped stops d at once. Call on the thread running
 * the vCPU, after clearing *kick. Makes no system call unless ms > 0
 * (timer_settime; and gettid + timer_create/timer_delete when the timer
 * must be made for this thread). */
int glint__deadline_arm(struct glint__deadline *d, uint32_t ms, volatile uint8_t *kick);

/* Disarm and pop (in reverse order of arming); afterwards no signal from
 * this deadline is outstanding. */
void glint__deadline_disarm(struct glint__deadline *d);

void glint__deadline_destroy(struct glint__deadline *d);

#endif
