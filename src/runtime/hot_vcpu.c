/* Hot mode's vCPU thread: keeps the guest in KVM_RUN, parks it, forwards exits, obeys the owner. */
#include <errno.h>
#include <stdio.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#include "os/confine.h"
#include "runtime/error.h"
#include "runtime/hot_vcpu.h"
#include "runtime/restore.h"
#include "runtime/sandbox.h"

#define RUN    GLINT__HOT_RUN
#define PARKED GLINT__HOT_PARKED
#define EXIT   GLINT__HOT_EXIT
#define HOLD   GLINT__HOT_HOLD
#define QUIT   GLINT__HOT_QUIT

uint64_t glint__hot_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;
static double tsc_rate = 1000.0;

/* Count TSC ticks over ~2 ms of the monotonic clock. The rate only sizes the
 * guest's spin window (the watchdog bounds a wrong one). */
static void measure_tsc(void)
{
    uint64_t t0 = glint__hot_now_ns(), c0 = __rdtsc(), t1, c1;
    do {
        t1 = glint__hot_now_ns();
        c1 = __rdtsc();
    } while (t1 - t0 < 2000000);
    double r = (double)(c1 - c0) / ((double)(t1 - t0) / 1000.0);
    if (r > 1.0 && r < 100000.0)
        tsc_rate = r;
}

double glint__hot_tsc_per_us(void)
{
    pthread_once(&tsc_once, measure_tsc);
    return tsc_rate;
}

static void futex_wait(_Atomic uint32_t *w, uint32_t val)
{
    syscall(SYS_futex, (void *)(uintptr_t)w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
    syscall(SYS_futex, (void *)(uintptr_t)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static bool cas(_Atomic uint32_t *w, uint32_t from, uint32_t to)
{
    return atomic_compare_exchange_strong(w, &from, to);
}

/* The watchdog ticks only while the thread runs the guest (vCPU thread). */
static void watchdog(struct glint__hot *h, bool on)
{
    if (!h->wd_ok || h->wd_armed == on)
        return;
    long ns = on ? (long)h->wd_us * 1000L : 0;
    struct itimerspec its = {{ns / 1000000000L, ns % 1000000000L},
                             {ns / 1000000000L, ns % 1000000000L}};
    timer_settime(h->wd, 0, &its, NULL);
    h->wd_armed = on;
}

static void watchdog_create(struct glint__hot *h)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = GLINT_SIGNAL;
    sev.sigev_value.sival_ptr = h; /* no deadline frame: the handler only interrupts KVM_RUN */
    sev._sigev_un._tid = gettid();
    h->wd_ok = timer_create(CLOCK_MONOTONIC, &sev, &h->wd) == 0;
}

/* Write the mailbox for hot mode (vCPU stopped), without changing the state. */
static void write_mailbox(struct glint__hot *h)
{
    glint__mark_host_dirty(h->sb, GLINT_ABI_HOT_ADDR, sizeof(struct glint_abi_hot));
    uint32_t w = h->calm_left ? 0 : h->window_us;
    /* Atomic stores: the words are read by the guest, and by this thread's
     * hints, at any time. */
    __atomic_store_n(&h->box->window_tsc, (uint64_t)((double)w * h->tsc_per_us), __ATOMIC_RELAXED);
    __atomic_store_n(&h->box->flags, h->isolated ? GLINT_ABI_HOT_PARK_AFTER_RESULT : 0,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&h->box->req_seq, h->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&h->box->done_seq, h->seq, __ATOMIC_RELAXED);
    h->armed_seq = h->seq;
    __atomic_store_n(&h->box->magic, GLINT_ABI_HOT_MAGIC, __ATOMIC_RELEASE);
    atomic_store(&h->active, 0);
    h->fresh = true; /* the guest rests at an `out` (of a call, its init or a park) */
}

/* The owner asked for a restore after an isolated call: the guest is
 * stopped (state RUN, not in KVM_RUN). */
static void restore_now(struct glint__hot *h)
{
    atomic_store(&h->restore_req, 0);
    int rc = glint__restore_to_image(h->sb);
    if (rc) {
        snprintf(h->restore_msg, sizeof h->restore_msg, "%s", glint_errmsg());
        cas(&h->state, RUN, HOLD);
        atomic_store(&h->ready, GLINT__HOT_BROKEN);
        return;
    }
    write_mailbox(h);
    atomic_store(&h->ready, GLINT__HOT_READY); /* release: the restore's writes first */
}

/* After an isolated call's park the owner asks for a restore within
 * microseconds: wait for it a little before sleeping (no wake-up syscall on
 * the owner's path). */
static bool restore_soon(struct glint__hot *h)
{
    if (!h->isolated || __atomic_load_n(&h->box->done_seq, __ATOMIC_ACQUIRE) == h->armed_seq)
        return false; /* not a park after a result: an idle window passed */
    uint64_t start = glint__hot_now_ns();
    for (unsigned i = 0; !atomic_load(&h->restore_req); i++) {
        if ((i & 255) == 255 && glint__hot_now_ns() - start > 100000)
            return false;
        _mm_pause();
    }
    return true;
}

/* Has the guest answered call a (done_seq, a hint read from guest memory)? */
static bool answered(struct glint__hot *h, uint64_t a)
{
    return __atomic_load_n(&h->box->done_seq, __ATOMIC_ACQUIRE) == a;
}

/* The guest parked (or the watchdog stopped it) with no unanswered call in
 * flight, or a call came in meanwhile (then the guest resumes at once).
 * Never resume a guest resting at its park `out` for a call it answered:
 * the owner may be turning hot mode off in the mailbox by now, and a guest
 * resumed there with hot mode off takes the input buffer for an exit-mode
 * call. */
static void park(struct glint__hot *h, bool forced)
{
    if (!forced && restore_soon(h))
        return; /* still RUN: the next run_once restores */
    atomic_store_explicit(&h->parked_ns, glint__hot_now_ns(), memory_order_relaxed);
    atomic_store_explicit(&h->clean_park, !forced, memory_order_relaxed);
    if (!cas(&h->state, RUN, PARKED))
        return; /* the owner took the thread (halt, quit) */
    if (forced)
        atomic_fetch_add(&h->forced_parks, 1);
    else
        atomic_fetch_add(&h->parks, 1);
    /* Dekker with the owner's publish: state PARKED, then read `active`;
     * the owner sets `active`, then reads the state. One of the two sees
     * the other, and the compare-and-swap decides who resumes the guest. */
    uint64_t a = atomic_load(&h->active);
    if ((a && !answered(h, a)) || atomic_load(&h->restore_req))
        cas(&h->state, PARKED, RUN);
}

/* A park `out` while a call is in flight: harmless if the guest answered it
 * already or may not have seen it yet (it was published after the guest
 * last entered, or the guest was resumed in the middle of its poll loop with
 * a read from before); otherwise the guest ignores a request it was shown. */
static bool park_ignores_call(struct glint__hot *h, uint64_t active)
{
    return !answered(h, active) && h->entered_with == active;
}

static bool is_park(const struct glint__exit *ex)
{
    return ex->kind == GLINT__EXIT_IO && ex->out && ex->size == 1 &&
           ex->port == GLINT_ABI_PORT_DONE;
}

/* Hand an exit to the owner (RUN -> EXIT). */
static void forward(struct glint__hot *h, const struct glint__exit *ex, int rc)
{
    h->exit = *ex;
    h->exit_rc = rc;
    cas(&h->state, RUN, EXIT); /* release: the owner reads h->exit after seeing EXIT */
}

/* One KVM_RUN and what its exit means. */
static void run_once(struct glint__hot *h)
{
    if (atomic_load(&h->halt_req)) {
        cas(&h->state, RUN, HOLD);
        return;
    }
    if (atomic_load(&h->restore_req)) {
        restore_now(h);
        return;
    }
    watchdog(h, true);
    h->entered_with = h->fresh ? atomic_load(&h->active) : 0;
    struct glint__exit ex;
    int rc = glint__vm_run(h->vm, &ex);
    h->fresh = rc == 0 && ex.kind != GLINT__EXIT_INTR;
    if (rc) {
        forward(h, &ex, rc);
        return;
    }
    if (ex.kind == GLINT__EXIT_INTR) {
        __atomic_store_n(glint__vm_kick_flag(h->vm), 0, __ATOMIC_RELAXED);
        if (atomic_load(&h->halt_req))
            cas(&h->state, RUN, HOLD);
        else if (!atomic_load(&h->active))
            park(h, true); /* the watchdog: spinning idle past the window */
        return;            /* else a call is running: back into the guest */
    }
    if (is_park(&ex)) {
        uint64_t a = atomic_load(&h->active);
        if (!a || answered(h, a))
            park(h, false);
        else if (park_ignores_call(h, a))
            forward(h, &ex, 0);
        return; /* else not seen yet: resume (the guest re-reads the mailbox) */
    }
    forward(h, &ex, 0);
}

/* Wait a little, longer the longer it takes (owner, off the call path). */
static void back_off(unsigned i)
{
    if (i < 64)
        _mm_pause();
    else if (i < 256)
        sched_yield();
    else {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

static void *vcpu_main(void *arg)
{
    struct glint__hot *h = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, GLINT_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    watchdog_create(h);
    /* This thread runs the guest: the same seccomp allowlist as a pool's
     * workers, ioctl only on this sandbox's descriptors (os/confine.c). Not
     * under ThreadSanitizer, whose runtime delivers the kick signal with
     * rt_sigprocmask, which the allowlist refuses (it then aborts). */
    int rc = 0;
#ifndef __SANITIZE_THREAD__
    struct glint__kvm_fds fds;
    glint__vm_fds(h->vm, &fds.vm_fd, &fds.vcpu_fd);
    rc = glint__confine(&fds, 1);
#endif
    if (rc) {
        snprintf(h->restore_msg, sizeof h->restore_msg, "%s", glint_errmsg());
        if (h->wd_ok)
            timer_delete(h->wd);
        atomic_store(&h->start_rc, rc);
        return NULL;
    }
    atomic_store(&h->start_rc, 1);
    for (;;) {
        uint32_t s = atomic_load(&h->state);
        if (s == QUIT)
            break;
        if (s != RUN) {
            watchdog(h, false);
            futex_wait(&h->state, s);
            continue;
        }
        run_once(h);
    }
    watchdog(h, false);
    if (h->wd_ok)
        timer_delete(h->wd);
    atomic_store(&h->exited, 1);
    return NULL;
}

int glint__hot_vcpu_start(struct glint__hot *h)
{
    int rc = glint__signal_init();
    if (rc)
        return rc;
    atomic_store(&h->state, HOLD);
    /* The thread takes no signal but glint's: the application's go elsewhere. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&h->thread, NULL, vcpu_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err)
        return glint__fail(GLINT_EHV, "hot mode: cannot start the vCPU thread: %s", strerror(err));
    int started;
    for (unsigned i = 0; (started = atomic_load(&h->start_rc)) == 0; i++)
        back_off(i);
    if (started < 0) {
        pthread_join(h->thread, NULL);
        return glint__fail(started, "hot mode: the vCPU thread cannot confine itself: %s",
                           h->restore_msg);
    }
    h->started = true;
    return 0;
}

void glint__hot_vcpu_arm(struct glint__hot *h)
{
    write_mailbox(h);
    atomic_store(&h->restore_req, 0);
    atomic_store(&h->ready, GLINT__HOT_READY);
    __atomic_store_n(&h->caller_kick, 0, __ATOMIC_RELAXED);
    __atomic_store_n(glint__vm_kick_flag(h->vm), 0, __ATOMIC_RELAXED);
    atomic_store(&h->state, RUN);
    futex_wake(&h->state);
}

void glint__hot_vcpu_halt(struct glint__hot *h)
{
    if (!h->started)
        return;
    atomic_store(&h->halt_req, 1);
    uint64_t kicked = 0;
    for (unsigned i = 0;; i++) {
        uint32_t s = atomic_load(&h->state);
        if (s == HOLD || s == QUIT)
            break;
        if ((s == PARKED || s == EXIT) && cas(&h->state, s, HOLD))
            break;
        if (s == RUN) {
            /* immediate_exit stops a KVM_RUN about to start; the signal one
             * in progress. Repeat in case the signal landed just before. */
            uint64_t now = glint__hot_now_ns();
            if (now - kicked > 1000000) {
                __atomic_store_n(glint__vm_kick_flag(h->vm), 1, __ATOMIC_RELAXED);
                pthread_kill(h->thread, GLINT_SIGNAL);
                kicked = now;
            }
        }
        back_off(i);
    }
    atomic_store(&h->halt_req, 0);
    __atomic_store_n(glint__vm_kick_flag(h->vm), 0, __ATOMIC_RELAXED);
}

void glint__hot_vcpu_request_restore(struct glint__hot *h)
{
    atomic_store(&h->ready, GLINT__HOT_RESTORING);
    atomic_store(&h->restore_req, 1); /* seq_cst: then read the state (Dekker with park) */
    glint__hot_vcpu_wake(h);
}

bool glint__hot_vcpu_wake(struct glint__hot *h)
{
    if (atomic_load(&h->state) == PARKED && cas(&h->state, PARKED, RUN)) {
        futex_wake(&h->state);
        return true;
    }
    return false;
}

void glint__hot_vcpu_resume(struct glint__hot *h)
{
    if (cas(&h->state, EXIT, RUN))
        futex_wake(&h->state);
}

void glint__hot_vcpu_rest(struct glint__hot *h)
{
    atomic_store_explicit(&h->parked_ns, glint__hot_now_ns(), memory_order_relaxed);
    atomic_store_explicit(&h->clean_park, true, memory_order_relaxed);
    cas(&h->state, EXIT, PARKED);
}

void glint__hot_vcpu_stop(struct glint__hot *h)
{
    if (!h->started)
        return;
    glint__hot_vcpu_halt(h);
    atomic_store(&h->state, QUIT);
    futex_wake(&h->state);
    pthread_join(h->thread, NULL);
    h->started = false;
}
