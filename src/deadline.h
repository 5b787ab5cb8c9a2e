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
 * handler installed on first use. The handler only acts on glint's own timers;
 * other deliveries merely interrupt KVM_RUN. The application must not block
 * that signal in threads that call into guests.
 */
#define GLINT__SIGNAL GLINT_SIGNAL

struct glint__deadline {
    timer_t timer;
    pid_t tid;              /* thread the timer signals; 0 = no timer yet */
    volatile uint8_t *kick; /* set when the deadline passes */
    volatile sig_atomic_t expired;
    struct glint__deadline *prev; /* deadline armed before this one on the thread */
};

/* Install the signal handler once per process. */
int glint__signal_init(void);

/* Arm: after ms milliseconds, set *kick and `expired` (and interrupt the
 * thread). Calls may nest on one thread (a host function calling another
 * sandbox): each deadline keeps working. Call on the thread running the vCPU. */
int glint__deadline_arm(struct glint__deadline *d, uint32_t ms, volatile uint8_t *kick);

/* Disarm (in reverse order of arming); afterwards no signal from this
 * deadline is outstanding. */
void glint__deadline_disarm(struct glint__deadline *d);

void glint__deadline_destroy(struct glint__deadline *d);

#endif
