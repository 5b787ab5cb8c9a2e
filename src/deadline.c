/* Per-call deadlines: a POSIX timer signals the calling thread, which kicks the vCPU out. */
#include "deadline.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "glint.h"

/* Innermost deadline armed on this thread. initial-exec: no allocation on
 * first access, so the signal handler may touch it. */
static _Thread_local
    __attribute__((tls_model("initial-exec"))) struct glint__deadline *volatile top;

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static int handler_err;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (si->si_code != SI_TIMER)
        return; /* a kick from glint_sandbox_interrupt(): EINTR was the point */
    for (struct glint__deadline *d = top; d; d = d->prev) {
        if (si->si_value.sival_ptr == d) {
            d->expired = 1;
            *d->kick = 1;
            return;
        }
    }
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

int glint__deadline_arm(struct glint__deadline *d, uint32_t ms, volatile uint8_t *kick)
{
    int rc = glint__signal_init();
    if (rc)
        return rc;
    pid_t self = gettid();
    if (d->tid != self) {
        if (d->tid)
            timer_delete(d->timer);
        d->tid = 0;
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = GLINT__SIGNAL;
        sev.sigev_value.sival_ptr = d;
        sev._sigev_un._tid = self;
        if (timer_create(CLOCK_MONOTONIC, &sev, &d->timer) != 0)
            return glint__fail(GLINT_EHV, "timer_create failed: %s", strerror(errno));
        d->tid = self;
    }
    d->kick = kick;
    d->expired = 0;
    d->prev = top;
    top = d;
    struct itimerspec its = {{0, 0}, {ms / 1000, (long)(ms % 1000) * 1000000L}};
    if (timer_settime(d->timer, 0, &its, NULL) != 0) {
        top = d->prev;
        return glint__fail(GLINT_EHV, "timer_settime failed: %s", strerror(errno));
    }
    return 0;
}

void glint__deadline_disarm(struct glint__deadline *d)
{
    struct itimerspec zero;
    memset(&zero, 0, sizeof zero);
    timer_settime(d->timer, 0, &zero, NULL);
    /* A signal already queued was delivered when the syscall returned. */
    top = d->prev;
}

void glint__deadline_destroy(struct glint__deadline *d)
{
    if (d->tid)
        timer_delete(d->timer);
    d->tid = 0;
}
