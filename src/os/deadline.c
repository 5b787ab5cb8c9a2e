/* Per-call deadlines: a POSIX timer signals the calling thread, which kicks the vCPU out. */
#include "os/deadline.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "runtime/error.h"
#include "glint.h"

/* Innermost running call on this thread. initial-exec: no allocation on
 * first access, so the signal handler may touch it. Only this thread writes
 * it (and the frames on it); the handler runs on this thread too. */
static _Thread_local
    __attribute__((tls_model("initial-exec"))) struct glint__deadline *volatile top;

/* Process-unique thread serials (see deadline.h); 0 = not taken yet. */
static atomic_uint_fast64_t next_serial = 1;
static _Thread_local uint64_t my_serial;

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static int handler_err;

/* Kick flags are also written by glint_sandbox_interrupt() on other threads:
 * byte-sized atomics, lock-free and so async-signal-safe. */
static void set_kick(struct glint__deadline *d)
{
    __atomic_store_n(d->kick, 1, __ATOMIC_RELAXED);
}

/* Stop every frame above the outermost stopped one (own deadline passed or
 * kick flag set). Idempotent; safe in the signal handler and outside it. */
static void propagate(void)
{
    struct glint__deadline *s = NULL;
    for (struct glint__deadline *d = top; d; d = d->prev)
        if (d->expired || __atomic_load_n(d->kick, __ATOMIC_RELAXED))
            s = d;
    if (!s)
        return;
    int why = s->expired ? GLINT__STOP_OUTER_TIMEOUT
              : s->stop  ? s->stop
                         : GLINT__STOP_OUTER_INTERRUPT;
    for (struct glint__deadline *d = top; d && d != s; d = d->prev) {
        if (!d->stop) {
            d->outer_ms = s->expired ? s->ms : s->outer_ms;
            atomic_signal_fence(memory_order_seq_cst);
            d->stop = why;
        }
        atomic_signal_fence(memory_order_seq_cst);
        set_kick(d);
    }
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (si->si_code == SI_TIMER) {
        for (struct glint__deadline *d = top; d; d = d->prev) {
            if (si->si_value.sival_ptr == d) {
                if (d->ms) {
                    d->expired = 1;
                    atomic_signal_fence(memory_order_seq_cst);
                    set_kick(d);
                }
                break;
            }
        }
    }
    /* A kick from glint_sandbox_interrupt() (EINTR was the point), or a
     * deadline: either way, the runs nested inside a stopped one stop too. */
    propagate();
}

static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: KVM_RUN must see EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(GLINT__SIGNAL, &sa, NULL) != 0)
        handler_err = errno;
}

int glint__signal_init(void)
{
    pthread_once(&handler_once, install_handler);
    if (handler_err)
        return glint__fail(GLINT_EHV, "cannot install the glint signal handler: %s",
                           strerror(handler_err));
    return 0;
}

/* Make d's timer signal this thread. */
static int own_timer(struct glint__deadline *d)
{
    if (!my_serial)
        my_serial = atomic_fetch_add(&next_serial, 1);
    if (d->owner == my_serial)
        return 0;
    if (d->owner)
        timer_delete(d->timer);
    d->owner = 0;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = GLINT__SIGNAL;
    sev.sigev_value.sival_ptr = d;
    sev._sigev_un._tid = gettid();
    if (timer_create(CLOCK_MONOTONIC, &sev, &d->timer) != 0)
        return glint__fail(GLINT_EHV, "timer_create failed: %s", strerror(errno));
    d->owner = my_serial;
    return 0;
}

int glint__deadline_arm(struct glint__deadline *d, uint32_t ms, volatile uint8_t *kick)
{
    int rc = glint__signal_init();
    if (rc)
        return rc;
    if (ms && (rc = own_timer(d)))
        return rc;
    d->kick = kick;
    d->ms = ms;
    d->expired = 0;
    d->stop = GLINT__STOP_NONE;
    d->outer_ms = 0;
    d->prev = top;
    atomic_signal_fence(memory_order_seq_cst);
    top = d;
    atomic_signal_fence(memory_order_seq_cst);
    /* An enclosing call that stopped before this one started stops it too. */
    propagate();
    if (!ms)
        return 0;
    struct itimerspec its = {{0, 0}, {ms / 1000, (long)(ms % 1000) * 1000000L}};
    if (timer_settime(d->timer, 0, &its, NULL) != 0) {
        top = d->prev;
        return glint__fail(GLINT_EHV, "timer_settime failed: %s", strerror(errno));
    }
    return 0;
}

void glint__deadline_disarm(struct glint__deadline *d)
{
    if (d->ms) {
        struct itimerspec zero;
        memset(&zero, 0, sizeof zero);
        timer_settime(d->timer, 0, &zero, NULL);
        /* A signal already queued was delivered when the syscall returned. */
    }
    atomic_signal_fence(memory_order_seq_cst);
    top = d->prev;
    atomic_signal_fence(memory_order_seq_cst);
}

void glint__deadline_destroy(struct glint__deadline *d)
{
    if (d->owner)
        timer_delete(d->timer);
    d->owner = 0;
}
