/* Sandboxes: a VM instantiated from an image; guest calls, host calls and failure reports. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "codec.h"
#include "runtime/error.h"
#include "runtime/internal.h"
#include "runtime/values.h"
#include "x86/tables.h"

#define PAGE GLINT_ABI_PAGE_SIZE

/* ---- failures --------------------------------------------------------------- */

/* Fill sb->failure; poisons the sandbox unless the guest returned normally or
 * the host made a usage error. Also sets glint_errmsg(). */
int glint__record(glint_sandbox *sb, int err, glint_failure_kind kind, const char *fmt, ...)
{
    glint_failure *f = &sb->failure;
    f->error = err;
    f->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    if (kind != GLINT_FAIL_USAGE && kind != GLINT_FAIL_GUEST_ERROR)
        sb->poisoned = true;
    return glint__fail(err, "%s", f->message);
}

void glint_sandbox_last_failure(const glint_sandbox *sb, glint_failure *out)
{
    if (!out)
        return;
    if (!sb) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = sb->failure;
}

bool glint_sandbox_poisoned(const glint_sandbox *sb)
{
    return sb && sb->poisoned;
}

void glint_sandbox_set_timeout(glint_sandbox *sb, uint32_t timeout_ms)
{
    if (sb)
        sb->timeout_ms = timeout_ms;
}

/* ---- exits --------------------------------------------------------------------- */

uint8_t *glint__output_buf(glint_sandbox *sb)
{
    return sb->mem + sb->img->layout.output_addr;
}

uint32_t glint__output_cap(glint_sandbox *sb)
{
    return (uint32_t)sb->img->layout.output_size;
}

/* ---- life cycle -------------------------------------------------------------- */

int glint__sandbox_new(glint_image *img, const glint_host_fns *fns, glint_sandbox **out)
{
    glint_sandbox *sb = calloc(1, sizeof *sb);
    if (!sb)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    glint__image_ref(img);
    sb->img = img;
    sb->fns = img->fns;
    sb->timeout_ms = img->timeout_ms;
    sb->mem_size = img->layout.mem_size;
    int rc = 0;
    if (fns) {
        if ((rc = glint__host_fns_clone(fns, &sb->own_fns)))
            goto fail;
        sb->fns = sb->own_fns;
    }
    pthread_mutex_init(&sb->lock, NULL);
    sb->sticky_limit = GLINT__STICKY_MIN_PAGES;
    if ((rc = glint__signal_init()))
        goto fail;
    sb->result_cap = img->layout.output_size + 1;
    sb->result = malloc(sb->result_cap);
    sb->dirty = calloc(img->bitmap_words, sizeof *sb->dirty);
    sb->host_dirty = calloc(img->bitmap_words, sizeof *sb->host_dirty);
    void *mem = mmap(NULL, sb->mem_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!sb->result || !sb->dirty || !sb->host_dirty || mem == MAP_FAILED) {
        if (mem != MAP_FAILED)
            munmap(mem, sb->mem_size);
        rc = glint__fail(GLINT_ENOMEM, "cannot allocate %llu bytes of guest memory",
                         (unsigned long long)sb->mem_size);
        goto fail;
    }
    sb->mem = mem;
    if (img->pages) {
        for (uint32_t i = 0; i < img->npages; i++) {
            uint64_t off = (uint64_t)img->pages[i] * PAGE;
            memcpy(sb->mem + off, img->mem + off, PAGE);
        }
    } else {
        memcpy(sb->mem, img->mem, sb->mem_size);
    }
    uint64_t stack_top = img->layout.stack_addr + img->layout.stack_size;
    rc = glint__vm_create(sb->mem, sb->mem_size, img->state, img->entry, stack_top, &sb->vm);
    if (rc)
        goto fail;
    *out = sb;
    return 0;
fail:
    glint_sandbox_destroy(sb);
    return rc;
}

int glint_sandbox_create(glint_image *img, const glint_host_fns *fns, glint_sandbox **out)
{
    if (!img || !out)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_create: NULL argument");
    return glint__sandbox_new(img, fns, out);
}

void glint_sandbox_destroy(glint_sandbox *sb)
{
    if (!sb)
        return;
    glint__vm_destroy(sb->vm);
    if (sb->mem)
        munmap(sb->mem, sb->mem_size);
    glint__deadline_destroy(&sb->deadline);
    free(sb->result);
    free(sb->dirty);
    free(sb->host_dirty);
    pthread_mutex_destroy(&sb->lock);
    glint_host_fns_destroy(sb->own_fns);
    glint_image_destroy(sb->img);
    free(sb);
}

/* Copy the guest's text for a message: printable ASCII, others as '?'. */
static void sanitize(char *dst, size_t n, const char *src, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 1 < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : (c == '\n' || c == '\t') ? ' ' : '?';
    }
    dst[k] = 0;
}

static int finish_result(glint_sandbox *sb, glint_type ret_type, glint_value *ret)
{
    glint__msg m;
    const char *why;
    if (glint__msg_decode(glint__output_buf(sb), glint__output_cap(sb), &m, &why) != 0)
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "malformed call result: %s",
                             why);
    if (m.kind != GLINT_ABI_MSG_RESULT)
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                             "call finished with a message of kind %u, not a result", m.kind);
    if (m.status != 0) {
        if (m.count != 1 || m.vals[0].type != GLINT_ABI_STRING)
            return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                                 "error result without a message string");
        char text[200];
        sanitize(text, sizeof text, m.vals[0].ptr, m.vals[0].len);
        sb->failure.guest_code = m.status;
        return glint__record(sb, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR, "guest error %d: %s",
                             m.status, text);
    }
    size_t want = ret_type == GLINT_VOID ? 0 : 1;
    if (m.count != want || (want && m.vals[0].type != (uint8_t)ret_type))
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                             "result does not match the declared return type %s",
                             glint_type_name(ret_type));
    if (!ret)
        return 0;
    if (!want) {
        memset(ret, 0, sizeof *ret);
        ret->type = GLINT_VOID;
        return 0;
    }
    *ret = glint__from_cval(&m.vals[0]);
    if (ret_type == GLINT_STRING || ret_type == GLINT_BYTES) {
        /* Copy out of guest memory: the caller keeps it past the next run. */
        memcpy(sb->result, m.vals[0].ptr, m.vals[0].len);
        sb->result[m.vals[0].len] = 0;
        if (ret_type == GLINT_STRING)
            ret->as.str.ptr = sb->result;
        else
            ret->as.bytes.ptr = sb->result;
    }
    return 0;
}

static int report_abort(glint_sandbox *sb)
{
    glint__msg m;
    const char *why;
    char text[200] = "";
    if (glint__msg_decode(glint__output_buf(sb), glint__output_cap(sb), &m, &why) != 0)
        snprintf(text, sizeof text, "(unreadable abort message: %s)", why);
    else if (m.kind != GLINT_ABI_MSG_ABORT || m.count != 1 || m.vals[0].type != GLINT_ABI_STRING)
        snprintf(text, sizeof text, "(abort message of the wrong shape)");
    else {
        sanitize(text, sizeof text, m.vals[0].ptr, m.vals[0].len);
        sb->failure.guest_code = m.status;
    }
    return glint__record(sb, GLINT_EABORT, GLINT_FAIL_ABORT, "guest aborted with code %d: %s",
                         sb->failure.guest_code, text);
}

static int report_fault(glint_sandbox *sb, uint32_t vector)
{
    struct glint__fault_regs r;
    int rc = glint__vm_fault_regs(sb->vm, &r);
    if (rc)
        return glint__record(sb, rc, GLINT_FAIL_HYPERVISOR, "%s", glint_errmsg());
    uint64_t lo = GLINT_ABI_STUBS_ADDR, hi = lo + PAGE;
    uint64_t xs = GLINT_ABI_XSTACK_ADDR, xe = xs + GLINT_ABI_XSTACK_SIZE;
    /* The fault port is denied to CPL3 by the I/O bitmap; check anyway. */
    if ((r.cs & 3) != 0 || r.rip < lo || r.rip >= hi || r.rsp < xs || r.rsp > xe - 6 * 8)
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                             "fault report from outside the exception stubs (rip 0x%llx)",
                             (unsigned long long)r.rip);
    uint64_t frame[6]; /* error code, rip, cs, rflags, rsp, ss */
    memcpy(frame, sb->mem + r.rsp, sizeof frame);
    glint_failure *f = &sb->failure;
    f->vector = vector;
    f->error_code = frame[0];
    f->rip = frame[1];
    f->fault_addr = vector == 14 ? r.cr2 : 0;
    if (vector == 14) {
        char cause[128];
        glint__mem_describe_fault(cause, sizeof cause, &sb->img->regions, r.cr2, frame[0]);
        return glint__record(sb, GLINT_EFAULT, GLINT_FAIL_FAULT,
                             "%s at rip 0x%llx: %s at address 0x%llx (error code 0x%llx)",
                             glint_vector_name(vector), (unsigned long long)f->rip, cause,
                             (unsigned long long)r.cr2, (unsigned long long)frame[0]);
    }
    return glint__record(sb, GLINT_EFAULT, GLINT_FAIL_FAULT, "%s (vector %u) at rip 0x%llx%s",
                         glint_vector_name(vector), vector, (unsigned long long)f->rip,
                         vector == 13 ? " (privileged instruction or denied I/O port?)" : "");
}

static int handle_io(glint_sandbox *sb, const struct glint__exit *ex, glint_type ret_type,
                     glint_value *ret, bool *done)
{
    if (!ex->out || ex->size != 1)
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                             "%s of size %u on port 0x%x (only 1-byte out is defined)",
                             ex->out ? "out" : "in", ex->size, ex->port);
    switch (ex->port) {
    case GLINT_ABI_PORT_DONE:
        *done = true;
        return finish_result(sb, ret_type, ret);
    case GLINT_ABI_PORT_HOSTCALL:
        return glint__handle_hostcall(sb);
    case GLINT_ABI_PORT_ABORT:
        *done = true;
        return report_abort(sb);
    case GLINT_ABI_PORT_FAULT:
        *done = true;
        return report_fault(sb, ex->data & 0xff);
    default:
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "exit on unknown port 0x%x",
                             ex->port);
    }
}

int glint__report_exit(glint_sandbox *sb, const struct glint__exit *ex)
{
    /* Registers and code at rip for the exits nobody expects. */
    char vcpu[128] = "";
    if (ex->kind != GLINT__EXIT_SHUTDOWN && ex->kind != GLINT__EXIT_MMIO)
        glint__vm_dump(sb->vm, vcpu, sizeof vcpu);
    switch (ex->kind) {
    case GLINT__EXIT_SHUTDOWN:
        return glint__record(sb, GLINT_EFAULT, GLINT_FAIL_TRIPLE_FAULT,
                             "triple fault: the guest faulted while handling a fault");
    case GLINT__EXIT_MMIO:
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                             "guest accessed 0x%llx outside its memory",
                             (unsigned long long)ex->addr);
    case GLINT__EXIT_FAIL_ENTRY:
        /* The vCPU state is the host's (the guest runs at CPL3 and cannot
         * change it): not the guest's fault. */
        return glint__record(sb, GLINT_EHV, GLINT_FAIL_HYPERVISOR,
                             "the hypervisor could not enter the guest: exit %s (%u), hardware "
                             "entry failure reason 0x%llx [%s]",
                             ex->reason_name, ex->reason, (unsigned long long)ex->hw_reason, vcpu);
    case GLINT__EXIT_INTERNAL:
        /* Suberror 1: KVM could not emulate an instruction. Under PVM it
         * emulates the guest's port I/O (and the CPL0 exception stubs), so
         * an odd instruction of the guest's can cause it: a protocol error.
         * Any other internal error is the hypervisor's. */
        if (ex->hw_reason == 1)
            return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                                 "the hypervisor could not emulate a guest instruction "
                                 "(exit %s (%u), suberror 1) [%s]",
                                 ex->reason_name, ex->reason, vcpu);
        return glint__record(sb, GLINT_EHV, GLINT_FAIL_HYPERVISOR,
                             "hypervisor internal error: exit %s (%u), suberror %llu [%s]",
                             ex->reason_name, ex->reason, (unsigned long long)ex->hw_reason, vcpu);
    default:
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "unexpected exit %s (%u) [%s]",
                             ex->reason_name, ex->reason, vcpu);
    }
}

/* Interrupts see a call only between these two. */
static void begin_running(glint_sandbox *sb, volatile uint8_t *kick)
{
    pthread_mutex_lock(&sb->lock);
    /* Nothing from an earlier call may stop this one. Kick flags are
     * atomic bytes: the signal handler reads them (src/deadline.c). */
    __atomic_store_n(kick, 0, __ATOMIC_RELAXED);
    sb->interrupted = false;
    sb->thread = pthread_self();
    sb->running = true;
    pthread_mutex_unlock(&sb->lock);
}

static void end_running(glint_sandbox *sb, volatile uint8_t *kick)
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
        __atomic_store_n(glint__vm_kick_flag(sb->vm), 1, __ATOMIC_RELAXED);
        pthread_kill(sb->thread, GLINT_SIGNAL);
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

int glint__sandbox_run(glint_sandbox *sb, glint_type ret_type, glint_value *ret)
{
    sb->in_call = true;
    uint32_t timeout = sb->timeout_ms;
    volatile uint8_t *kick = glint__vm_kick_flag(sb->vm);
    int rc = 0;
    begin_running(sb, kick);
    /* Always on the thread's stack of running calls, so that an enclosing
     * call's deadline or interrupt stops this one too (src/deadline.h). */
    if ((rc = glint__deadline_arm(&sb->deadline, timeout, kick))) {
        end_running(sb, kick);
        sb->in_call = false;
        return glint__record(sb, rc, GLINT_FAIL_HYPERVISOR, "%s", glint_errmsg());
    }
    for (bool done = false; !done && rc == 0;) {
        struct glint__exit ex;
        rc = glint__vm_run(sb->vm, &ex);
        if (rc) {
            rc = glint__record(sb, rc, GLINT_FAIL_HYPERVISOR, "%s", glint_errmsg());
            break;
        }
        switch (ex.kind) {
        case GLINT__EXIT_IO:
            rc = handle_io(sb, &ex, ret_type, ret, &done);
            break;
        case GLINT__EXIT_INTR:
            if (was_interrupted(sb))
                rc = glint__record(sb, GLINT_EINTR, GLINT_FAIL_INTERRUPTED,
                                   "guest call interrupted by glint_sandbox_interrupt()");
            else if (timeout && sb->deadline.expired)
                rc = glint__record(sb, GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT,
                                   "guest call exceeded its %u ms timeout", timeout);
            else if (sb->deadline.stop == GLINT__STOP_OUTER_TIMEOUT)
                rc = glint__record(sb, GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT,
                                   "guest call stopped: the %u ms timeout of an enclosing call "
                                   "(whose host function made this call) passed",
                                   sb->deadline.outer_ms);
            else if (sb->deadline.stop == GLINT__STOP_OUTER_INTERRUPT)
                rc = glint__record(sb, GLINT_EINTR, GLINT_FAIL_INTERRUPTED,
                                   "guest call stopped: an enclosing call (whose host function "
                                   "made this call) was interrupted by glint_sandbox_interrupt()");
            break; /* another signal: resume */
        default:
            rc = glint__report_exit(sb, &ex);
            break;
        }
    }
    glint__deadline_disarm(&sb->deadline);
    end_running(sb, kick);
    sb->in_call = false;
    return rc;
}

/* ---- calls ----------------------------------------------------------------------- */

/* May sb start a call? Busy and poisoned sandboxes keep their failure
 * record for the caller to inspect; otherwise it is cleared. */
static int check_ready(glint_sandbox *sb)
{
    if (sb->in_call)
        return glint__fail(GLINT_EBUSY, "sandbox is already running a call");
    if (sb->poisoned)
        return glint__fail(GLINT_EPOISONED, "sandbox is poisoned by an earlier %s: %s",
                           glint_failure_kind_name(sb->failure.kind), sb->failure.message);
    memset(&sb->failure, 0, sizeof sb->failure);
    return 0;
}

/* Check every argument against e's signature and the input buffer before
 * anything is written: a call refused halfway must leave no argument in
 * guest memory. Sets *size to the CALL message's size. */
static int check_args(glint_sandbox *sb, const struct glint__export *e, const glint_value *args,
                      size_t nargs, uint64_t *size)
{
    const struct glint__layout *l = &sb->img->layout;
    uint64_t need = sizeof(struct glint_abi_msg);
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].type != e->params[i])
            return glint__record(sb, GLINT_ESIG, GLINT_FAIL_USAGE,
                                 "argument %zu of %s must be %s, not %s", i + 1, e->name,
                                 glint_type_name(e->params[i]), glint_type_name(args[i].type));
        const char *bad = glint__check_value(&args[i], l->input_size);
        if (bad)
            return glint__record(sb, bad == glint__too_long ? GLINT_ETOOBIG : GLINT_EINVAL,
                                 GLINT_FAIL_USAGE, "argument %zu of %s: %s", i + 1, e->name, bad);
        glint__cval c = glint__to_cval(&args[i]);
        int slen = glint__scalar_len(c.type);
        need += glint__value_wire_size(c.type, slen > 0 ? (uint64_t)slen : c.len);
    }
    if (need > (l->input_size & ~(uint64_t)7))
        return glint__record(sb, GLINT_ETOOBIG, GLINT_FAIL_USAGE,
                             "arguments of %s take %llu bytes and do not fit the %llu-byte input "
                             "buffer",
                             e->name, (unsigned long long)need, (unsigned long long)l->input_size);
    *size = need;
    return 0;
}

int glint_sandbox_call_index(glint_sandbox *sb, size_t index, const glint_value *args, size_t nargs,
                             glint_value *ret)
{
    if (!sb)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_call: NULL sandbox");
    int rc = check_ready(sb);
    if (rc)
        return rc;
    if (nargs && !args)
        return glint__record(sb, GLINT_EINVAL, GLINT_FAIL_USAGE,
                             "glint_sandbox_call: %zu arguments but args is NULL", nargs);
    const glint_exports *ex = sb->img->exports;
    if (index >= ex->count)
        return glint__record(sb, GLINT_ENOFUNC, GLINT_FAIL_USAGE,
                             "no exported function with index %zu", index);
    const struct glint__export *e = &ex->e[index];
    if (nargs != e->nparams)
        return glint__record(sb, GLINT_ESIG, GLINT_FAIL_USAGE, "%s takes %zu arguments, got %zu",
                             e->name, e->nparams, nargs);
    uint64_t size = 0;
    if ((rc = check_args(sb, e, args, nargs, &size)))
        return rc;
    /* Everything is known to fit: account exactly the bytes about to be
     * written, so that restore copies them back whatever happens next. */
    const struct glint__layout *l = &sb->img->layout;
    glint__mark_host_dirty(sb, l->input_addr, size);
    glint__writer w;
    glint__msg_begin(&w, sb->mem + l->input_addr, (uint32_t)l->input_size, GLINT_ABI_MSG_CALL,
                     (uint8_t)e->ret, (int32_t)index, NULL, 0);
    for (size_t i = 0; i < nargs; i++) {
        glint__cval c = glint__to_cval(&args[i]);
        glint__msg_put(&w, &c);
    }
    if (glint__msg_end(&w) != (int64_t)size) /* cannot happen: sizes were checked */
        return glint__record(sb, GLINT_ETOOBIG, GLINT_FAIL_USAGE,
                             "arguments of %s do not fit the %llu-byte input buffer", e->name,
                             (unsigned long long)l->input_size);
    return glint__sandbox_run(sb, e->ret, ret);
}

int glint_sandbox_call(glint_sandbox *sb, const char *name, const glint_value *args, size_t nargs,
                       glint_value *ret)
{
    if (!sb || !name)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_call: NULL argument");
    long i = glint__exports_index(sb->img->exports, name);
    if (i < 0) {
        int rc = check_ready(sb);
        return rc ? rc
                  : glint__record(sb, GLINT_ENOFUNC, GLINT_FAIL_USAGE,
                                  "the guest exports no function named '%.80s'", name);
    }
    return glint_sandbox_call_index(sb, (size_t)i, args, nargs, ret);
}
