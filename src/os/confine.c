/* Seccomp confinement of threads that run vCPUs: an allowlist kept as data, one reason per rule. */
#include "os/confine.h"

#include <asm/prctl.h>
#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/error.h"

/* How a rule restricts the system call's arguments. Comparisons of int
 * arguments look at the low 32 bits only, as the kernel does. */
enum arg_rule {
    ANY_ARGS,
    OWN_PID,   /* arg0 == getpid() at confinement */
    NO_EXEC,   /* (arg2 & PROT_EXEC) == 0 */
    ARG0_CODE, /* arg0 == code */
};

/* What a thread needs to run guest calls, host calls, timeouts, interrupts,
 * snapshots and restores on sandboxes that already exist, and to exit.
 * Creating VMs is not in it. Every rule is needed: tests/vm/test_confine.c
 * leaves each one out in turn and sees the workload fail. */
static const struct syscall_rule {
    int nr;
    enum arg_rule arg;
    long code;
    const char *name, *why;
    bool host_dependent; /* whether it is made at all depends on the host or build */
} syscalls[] = {
    {SCMP_SYS(futex), ANY_ARGS, 0, "futex", "mutexes and condition variables (sandbox, pool)",
     false},
    {SCMP_SYS(timer_create), ANY_ARGS, 0, "timer_create", "a thread's per-call deadline timer",
     false},
    {SCMP_SYS(timer_settime), ANY_ARGS, 0, "timer_settime", "arming and disarming a deadline",
     false},
    {SCMP_SYS(timer_delete), ANY_ARGS, 0, "timer_delete", "destroying a sandbox's timer", false},
    {SCMP_SYS(gettid), ANY_ARGS, 0, "gettid", "deadline timers are aimed at the calling thread",
     false},
    {SCMP_SYS(rt_sigreturn), ANY_ARGS, 0, "rt_sigreturn", "return from the timeout signal", false},
    {SCMP_SYS(clock_gettime), ANY_ARGS, 0, "clock_gettime",
     "pool waits and deadlines, where the vDSO cannot read the clock", true},
    {SCMP_SYS(mmap), NO_EXEC, 0, "mmap",
     "malloc of large blocks and thread arenas (glibc falls back to brk; sanitizer and other "
     "allocators do not)",
     true},
    {SCMP_SYS(munmap), ANY_ARGS, 0, "munmap", "free of large blocks; destroying a sandbox", false},
    {SCMP_SYS(mprotect), NO_EXEC, 0, "mprotect",
     "malloc grows thread arenas this way (glibc falls back to the main arena)", true},
    {SCMP_SYS(brk), ANY_ARGS, 0, "brk",
     "malloc on the main heap (a refused brk corrupts it; sanitizer allocators never use it)",
     true},
    {SCMP_SYS(write), ANY_ARGS, 0, "write", "guest print to stdout", false},
    {SCMP_SYS(close), ANY_ARGS, 0, "close", "closing vCPU/VM descriptors of a destroyed sandbox",
     false},
    {SCMP_SYS(getpid), ANY_ARGS, 0, "getpid", "pthread_kill names the process", true},
    /* (tgkill and getpid: where KVM notices immediate_exit only when KVM_RUN
     * starts; PVM here also notices it in a running KVM_RUN.) */
    {SCMP_SYS(tgkill), OWN_PID, 0, "tgkill", "glint_sandbox_interrupt() of another thread", true},
    {SCMP_SYS(arch_prctl), ARG0_CODE, ARCH_GET_FS, "arch_prctl(ARCH_GET_FS)",
     "repairing FS after a guest loaded it (PVM), src/hv/pvm_host_selectors.c", true},
    {SCMP_SYS(arch_prctl), ARG0_CODE, ARCH_SET_FS, "arch_prctl(ARCH_SET_FS)", "the same", true},
    {SCMP_SYS(arch_prctl), ARG0_CODE, ARCH_GET_GS, "arch_prctl(ARCH_GET_GS)",
     "repairing GS after a guest loaded it (PVM)", true},
    {SCMP_SYS(arch_prctl), ARG0_CODE, ARCH_SET_GS, "arch_prctl(ARCH_SET_GS)", "the same", true},
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    {SCMP_SYS(sigaltstack), ANY_ARGS, 0, "sigaltstack", "sanitizer runtimes, at thread exit", true},
#endif
    {SCMP_SYS(exit), ANY_ARGS, 0, "exit", "thread exit", false},
    {SCMP_SYS(exit_group), ANY_ARGS, 0, "exit_group", "process exit", false},
};

/* When an ioctl request is needed, from what this host's KVM offers. */
enum when { ALWAYS, NO_SYNC_REGS, NO_XSAVE, XSAVE, XSAVE1, XSAVE2, TRACKING };

/* ioctl requests allowed, on which kind of descriptor, and why. */
static const struct ioctl_rule {
    unsigned long cmd;
    bool vm; /* on the VM descriptor (else the vCPU's) */
    enum when when;
    const char *name, *why;
} ioctls[] = {
    {KVM_RUN, false, ALWAYS, "KVM_RUN", "run the vCPU; settle a pending exit"},
    {KVM_GET_REGS, false, ALWAYS, "KVM_GET_REGS", "fault reports, snapshots"},
    {KVM_GET_SREGS, false, ALWAYS, "KVM_GET_SREGS", "fault reports (CR2), snapshots"},
    {KVM_GET_VCPU_EVENTS, false, ALWAYS, "KVM_GET_VCPU_EVENTS", "snapshots"},
    {KVM_SET_REGS, false, NO_SYNC_REGS, "KVM_SET_REGS", "restore without KVM_CAP_SYNC_REGS"},
    {KVM_SET_SREGS, false, NO_SYNC_REGS, "KVM_SET_SREGS", "restore without KVM_CAP_SYNC_REGS"},
    {KVM_SET_VCPU_EVENTS, false, NO_SYNC_REGS, "KVM_SET_VCPU_EVENTS",
     "restore without KVM_CAP_SYNC_REGS"},
    {KVM_GET_FPU, false, NO_XSAVE, "KVM_GET_FPU", "snapshots without XSAVE"},
    {KVM_SET_FPU, false, NO_XSAVE, "KVM_SET_FPU", "restore without XSAVE"},
    {KVM_GET_XSAVE, false, XSAVE1, "KVM_GET_XSAVE", "snapshots"},
    {KVM_GET_XSAVE2, false, XSAVE2, "KVM_GET_XSAVE2", "snapshots with large XSAVE areas"},
    {KVM_SET_XSAVE, false, XSAVE, "KVM_SET_XSAVE", "restore"},
    {KVM_GET_DIRTY_LOG, true, TRACKING, "KVM_GET_DIRTY_LOG", "restore: pages the guest wrote"},
    {KVM_CLEAR_DIRTY_LOG, true, TRACKING, "KVM_CLEAR_DIRTY_LOG",
     "restore: shrinking the sticky working set"},
};

enum {
    NSYSCALLS = sizeof syscalls / sizeof syscalls[0],
    NIOCTLS = sizeof ioctls / sizeof ioctls[0]
};

static long omitted = -1;

void glint__confine_omit(long i)
{
    omitted = i;
}

size_t glint__confine_rules(void)
{
    return NSYSCALLS + NIOCTLS;
}

/* Is the request needed with this host's KVM? Without KVM no sandbox can
 * exist, so none is. */
static bool ioctl_needed(const struct ioctl_rule *r)
{
    glint_host_info hi = {.struct_size = sizeof hi};
    if (glint_host_info_get(&hi) != 0)
        return false;
    bool xsave2 = hi.xsave && hi.xsave_bytes > sizeof(struct kvm_xsave);
    switch (r->when) {
    case ALWAYS:
        return true;
    case NO_SYNC_REGS:
        return !hi.sync_regs;
    case NO_XSAVE:
        return !hi.xsave;
    case XSAVE:
        return hi.xsave;
    case XSAVE1:
        return hi.xsave && !xsave2;
    case XSAVE2:
        return xsave2;
    case TRACKING:
        return hi.dirty_tracking;
    }
    return false;
}

const char *glint__confine_rule(size_t i, bool *host_dependent)
{
    if (host_dependent)
        *host_dependent = false;
    if (i < NSYSCALLS) {
        if (host_dependent)
            *host_dependent = syscalls[i].host_dependent;
        return syscalls[i].name;
    }
    if (i < NSYSCALLS + NIOCTLS && ioctl_needed(&ioctls[i - NSYSCALLS]))
        return ioctls[i - NSYSCALLS].name;
    return NULL;
}

#define LOW32 0xffffffffull

static int add_syscall(scmp_filter_ctx ctx, const struct syscall_rule *r)
{
    switch (r->arg) {
    case ANY_ARGS:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
    case OWN_PID:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
                                SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (scmp_datum_t)getpid()));
    case NO_EXEC:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
                                SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    case ARG0_CODE:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
                                SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (scmp_datum_t)r->code));
    }
    return -EINVAL;
}

static int add_ioctl(scmp_filter_ctx ctx, const struct ioctl_rule *r,
                     const struct glint__kvm_fds *fds, size_t n)
{
    if (!fds)
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)r->cmd));
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        int fd = r->vm ? fds[k].vm_fd : fds[k].vcpu_fd;
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (scmp_datum_t)(unsigned)fd),
                              SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)r->cmd));
    }
    return rc;
}

int glint__confine(const struct glint__kvm_fds *fds, size_t n)
{
    /* Deny with EPERM: the thread learns it was refused, and nothing runs. */
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx)
        return glint__fail(GLINT_ENOMEM, "seccomp_init failed");
    int rc = 0;
    for (size_t i = 0; i < NSYSCALLS && rc == 0; i++)
        if ((long)i != omitted)
            rc = add_syscall(ctx, &syscalls[i]);
    for (size_t i = 0; i < NIOCTLS && rc == 0; i++)
        if ((long)(NSYSCALLS + i) != omitted && ioctl_needed(&ioctls[i]))
            rc = add_ioctl(ctx, &ioctls[i], fds, n);
    if (rc == 0)
        rc = seccomp_load(ctx); /* this thread only: TSYNC is off by default */
    seccomp_release(ctx);
    if (rc)
        return glint__fail(GLINT_EHV, "cannot install the seccomp filter: %s", strerror(-rc));
    return 0;
}

int glint_confine_thread(void)
{
    return glint__confine(NULL, 0);
}
