/* Per-call deadlines: a POSIX timer signals the calling thread, which kicks the vCPU out. */
#ifndef GLINT_DEADLINE_H
#define GLINT_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/*
 * glint uses one real-time signal, GLINT_SIGNAL (SIGRTMIN + 8), with a handler
 * installed on first use. The handler only acts on glint's own timer; the
 * application must not block that signal in threads that call into guests.
 */
#define GLINT__SIGNAL (SIGRTMIN + 8)

struct glint__deadline {
    timer_t timer;
    pid_t tid; /* thread the timer signals; 0 = no timer yet */
};

/* Arm: after ms milliseconds, set *kick (and interrupt the thread). Clears
 * *kick and the expired flag first. Call on the thread that runs the vCPU. */
int glint__deadline_arm(struct glint__deadline *d, uint32_t ms, volatile uint8_t *kick);

/* Disarm; afterwards no signal from this deadline is outstanding. */
void glint__deadline_disarm(struct glint__deadline *d);

/* Did the deadline armed on this thread fire? */
bool glint__deadline_expired(void);

void glint__deadline_destroy(struct glint__deadline *d);

#endif
