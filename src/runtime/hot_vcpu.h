/* Hot mode's vCPU thread (private to hot*.c): its state machine and the owner's controls. */
#ifndef GLINT_RUNTIME_HOT_VCPU_H
#define GLINT_RUNTIME_HOT_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "glint.h"
#include "hv/hv.h"

/*
 * The vCPU thread's state, a futex word. Transitions, and who makes them:
 *   RUN -> PARKED  vCPU thread: the guest parked (its window passed, or the
 *                  watchdog stopped it) and no call is in flight
 *   PARKED -> RUN  the owner (a new call: it also wakes the futex), or the
 *                  vCPU thread itself when a call came in while it parked
 *   RUN -> EXIT    vCPU thread: an exit for the owner to handle (h->exit)
 *   EXIT -> RUN    owner: handled (a host call), re-enter
 *   RUN -> HOLD    vCPU thread: out of the guest because halt_req is set
 *   PARKED/EXIT -> HOLD  owner (glint__hot_vcpu_halt)
 *   HOLD -> RUN    owner (glint__hot_vcpu_arm)
 *   any -> QUIT    owner, once the thread is in HOLD (destruction)
 * The vCPU thread makes every one of its transitions by compare-and-swap
 * from RUN, so it never overwrites the owner's.
 */
enum { GLINT__HOT_RUN, GLINT__HOT_PARKED, GLINT__HOT_EXIT, GLINT__HOT_HOLD, GLINT__HOT_QUIT };

/* An isolated hot sandbox's readiness (glint__hot.ready). */
enum { GLINT__HOT_RESTORING, GLINT__HOT_READY, GLINT__HOT_BROKEN };

struct glint__hot {
    glint_sandbox *sb;
    glint__vm *vm;
    volatile struct glint_abi_hot *box; /* in guest memory: hostile */
    pthread_t thread;
    bool started;
    _Atomic uint32_t state;    /* GLINT__HOT_* (futex word) */
    _Atomic uint32_t halt_req; /* the owner wants the vCPU out (-> HOLD) */
    _Atomic uint32_t exited;   /* the thread returned */
    _Atomic int start_rc;      /* 1: started and confined; a GLINT_E*: it could not confine */
    _Atomic uint64_t active;   /* seq of the call in flight, 0: none */
    uint64_t entered_with;     /* vCPU thread: `active` when it last entered the guest at a point
                                  where the guest re-reads the mailbox; else 0 */
    bool fresh;                /* vCPU thread: the guest stopped at an `out` (not in the middle of
                                  its poll loop, where it may hold a stale read) */
    struct glint__exit exit;   /* EXIT: the exit to handle ... */
    int exit_rc;               /* ... and glint__vm_run's return value */
    uint64_t seq;              /* owner: the last request's sequence number (authoritative) */
    volatile uint8_t caller_kick; /* kick flag of the owner's deadline frame */
    uint8_t *copy;                /* a result copied out of guest memory once */
    /* Isolated calls (pools): the guest parks after each result, the owner
     * asks for a restore (restore_req) and goes; the vCPU thread restores
     * the stopped guest, writes the mailbox again, sets `ready` (release)
     * and lets it spin for the next call. Nobody touches the sandbox while
     * `ready` is RESTORING. */
    bool isolated;
    uint64_t armed_seq; /* done_seq as the mailbox was last written (vCPU stopped) */
    _Atomic uint32_t restore_req;
    _Atomic uint32_t ready; /* GLINT__HOT_READY, _RESTORING, _BROKEN (restore failed) */
    char restore_msg[256];  /* why it failed */
    /* The spin window (owner), and when the guest last parked (vCPU thread,
     * read by the owner after it took the guest from PARKED). */
    uint32_t max_us, window_us;
    uint32_t calm_left; /* after a stall: calls left that park at once */
    _Atomic uint64_t parked_ns;
    _Atomic bool clean_park; /* PARKED at the guest's park `out` (not stopped by the watchdog) */
    double tsc_per_us;
    /* The watchdog: a periodic timer signalling the vCPU thread while it runs the guest. */
    timer_t wd;
    bool wd_ok, wd_armed;
    uint32_t wd_us;
    /* Counters (glint_hot_status). */
    _Atomic uint64_t parks, forced_parks;
    uint64_t calls, wakes, stalls;
};

/* Monotonic nanoseconds. */
uint64_t glint__hot_now_ns(void);

/* Start the vCPU thread in HOLD (arm it to run). GLINT_EHV if it cannot. */
int glint__hot_vcpu_start(struct glint__hot *h);

/* Write the mailbox for hot mode (magic, window, req_seq = done_seq =
 * h->seq) while the guest is stopped, clear the kicks, and let the vCPU
 * thread enter (HOLD -> RUN). */
void glint__hot_vcpu_arm(struct glint__hot *h);

/* Take the vCPU out of the guest (-> HOLD) wherever it is; returns when it
 * is out. */
void glint__hot_vcpu_halt(struct glint__hot *h);

/* A new call is published (h->active set): wake the vCPU thread if it is
 * parked. Returns true if it was (the call pays a wake-up). */
bool glint__hot_vcpu_wake(struct glint__hot *h);

/* Isolated calls: restore the guest to its image on the vCPU thread, off
 * the owner's path (ready RESTORING until it is done). */
void glint__hot_vcpu_request_restore(struct glint__hot *h);

/* EXIT -> RUN after the owner handled a forwarded exit (a host call). */
void glint__hot_vcpu_resume(struct glint__hot *h);

/* EXIT -> PARKED: the forwarded exit was a park after all (the guest rests
 * at its park `out`; only a new call resumes it). */
void glint__hot_vcpu_rest(struct glint__hot *h);

/* End the thread (from any state) and join it. */
void glint__hot_vcpu_stop(struct glint__hot *h);

/* TSC ticks per microsecond of this host (measured once per process). */
double glint__hot_tsc_per_us(void);

#endif
