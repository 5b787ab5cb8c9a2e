/* Private to the KVM backend: the VM struct, process-wide KVM state, and the generic/x86 split. */
#ifndef GLINT_HV_KVM_PRIVATE_H
#define GLINT_HV_KVM_PRIVATE_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/hv.h"

/*
 * kvm.c is the generic half (device, capabilities, VM, memory slot, vCPU,
 * run loop, dirty log); kvm_x86.c the x86 half (CPUID, MSRs, XCR0, quirks,
 * segment and control registers, vCPU state); kvm_state_file.c converts vCPU
 * states to and from image files. Only these files include this header.
 */

struct glint__vm {
    int vm_fd, vcpu_fd;
    struct kvm_run *run;
    const uint8_t *mem; /* guest memory [0, mem_size), for diagnostics */
    uint64_t mem_size;
    bool tracking; /* dirty log in manual-protect mode is on */
};

/* Everything the guest can change in its vCPU: general, segment, control and
 * debug-visible registers, pending events, and the whole XSAVE area (x87,
 * SSE, AVX...) or, without XSAVE, the legacy FPU state. */
struct glint__vcpu_state {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_vcpu_events events;
    struct kvm_fpu fpu;
    uint8_t xsave[]; /* glint__kvm.xsave_size bytes (struct kvm_xsave and beyond) */
};

/* What glint__hv_open found, once per process. Read-only after it. */
struct glint__kvm {
    pthread_once_t once;
    int err;
    int kvm_fd;
    int run_size;
    struct kvm_cpuid2 *cpuid;
    size_t xsave_size; /* 0: no XSAVE, use KVM_GET/SET_FPU */
    bool xsave2;       /* KVM_GET_XSAVE2 for areas beyond 4 KiB */
    bool sync_regs;    /* registers travel in kvm_run, no ioctls */
    bool manual_dirty; /* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 */
    bool msr_filter;   /* KVM_CAP_X86_MSR_FILTER */
    bool no_patching;  /* KVM_X86_QUIRK_FIX_HYPERCALL_INSN can be disabled */
    bool osxsave;      /* guests get CR4.OSXSAVE and XCR0 = xcr0 */
    uint64_t xcr0;
    char why[320]; /* why KVM is unavailable, for glint_errmsg() */
};
extern struct glint__kvm glint__kvm;

/* A capability glint cannot work without, and what it needs it for. */
struct glint__kvm_required {
    long cap;
    const char *name;
    const char *need; /* "to ..." */
};

/* ioctl, retried on EINTR (but KVM_RUN, whose EINTR means "interrupted"). */
int glint__kvm_ioctl(int fd, unsigned long req, void *arg);

/* GLINT_EHV "<what> failed: <strerror(errno)>". */
int glint__kvm_fail(const char *what);

/* KVM_CHECK_EXTENSION on /dev/kvm: its value, <= 0 if absent. */
int glint__kvm_check(long cap);

/* GLINT_ENOKVM naming the first capability of t[0..n) that KVM lacks and
 * what glint needs it for, or 0. */
int glint__kvm_require(const struct glint__kvm_required *t, size_t n);

/* ---- x86 steps (kvm_x86.c), in the order kvm.c calls them ------------------ */

/* At open, after the generic checks: x86 capabilities, the CPUID table
 * (filtered), XSAVE size, XCR0, quirks. Fills glint__kvm; 0 or a GLINT_E*. */
int glint__kvm_x86_probe(void);
/* Free what glint__kvm_x86_probe allocated (on a failed open). */
void glint__kvm_x86_unprobe(void);

/* Per VM, before the memory slot: deny-all MSR filter, no hypercall patching. */
int glint__kvm_x86_vm_setup(glint__vm *vm);

/* Per vCPU, after its creation: CPUID table, XCR0, syscall/sysenter MSRs. */
int glint__kvm_x86_vcpu_setup(glint__vm *vm);

/* The segment and control registers of 64-bit mode at CPL3, from the descriptor table. */
void glint__kvm_x86_initial_sregs(struct kvm_sregs *s);

/* A fresh vCPU's state: 64-bit mode at CPL3 at rip/rsp. */
int glint__kvm_x86_initial_state(glint__vm *vm, uint64_t rip, uint64_t rsp);

#endif
