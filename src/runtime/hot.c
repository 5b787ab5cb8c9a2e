/* Hot mode: glint_sandbox_set_hot, admission control, and calls through the mailbox page. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "mem/layout.h"
#include "os/cpus.h"
#include "runtime/error.h"
#include "runtime/exits.h"
#include "runtime/failure.h"
#include "runtime/hostcall.h"
#include "runtime/hot.h"
#include "runtime/hot_vcpu.h"
#include "runtime/image.h"
#include "runtime/run.h"
#include "runtime/sandbox.h"

#define MAX_SPIN_US_LIMIT 100000u
#define FIRST_WINDOW_US   50u                  /* about one park + wake round trip on these hosts */
#define STALL_NS          2000000ull           /* a call this late to start counts as a stall */
#define CALM_CALLS        64u                  /* calls that park at once after a stall */
#define PAUSE_POLLS       4096u                /* polls spent spinning before the caller yields */
#define YIELD_POLLS       (PAUSE_POLLS + 256u) /* ... and yielding before it sleeps */

/* ---- admission --------------------------------------------------------------- */

static pthread_mutex_t admission = PTHREAD_MUTEX_INITIALIZER;
static unsigned hot_sandboxes;    /* with a vCPU thread, in this process */
static _Atomic unsigned pollers;  /* callers polling a hot call right now */
static _Atomic unsigned cpu_hint; /* CPUs allowed, as last read by set_hot */

/* Take a slot, or explain in msg why not. */
static bool admit(const glint_hot_config *c, char *msg, size_t n)
{
    struct glint__cpus cpus;
    glint__cpus_read(&cpus);
    atomic_store(&cpu_hint, cpus.allowed);
    unsigned limit = cpus.allowed - 1;
    if (c->max_hot && c->max_hot < limit)
        limit = c->max_hot;
    pthread_mutex_lock(&admission);
    bool ok = hot_sandboxes < limit;
    unsigned count = hot_sandboxes;
    if (ok)
        hot_sandboxes++;
    pthread_mutex_unlock(&admission);
    if (!ok) {
        char quota[32] = "none";
        if (cpus.quota)
            snprintf(quota, sizeof quota, "%u CPUs", cpus.quota);
        snprintf(msg, n,
                 "hot mode refused: %u hot sandboxes run in this process, the limit is %u (%u "
                 "CPUs allowed: affinity %u, cgroup quota %s%s; a hot sandbox needs a CPU for "
                 "its vCPU, its caller another)",
                 count, limit, cpus.allowed, cpus.affinity, quota,
                 c->max_hot ? ", max_hot set" : "");
    }
    return ok;
}

static void release_slot(void)
{
    pthread_mutex_lock(&admission);
    hot_sandboxes--;
    pthread_mutex_unlock(&admission);
}

/* More spinners than CPUs: a polling caller yields at once instead. */
static bool oversubscribed(void)
{
    unsigned cpus = atomic_load(&cpu_hint);
    pthread_mutex_lock(&admission);
    unsigned spinners = hot_sandboxes;
    pthread_mutex_unlock(&admission);
    return spinners + atomic_load(&pollers) > cpus;
}

/* ---- configuration ----------------------------------------------------------- */

static const glint_hot_config hot_defaults = {
    .struct_size = sizeof(glint_hot_config),
    .enabled = true,
    .max_spin_us = 200,
};

void glint_hot_config_init_sized(glint_hot_config *cfg, size_t size)
{
    glint__struct_init(cfg, size, &hot_defaults, sizeof hot_defaults);
}

static int read_config(const glint_hot_config *cfg, glint_hot_config *c)
{
    *c = hot_defaults;
    c->enabled = false;
    if (!cfg)
        return 0;
    int rc = glint__struct_size_check("glint_hot_config", cfg->struct_size,
                                      sizeof(glint_hot_config), sizeof(glint_hot_config));
    if (rc)
        return rc;
    *c = *cfg;
    if (c->max_spin_us > MAX_SPIN_US_LIMIT)
        return glint__fail(GLINT_EINVAL, "glint_hot_config: max_spin_us %u is above %u",
                           c->max_spin_us, MAX_SPIN_US_LIMIT);
    if (c->on_busy != GLINT_HOT_REFUSE && c->on_busy != GLINT_HOT_DOWNGRADE)
        return glint__fail(GLINT_EINVAL, "glint_hot_config: on_busy %u is not a glint_hot_busy",
                           c->on_busy);
    return 0;
}

/* The window's bounds (owner). The watchdog's period is set once, before the
 * vCPU thread starts: a later, longer max_spin_us may see an idle guest
 * parked by the watchdog early, which only costs a wake-up. */
static void apply_window(struct glint__hot *h, const glint_hot_config *c)
{
    h->max_us = c->max_spin_us;
    h->window_us = c->max_spin_us < FIRST_WINDOW_US ? c->max_spin_us : FIRST_WINDOW_US;
}

static void hot_free(struct glint__hot *h)
{
    free(h->copy);
    free(h);
}

static const struct glint__hot_ops hot_ops = {
    .pause = glint__hot_pause,
    .halt = glint__hot_halt,
    .resume = glint__hot_resume,
    .destroy = glint__hot_destroy,
};

static int hot_start(glint_sandbox *sb, const glint_hot_config *c, bool isolated)
{
    struct glint__hot *h = calloc(1, sizeof *h);
    if (!h)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    h->copy = malloc(glint__output_cap(sb));
    if (!h->copy) {
        hot_free(h);
        return glint__fail(GLINT_ENOMEM, "out of memory");
    }
    h->sb = sb;
    h->vm = sb->vm;
    h->box = (volatile struct glint_abi_hot *)(sb->mem + GLINT_ABI_HOT_ADDR);
    h->tsc_per_us = glint__hot_tsc_per_us();
    h->isolated = isolated;
    apply_window(h, c);
    h->wd_us = 4 * h->max_us + 2000;
    int rc = glint__hot_vcpu_start(h);
    if (rc) {
        hot_free(h);
        return rc;
    }
    sb->hot = h;
    sb->hot_ops = &hot_ops;
    glint__hot_vcpu_arm(h);
    return 0;
}

/* Park the guest for good and end hot mode: back to exit mode. */
static int hot_stop(glint_sandbox *sb)
{
    int rc = glint__hot_pause(sb);
    glint__hot_destroy(sb);
    return rc;
}

int glint_sandbox_set_hot(glint_sandbox *sb, const glint_hot_config *cfg)
{
    if (!sb)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_set_hot: NULL sandbox");
    if (sb->in_call)
        return glint__fail(GLINT_EBUSY, "glint_sandbox_set_hot: the sandbox is in a call");
    glint_hot_config c;
    int rc = read_config(cfg, &c);
    if (rc)
        return rc;
    if (!c.enabled) {
        sb->hot_reason[0] = 0;
        return sb->hot ? hot_stop(sb) : 0;
    }
    if (sb->poisoned)
        return glint__fail(GLINT_EPOISONED, "glint_sandbox_set_hot: the sandbox is poisoned: %s",
                           sb->failure.message);
    if (!glint__image_view(sb->img).hot_ok)
        return glint__fail(GLINT_EABI,
                           "glint_sandbox_set_hot: the guest was built without hot-mode support "
                           "(no glint features note with GLINT_ABI_FEATURE_HOT: rebuild it with "
                           "this version of libglint-guest)");
    if (sb->hot) { /* a new config: window bounds only */
        apply_window(sb->hot, &c);
        __atomic_store_n(&sb->hot->box->window_tsc,
                         (uint64_t)((double)sb->hot->window_us * sb->hot->tsc_per_us),
                         __ATOMIC_RELAXED);
        return 0;
    }
    char why[sizeof sb->hot_reason - 32];
    if (!admit(&c, why, sizeof why)) {
        if (c.on_busy == GLINT_HOT_DOWNGRADE) {
            snprintf(sb->hot_reason, sizeof sb->hot_reason, "%s; staying in exit mode", why);
            return 0;
        }
        return glint__fail(GLINT_EBUSY, "glint_sandbox_set_hot: %s", why);
    }
    sb->hot_reason[0] = 0;
    if ((rc = hot_start(sb, &c, false)))
        release_slot();
    return rc;
}

int glint__hot_enable_isolated(glint_sandbox *sb, uint32_t max_spin_us)
{
    glint_hot_config c = hot_defaults;
    c.max_spin_us = max_spin_us;
    char why[sizeof sb->hot_reason - 32];
    if (!glint__image_view(sb->img).hot_ok)
        return glint__fail(GLINT_EABI, "hot pool: the guest was built without hot-mode support");
    if (!admit(&c, why, sizeof why)) {
        snprintf(sb->hot_reason, sizeof sb->hot_reason, "%s; staying in exit mode", why);
        return glint__fail(GLINT_EBUSY, "%s", why);
    }
    int rc = hot_start(sb, &c, true);
    if (rc)
        release_slot();
    return rc;
}

void glint__hot_release(glint_sandbox *sb)
{
    /* No request since the guest was armed (the call failed before it reached
     * the guest): nothing ran that a restore would undo. */
    if (sb->hot && sb->hot->seq != sb->hot->armed_seq)
        glint__hot_vcpu_request_restore(sb->hot);
}

int glint__hot_ready(glint_sandbox *sb)
{
    struct glint__hot *h = sb->hot;
    if (!h)
        return 1;
    uint32_t r = atomic_load(&h->ready);
    if (r == GLINT__HOT_READY)
        return 1;
    if (r == GLINT__HOT_RESTORING)
        return 0;
    return glint__fail(GLINT_EHV, "hot pool: restore on the vCPU thread failed: %s",
                       h->restore_msg);
}

void glint_sandbox_hot_status(const glint_sandbox *sb, glint_hot_status *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!sb)
        return;
    snprintf(out->reason, sizeof out->reason, "%s", sb->hot_reason);
    const struct glint__hot *h = sb->hot;
    if (!h)
        return;
    out->active = true;
    out->window_us = h->calm_left ? 0 : h->window_us;
    out->calls = h->calls;
    out->parks = atomic_load(&h->parks);
    out->wakes = h->wakes;
    out->forced_parks = atomic_load(&h->forced_parks);
    out->stalls = h->stalls;
}

/* ---- pausing, halting, resuming ------------------------------------------------ */

int glint__hot_pause(glint_sandbox *sb)
{
    struct glint__hot *h = sb->hot;
    if (!h)
        return 0;
    /* Hot mode off in the mailbox: a well-behaved guest parks at its next
     * poll. Wait (bounded) until it rests at its park `out`, then hold it. */
    __atomic_store_n(&h->box->magic, 0, __ATOMIC_RELAXED);
    uint64_t start = glint__hot_now_ns(), limit = 200000000ull + 2ull * h->wd_us * 1000;
    for (unsigned i = 0; glint__hot_now_ns() - start < limit; i++) {
        uint32_t s = atomic_load(&h->state);
        if (s == GLINT__HOT_HOLD)
            return 0; /* stopped by a failure: the sandbox is poisoned */
        if (s == GLINT__HOT_EXIT)
            break; /* an exit while no call ran: the guest is not where it should be */
        if (s == GLINT__HOT_PARKED && atomic_load(&h->clean_park)) {
            glint__hot_vcpu_halt(h); /* PARKED -> HOLD, or the guest resumed: look again */
            if (atomic_load(&h->state) == GLINT__HOT_HOLD)
                return 0;
        } else if (s == GLINT__HOT_PARKED) {
            glint__hot_vcpu_wake(h); /* stopped by the watchdog mid-spin: let it see magic 0 */
        }
        if (i < 256)
            sched_yield();
        else {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
    }
    uint32_t last = atomic_load(&h->state);
    glint__hot_vcpu_halt(h);
    return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                         "hot mode: the guest did not park within %llu ms of hot mode being "
                         "turned off in the mailbox (vCPU thread %s)",
                         (unsigned long long)(limit / 1000000),
                         last == GLINT__HOT_EXIT     ? "holds an exit taken while no call ran"
                         : last == GLINT__HOT_PARKED ? "stopped by the watchdog"
                                                     : "still running the guest");
}

void glint__hot_halt(glint_sandbox *sb)
{
    if (sb->hot)
        glint__hot_vcpu_halt(sb->hot);
}

void glint__hot_resume(glint_sandbox *sb)
{
    if (sb->hot && !sb->poisoned)
        glint__hot_vcpu_arm(sb->hot);
}

void glint__hot_destroy(glint_sandbox *sb)
{
    struct glint__hot *h = sb->hot;
    if (!h)
        return;
    glint__hot_vcpu_stop(h);
    hot_free(h);
    sb->hot = NULL;
    sb->hot_ops = NULL;
    release_slot();
}

/* ---- calls ------------------------------------------------------------------- */

/* The spin window, halt-polling style: a call that finds the guest parked
 * soon after it parked means the window was too short (grow); one long
 * after means spinning would have been wasted (shrink). */
static void adapt_window(struct glint__hot *h, uint64_t now)
{
    uint64_t idle_us = (now - atomic_load_explicit(&h->parked_ns, memory_order_relaxed)) / 1000;
    if (idle_us < h->max_us)
        h->window_us = h->window_us ? (h->window_us * 2 > h->max_us ? h->max_us : h->window_us * 2)
                                    : (h->max_us < 10 ? h->max_us : 10);
    else
        h->window_us /= 2;
}

/* Publish call seq; true if it had to wake the parked vCPU thread. */
static bool publish(struct glint__hot *h, uint64_t seq)
{
    uint32_t w = h->calm_left ? 0 : h->window_us;
    uint64_t wt = (uint64_t)((double)w * h->tsc_per_us);
    if (__atomic_load_n(&h->box->window_tsc, __ATOMIC_RELAXED) != wt)
        __atomic_store_n(&h->box->window_tsc, wt, __ATOMIC_RELAXED);
    /* The guest may have cleared it: ours to say. */
    __atomic_store_n(&h->box->magic, GLINT_ABI_HOT_MAGIC, __ATOMIC_RELAXED);
    __atomic_store_n(&h->box->req_seq, seq, __ATOMIC_RELEASE);
    atomic_store(&h->active, seq); /* seq_cst: then read the vCPU thread's state */
    if (glint__hot_vcpu_wake(h)) {
        h->wakes++;
        /* The new window is written with the next request, never now: the
         * guest may be running this one already, and the host writes the
         * mailbox only before it publishes. */
        adapt_window(h, glint__hot_now_ns());
        return true;
    }
    return false;
}

/* Copy the RESULT out of guest memory once (header, then the bytes it
 * claims, at most the buffer) and decode only the copy. */
static int take_result(glint_sandbox *sb, struct glint__hot *h, glint_type ret_type,
                       glint_value *ret)
{
    const uint8_t *out = glint__output_buf(sb);
    uint32_t cap = glint__output_cap(sb), size;
    memcpy(h->copy, out, sizeof(struct glint_abi_msg));
    memcpy(&size, h->copy, sizeof size);
    uint32_t n = size < sizeof(struct glint_abi_msg) ? (uint32_t)sizeof(struct glint_abi_msg)
                 : size > cap                        ? cap
                                                     : size;
    memcpy(h->copy + sizeof(struct glint_abi_msg), out + sizeof(struct glint_abi_msg),
           n - sizeof(struct glint_abi_msg));
    return glint__finish_result(sb, h->copy, n, ret_type, ret);
}

/* Milliseconds left before deadline_ns (at least 1), for a timer. */
static uint32_t ms_left(uint64_t deadline_ns)
{
    uint64_t now = glint__hot_now_ns();
    if (now >= deadline_ns)
        return 1;
    uint64_t ms = (deadline_ns - now + 999999) / 1000000;
    return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* A host call (the guest is stopped in it): serve it on this thread as in
 * exit mode. Its callback runs under a timer for what is left of the call's
 * timeout, so that a nested call in it stops with the enclosing deadline. */
static int serve_hostcall(glint_sandbox *sb, struct glint__hot *h, uint32_t timeout,
                          uint64_t deadline_ns)
{
    glint__deadline_disarm(&sb->deadline);
    int rc =
        glint__deadline_arm(&sb->deadline, timeout ? ms_left(deadline_ns) : 0, &h->caller_kick);
    if (rc)
        return glint__record_hv(sb, rc); /* no frame pushed */
    rc = glint__handle_hostcall(sb);
    if (!rc && (__atomic_load_n(&h->caller_kick, __ATOMIC_RELAXED) || sb->deadline.expired))
        rc = glint__run_stopped(sb, timeout);
    glint__deadline_disarm(&sb->deadline);
    int rc2 = glint__deadline_arm(&sb->deadline, 0, &h->caller_kick); /* cannot fail */
    return rc ? rc : rc2;
}

/* An exit the vCPU thread forwarded. Sets *done once the call is over. */
static int handle_exit(glint_sandbox *sb, struct glint__hot *h, uint64_t seq, uint32_t timeout,
                       uint64_t deadline_ns, glint_type ret_type, glint_value *ret, bool *done)
{
    struct glint__exit ex = h->exit;
    if (h->exit_rc)
        return glint__record_hv(sb, h->exit_rc);
    if (ex.kind != GLINT__EXIT_IO)
        return glint__report_exit(sb, &ex);
    if (ex.out && ex.size == 1 && ex.port == GLINT_ABI_PORT_DONE) {
        /* The guest is stopped: its done_seq can no longer change. */
        if (__atomic_load_n(&h->box->done_seq, __ATOMIC_ACQUIRE) == seq) {
            *done = true;
            glint__hot_vcpu_rest(h);
            return take_result(sb, h, ret_type, ret);
        }
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                             "hot mode: the guest parked while call %llu was in the mailbox, "
                             "without answering it",
                             (unsigned long long)seq);
    }
    if (ex.out && ex.size == 1 && ex.port == GLINT_ABI_PORT_HOSTCALL) {
        int rc = serve_hostcall(sb, h, timeout, deadline_ns);
        if (!rc)
            glint__hot_vcpu_resume(h);
        return rc;
    }
    *done = true;
    int rc = glint__handle_io(sb, &ex, ret_type, ret, done);
    return rc ? rc
              : glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                              "hot mode: exit on port 0x%x during a hot call", ex.port);
}

/* Wait between polls: spin, then yield, then sleep (or yield at once when
 * the process has more spinners than CPUs). */
static void poll_wait(unsigned i, bool crowded)
{
    if (i < PAUSE_POLLS && !crowded) {
        _mm_pause();
        return;
    }
    if (i < YIELD_POLLS) {
        sched_yield();
        return;
    }
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
}

/* A call being polled for. The clock is read only once a call waits. */
struct wait {
    uint64_t seq;
    uint32_t timeout;
    uint64_t start, deadline_ns;
    bool woke;    /* publishing woke the parked vCPU thread */
    bool crowded; /* yield between polls instead of spinning */
    bool counted; /* counted in `pollers` */
};

static void start_clock(struct wait *w)
{
    if (w->start)
        return;
    w->start = glint__hot_now_ns();
    w->deadline_ns = w->timeout ? w->start + (uint64_t)w->timeout * 1000000ull : UINT64_MAX;
}

/* The call failed: the vCPU leaves the guest (HOLD) and nothing is in flight. */
static int failed(struct glint__hot *h, int rc)
{
    atomic_store(&h->active, 0);
    glint__hot_vcpu_halt(h);
    return rc;
}

/* Every 64 polls: the deadline, crowding, stalls. Returns a failure or 0. */
static int check_time(glint_sandbox *sb, struct glint__hot *h, struct wait *w)
{
    start_clock(w);
    uint64_t now = glint__hot_now_ns();
    if (!w->counted) {
        atomic_fetch_add(&pollers, 1);
        w->counted = true;
        w->crowded = w->crowded || oversubscribed();
    }
    if (now >= w->deadline_ns) {
        sb->deadline.expired = 1;
        return failed(h, glint__run_stopped(sb, w->timeout));
    }
    /* The guest has not even picked the request up for this long (and it
     * was not parked): CPUs are short. Park at once for a while. */
    if (!w->woke && now - w->start > STALL_NS &&
        __atomic_load_n(&h->box->done_seq, __ATOMIC_ACQUIRE) == w->seq - 1 && !h->calm_left) {
        h->stalls++;
        h->calm_left = CALM_CALLS;
    }
    return 0;
}

static int poll_loop(glint_sandbox *sb, struct glint__hot *h, struct wait *w, glint_type ret_type,
                     glint_value *ret)
{
    for (unsigned i = 0;; i++) {
        uint64_t d = __atomic_load_n(&h->box->done_seq, __ATOMIC_ACQUIRE);
        if (d == w->seq) {
            atomic_store(&h->active, 0);
            int rc = take_result(sb, h, ret_type, ret);
            /* A malformed result poisons: stop the guest as for any failure. */
            return rc && sb->poisoned ? failed(h, rc) : rc;
        }
        if (d != w->seq - 1)
            return failed(h, glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                                           "hot mode: the mailbox's done_seq is %llu while call "
                                           "%llu was pending (only %llu or %llu are valid)",
                                           (unsigned long long)d, (unsigned long long)w->seq,
                                           (unsigned long long)(w->seq - 1),
                                           (unsigned long long)w->seq));
        if (atomic_load(&h->state) == GLINT__HOT_EXIT) {
            start_clock(w);
            bool done = false;
            int rc = handle_exit(sb, h, w->seq, w->timeout, w->deadline_ns, ret_type, ret, &done);
            if (rc)
                return failed(h, rc);
            if (done) {
                atomic_store(&h->active, 0);
                return 0;
            }
            continue;
        }
        if (__atomic_load_n(&h->caller_kick, __ATOMIC_RELAXED)) {
            int rc = glint__run_stopped(sb, w->timeout);
            if (rc)
                return failed(h, rc);
            __atomic_store_n(&h->caller_kick, 0, __ATOMIC_RELAXED);
        }
        if ((i & 63) == 63) {
            int rc = check_time(sb, h, w);
            if (rc)
                return rc;
        }
        poll_wait(i, w->crowded);
    }
}

/* Poll for call seq's result. Returns 0 (result in *ret) or the recorded
 * failure's GLINT_E*; on failure the vCPU is out of the guest (HOLD). */
static int poll(glint_sandbox *sb, struct glint__hot *h, uint64_t seq, bool woke,
                glint_type ret_type, glint_value *ret)
{
    /* A woken vCPU thread may have been queued on this CPU: yield to it. */
    struct wait w = {.seq = seq,
                     .timeout = sb->timeout_ms,
                     .deadline_ns = UINT64_MAX,
                     .woke = woke,
                     .crowded = woke};
    int rc = poll_loop(sb, h, &w, ret_type, ret);
    if (w.counted)
        atomic_fetch_sub(&pollers, 1);
    return rc;
}

int glint__hot_call(glint_sandbox *sb, glint_type ret_type, glint_value *ret)
{
    struct glint__hot *h = sb->hot;
    sb->in_call = true;
    glint__run_begin(sb, &h->caller_kick);
    /* A frame on this thread's stack of running calls, without a timer: an
     * enclosing call's stop reaches this one through caller_kick. */
    int rc = glint__deadline_arm(&sb->deadline, 0, &h->caller_kick);
    if (rc)
        rc = glint__record_hv(sb, rc);
    else {
        uint64_t seq = ++h->seq;
        h->calls++;
        if (h->calm_left)
            h->calm_left--;
        bool woke = publish(h, seq);
        rc = poll(sb, h, seq, woke, ret_type, ret);
        glint__deadline_disarm(&sb->deadline);
    }
    glint__run_end(sb, &h->caller_kick);
    sb->in_call = false;
    return rc;
}
