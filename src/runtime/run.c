/* Running a sandbox: the vCPU exit loop, its deadline, and interrupts from other threads. */
#include <pthread.h>

#include "runtime/error.h"
#include "runtime/exits.h"
#include "runtime/failure.h"
#include "runtime/run.h"
#include "runtime/sandbox.h"

/* Interrupts see a call only between these two. */
void glint__run_begin(glint_sandbox *sb, volatile uint8_t *kick)
{
    pthread_mutex_lock(&sb->lock);
    sb->kick = kick;
    /* Nothing from an earlier call may stop this one. Kick flags are
     * atomic bytes: the signal handler reads them (os/deadline.c). */
    __atomic_store_n(kick, 0, __ATOMIC_RELAXED);
    sb->interrupted = false;
    sb->thread = pthread_self();
    sb->running = true;
    pthread_mutex_unlock(&sb->lock);
}

void glint__run_end(glint_sandbox *sb, volatile uint8_t *kick)
{
    pthread_mutex_lock(&sb->lock);
    sb->running = false;
    sb->interrupted = false;
    __atomic_store_n(kick, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&sb->lock);
}

void glint_sandbox_interrupt(glint_sandbox *sb)
{
    if (!sb)
        return;
    pthread_mutex_lock(&sb->lock);
    /* Once per call: the kick flag alone stops every later KVM_RUN, and one
     * signal ends the current one; repeating it would only flood the thread. */
    if (sb->running && !sb->interrupted) {
        sb->interrupted = true;
        /* A run about to start returns at once; a run in progress exits on
         * the signal, whose handler also stops the calls nested in this one
         * (a host function of sb calling other sandboxes). */
        __atomic_store_n(sb->kick, 1, __ATOMIC_RELAXED);
        pthread_kill(sb->thread, GLINT_SIGNAL);
        /* A hot call's caller polls its kick flag and then stops the vCPU. */
    }
    pthread_mutex_unlock(&sb->lock);
}

static bool was_interrupted(glint_sandbox *sb)
{
    pthread_mutex_lock(&sb->lock);
    bool r = sb->interrupted;
    pthread_mutex_unlock(&sb->lock);
    return r;
}

/* A run stopped by a signal: an interrupt, this call's deadline or an
 * enclosing call's stop ends the call; any other signal resumes it (0). */
int glint__run_stopped(glint_sandbox *sb, uint32_t timeout)
{
    if (was_interrupted(sb))
        return glint__record(sb, GLINT_EINTR, GLINT_FAIL_INTERRUPTED,
                             "guest call interrupted by glint_sandbox_interrupt()");
    if (timeout && sb->deadline.expired)
        return glint__record(sb, GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT,
                             "guest call exceeded its %u ms timeout", timeout);
    if (sb->deadline.stop == GLINT__STOP_OUTER_TIMEOUT)
        return glint__record(sb, GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT,
                             "guest call stopped: the %u ms timeout of an enclosing call "
                             "(whose host function made this call) passed",
                             sb->deadline.outer_ms);
    if (sb->deadline.stop == GLINT__STOP_OUTER_INTERRUPT)
        return glint__record(sb, GLINT_EINTR, GLINT_FAIL_INTERRUPTED,
                             "guest call stopped: an enclosing call (whose host function "
                             "made this call) was interrupted by glint_sandbox_interrupt()");
    return 0;
}

/* Enter the guest until an exit ends the call (a result, a failure). */
static int run_until_done(glint_sandbox *sb, uint32_t timeout, glint_type ret_type,
                          glint_value *ret)
{
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        struct glint__exit ex;
        if ((rc = glint__vm_run(sb->vm, &ex)))
            return glint__record_hv(sb, rc);
        switch (ex.kind) {
        case GLINT__EXIT_IO:
            rc = glint__handle_io(sb, &ex, ret_type, ret, &done);
            break;
        case GLINT__EXIT_INTR:
            rc = glint__run_stopped(sb, timeout);
            break;
        default:
            rc = glint__report_exit(sb, &ex);
            break;
        }
    }
    return rc;
}

int glint__sandbox_run(glint_sandbox *sb, glint_type ret_type, glint_value *ret)
{
    sb->in_call = true;
    uint32_t timeout = sb->timeout_ms;
    volatile uint8_t *kick = glint__vm_kick_flag(sb->vm);
    glint__run_begin(sb, kick);
    /* Always on the thread's stack of running calls, so that an enclosing
     * call's deadline or interrupt stops this one too (os/deadline.h). */
    int rc = glint__deadline_arm(&sb->deadline, timeout, kick);
    if (rc)
        rc = glint__record_hv(sb, rc);
    else {
        rc = run_until_done(sb, timeout, ret_type, ret);
        glint__deadline_disarm(&sb->deadline);
    }
    glint__run_end(sb, kick);
    sb->in_call = false;
    return rc;
}
