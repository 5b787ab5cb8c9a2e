/* Seccomp confinement of threads that run vCPUs: an allowlist kept as data, one reason per rule. */
#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

#include "error.h"
#include "glint.h"

/* What a thread needs to run guest calls, host calls, timeouts and restores
 * on sandboxes that already exist. Creating or destroying VMs is not in it. */
static const struct {
    int nr;
    const char *why;
} syscalls[] = {
    {SCMP_SYS(ioctl), "KVM vCPU and VM requests, restricted to the list below"},
    {SCMP_SYS(futex), "mutexes and condition variables (sandbox and pool locks)"},
    {SCMP_SYS(timer_create), "per-call deadline timer, made on a thread's first call"},
    {SCMP_SYS(timer_settime), "arming and disarming the per-call deadline"},
    {SCMP_SYS(timer_delete), "replacing a deadline timer that targeted another thread"},
    {SCMP_SYS(gettid), "deadline timers are aimed at the calling thread"},
    {SCMP_SYS(rt_sigreturn), "returning from the timeout/interrupt signal handler"},
    {SCMP_SYS(rt_sigprocmask), "glibc masks signals around some operations"},
    {SCMP_SYS(clock_gettime), "deadlines and pool waits (when the vDSO is not used)"},
    {SCMP_SYS(clock_nanosleep), "short waits in the pool"},
    {SCMP_SYS(sched_yield), "spinning locks in glibc"},
    {SCMP_SYS(mmap), "malloc: results, host-function values, large blocks"},
    {SCMP_SYS(munmap), "free of large blocks; destroying a sandbox's memory"},
    {SCMP_SYS(mremap), "realloc of large blocks"},
    {SCMP_SYS(mprotect), "malloc arenas grow by changing protections"},
    {SCMP_SYS(madvise), "malloc trimming; glibc frees thread stacks on exit"},
    {SCMP_SYS(brk), "malloc on the main heap"},
    {SCMP_SYS(write), "guest print to stdout, application logging"},
    {SCMP_SYS(writev), "stdio writes"},
    {SCMP_SYS(close), "closing vCPU/VM descriptors when a sandbox is destroyed"},
    {SCMP_SYS(getpid), "glibc and raise()"},
    {SCMP_SYS(tgkill), "glint_sandbox_interrupt() on a sandbox run by another thread"},
    {SCMP_SYS(arch_prctl), "repairing FS/GS after a guest changed the host's selectors (PVM)"},
    {SCMP_SYS(sigaltstack), "alternate signal stacks (glibc, sanitizer runtimes) at thread exit"},
    {SCMP_SYS(exit), "thread exit"},
    {SCMP_SYS(exit_group), "process exit"},
};

/* ioctl requests allowed (second argument), each with its reason. */
static const struct {
    unsigned long cmd;
    const char *why;
} ioctls[] = {
    {KVM_RUN, "run the vCPU"},
    {KVM_GET_REGS, "fault reports, snapshots"},
    {KVM_SET_REGS, "restore without KVM_CAP_SYNC_REGS"},
    {KVM_GET_SREGS, "fault reports (CR2), snapshots"},
    {KVM_SET_SREGS, "restore without KVM_CAP_SYNC_REGS"},
    {KVM_GET_VCPU_EVENTS, "snapshots"},
    {KVM_SET_VCPU_EVENTS, "restore without KVM_CAP_SYNC_REGS"},
    {KVM_GET_FPU, "snapshots without XSAVE"},
    {KVM_SET_FPU, "restore without XSAVE"},
    {KVM_GET_XSAVE, "snapshots"},
    {KVM_GET_XSAVE2, "snapshots with large XSAVE areas"},
    {KVM_SET_XSAVE, "restore"},
    {KVM_GET_DIRTY_LOG, "restore: which pages the guest wrote"},
    {KVM_CLEAR_DIRTY_LOG, "restore: shrinking the sticky working set"},
};

int glint_confine_thread(void)
{
    /* Deny with EPERM: the thread learns it was refused, and nothing runs. */
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx)
        return glint__fail(GLINT_ENOMEM, "seccomp_init failed");
    int rc = 0;
    for (size_t i = 0; i < sizeof syscalls / sizeof syscalls[0] && rc == 0; i++) {
        if (syscalls[i].nr == SCMP_SYS(ioctl))
            continue;
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, syscalls[i].nr, 0);
    }
    for (size_t i = 0; i < sizeof ioctls / sizeof ioctls[0] && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)ioctls[i].cmd));
    if (rc == 0)
        rc = seccomp_load(ctx); /* this thread only: TSYNC is off by default */
    seccomp_release(ctx);
    if (rc)
        return glint__fail(GLINT_EHV, "cannot install the seccomp filter: %s", strerror(-rc));
    return 0;
}
