/* Exits: a call's result, abort, fault report and unexpected exits turned into failure records. */
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "runtime/error.h"
#include "runtime/exits.h"
#include "runtime/failure.h"
#include "runtime/hostcall.h"
#include "runtime/image.h"
#include "runtime/sandbox.h"
#include "runtime/values.h"
#include "mem/regions.h"

#define PAGE GLINT_ABI_PAGE_SIZE

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

int glint__finish_result(glint_sandbox *sb, const uint8_t *buf, uint32_t cap, glint_type ret_type,
                         glint_value *ret)
{
    glint__msg m;
    const char *why;
    if (glint__msg_decode(buf, cap, &m, &why) != 0)
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
        /* The budget's reserved code, only when the call had a budget: a
         * guest can fail its own call with it, and nothing else. */
        if (m.status == GLINT_ABI_ABORT_BUDGET && sb->budget)
            return glint__record(sb, GLINT_EBUDGET, GLINT_FAIL_BUDGET,
                                 "guest call exceeded its instruction budget of %llu",
                                 (unsigned long long)sb->budget);
    }
    return glint__record(sb, GLINT_EABORT, GLINT_FAIL_ABORT, "guest aborted with code %d: %s",
                         sb->failure.guest_code, text);
}

static int report_fault(glint_sandbox *sb, uint32_t vector)
{
    struct glint__fault_regs r;
    int rc = glint__vm_fault_regs(sb->vm, &r);
    if (rc)
        return glint__record_hv(sb, rc);
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

int glint__handle_io(glint_sandbox *sb, const struct glint__exit *ex, glint_type ret_type,
                     glint_value *ret, bool *done)
{
    if (!ex->out || ex->size != 1)
        return glint__record(sb, GLINT_EPROTO, GLINT_FAIL_PROTOCOL,
                             "%s of size %u on port 0x%x (only 1-byte out is defined)",
                             ex->out ? "out" : "in", ex->size, ex->port);
    switch (ex->port) {
    case GLINT_ABI_PORT_DONE:
        *done = true;
        return glint__finish_result(sb, glint__output_buf(sb), glint__output_cap(sb), ret_type,
                                    ret);
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
