/* KVM backend: VM, memory slot, vCPU in 64-bit mode at CPL3, run loop exits. */
#include "hv/hv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/error.h"
#include "hv/pvm_selectors.h"
#include "glint/abi.h"
#include "x86/tables.h"

#define MAX_CPUID_ENTRIES 256

/* MSRs pointed at the unmapped null page so syscall/sysenter cannot reach
 * anything even on hypervisors that ignore EFER.SCE: under PVM, `syscall`
 * with EFER.SCE clear jumps to LSTAR and stays at CPL3 (docs/security.md,
 * "Platform differences"). */
#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_STAR              0xc0000081
#define MSR_LSTAR             0xc0000082
#define MSR_CSTAR             0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_TSC_AUX           0xc0000103

/* Older UAPI headers lack these (values from the kernel's KVM API). */
#ifndef KVM_CAP_DISABLE_QUIRKS2
#define KVM_CAP_DISABLE_QUIRKS2 213
#endif
#ifndef KVM_X86_QUIRK_FIX_HYPERCALL_INSN
#define KVM_X86_QUIRK_FIX_HYPERCALL_INSN (1 << 5)
#endif

struct glint__vm {
    int vm_fd, vcpu_fd;
    struct kvm_run *run;
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
    uint8_t xsave[]; /* kvm.xsave_size bytes (struct kvm_xsave and beyond) */
};

static struct {
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
} kvm = {.once = PTHREAD_ONCE_INIT, .kvm_fd = -1};

static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do
        r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR && req != KVM_RUN);
    return r;
}

/* The CPUID table every vCPU gets. Hidden: nested virtualisation (VMX, SVM),
 * and RDPID/RDTSCP, which read IA32_TSC_AUX (the host CPU number on Linux
 * hosts); glint also sets the guest's TSC_AUX to 0. OSXSAVE mirrors the
 * guest's CR4.OSXSAVE. (Effective where KVM intercepts cpuid; under PVM,
 * cpuid at CPL3 returns the host's and rdpid/rdtscp run natively, see
 * docs/security.md.) */
static void filter_cpuid(struct kvm_cpuid2 *c)
{
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == 1) {
            e->ecx &= ~GLINT__CPUID1_ECX_VMX;
            if (kvm.osxsave)
                e->ecx |= GLINT__CPUID1_ECX_OSXSAVE;
            else
                e->ecx &= ~GLINT__CPUID1_ECX_OSXSAVE;
        }
        if (e->function == 7 && e->index == 0)
            e->ecx &= ~GLINT__CPUID7_ECX_RDPID;
        if (e->function == 0x80000001) {
            e->ecx &= ~GLINT__CPUID81_ECX_SVM;
            e->edx &= ~GLINT__CPUID81_EDX_RDTSCP;
        }
    }
}

static const struct kvm_cpuid_entry2 *cpuid_entry(uint32_t fn, uint32_t index)
{
    for (uint32_t i = 0; i < kvm.cpuid->nent; i++)
        if (kvm.cpuid->entries[i].function == fn && kvm.cpuid->entries[i].index == index)
            return &kvm.cpuid->entries[i];
    return NULL;
}

/* XCR0 for guests: what KVM supports (CPUID leaf 0xD) restricted to what
 * glint saves and restores and a CPL3 guest may use (x87, SSE, AVX,
 * AVX-512), only when the CPUID table offers XSAVE and KVM can set XCRs.
 * Then guests run with CR4.OSXSAVE set, as AVX needs on hardware KVM. */
static void choose_xcr0(void)
{
    const struct kvm_cpuid_entry2 *l1 = cpuid_entry(1, 0), *xd = cpuid_entry(0xd, 0);
    if (!l1 || !xd || !(l1->ecx & GLINT__CPUID1_ECX_XSAVE) || !kvm.xsave_size ||
        ioctl(kvm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0)
        return;
    uint64_t x = ((uint64_t)xd->edx << 32 | xd->eax) & GLINT__XCR0_WANTED;
    if ((x & (GLINT__XCR0_X87 | GLINT__XCR0_SSE)) != (GLINT__XCR0_X87 | GLINT__XCR0_SSE))
        return;
    if (!(x & GLINT__XCR0_AVX) || (x & GLINT__XCR0_AVX512) != GLINT__XCR0_AVX512)
        x &= ~GLINT__XCR0_AVX512; /* the three AVX-512 components go together, on AVX */
    kvm.xcr0 = x;
    kvm.osxsave = true;
}

/* Why /dev/kvm could not be opened, in words a user can act on. */
static void open_failed(int err)
{
    const char *e = strerror(err);
    if (err == ENOENT || err == ENODEV || err == ENXIO)
        snprintf(kvm.why, sizeof kvm.why,
                 "/dev/kvm is missing (%s): this host offers no KVM, or the kvm module "
                 "(kvm_intel, kvm_amd or kvm_pvm) is not loaded",
                 e);
    else if (err == EACCES || err == EPERM)
        snprintf(kvm.why, sizeof kvm.why,
                 "no permission to open /dev/kvm read-write (%s): add yourself to the kvm "
                 "group (then log in again) or ask for access",
                 e);
    else
        snprintf(kvm.why, sizeof kvm.why, "cannot open /dev/kvm: %s", e);
    kvm.err = GLINT_ENOKVM;
}

static void open_once(void)
{
    kvm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm.kvm_fd < 0) {
        open_failed(errno);
        return;
    }
    int ver = ioctl(kvm.kvm_fd, KVM_GET_API_VERSION, 0);
    if (ver != KVM_API_VERSION) {
        kvm.err = glint__fail(GLINT_ENOKVM, "KVM API version %d, want %d", ver, KVM_API_VERSION);
        goto fail;
    }
    static const struct {
        int cap;
        const char *name;
    } required[] = {
        {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
        {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
        {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
        {KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS"},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (ioctl(kvm.kvm_fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
            kvm.err =
                glint__fail(GLINT_ENOKVM, "KVM lacks required capability %s", required[i].name);
            goto fail;
        }
    }
    kvm.run_size = ioctl(kvm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (kvm.run_size < (int)sizeof(struct kvm_run)) {
        kvm.err = glint__fail(GLINT_ENOKVM, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        goto fail;
    }
    if (ioctl(kvm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0) {
        int x2 = ioctl(kvm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
        kvm.xsave2 = x2 > (int)sizeof(struct kvm_xsave);
        kvm.xsave_size = kvm.xsave2 ? (size_t)x2 : sizeof(struct kvm_xsave);
    }
    int sync = ioctl(kvm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
    kvm.sync_regs =
        sync > 0 && (sync & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)) ==
                        (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS);
    int md = ioctl(kvm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
    kvm.manual_dirty = md > 0 && (md & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
    kvm.msr_filter = ioctl(kvm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) > 0;
    kvm.cpuid = calloc(1, sizeof *kvm.cpuid + MAX_CPUID_ENTRIES * sizeof kvm.cpuid->entries[0]);
    if (!kvm.cpuid) {
        kvm.err = glint__fail(GLINT_ENOMEM, "out of memory");
        goto fail;
    }
    kvm.cpuid->nent = MAX_CPUID_ENTRIES;
    if (ioctl(kvm.kvm_fd, KVM_GET_SUPPORTED_CPUID, kvm.cpuid) < 0) {
        kvm.err = glint__fail(GLINT_ENOKVM, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
        free(kvm.cpuid);
        kvm.cpuid = NULL;
        goto fail;
    }
    int quirks = ioctl(kvm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2);
    kvm.no_patching = quirks > 0 && (quirks & KVM_X86_QUIRK_FIX_HYPERCALL_INSN);
    choose_xcr0();
    filter_cpuid(kvm.cpuid);
    return;
fail:
    snprintf(kvm.why, sizeof kvm.why, "%s", glint_errmsg());
    close(kvm.kvm_fd);
    kvm.kvm_fd = -1;
}

int glint__hv_open(void)
{
    pthread_once(&kvm.once, open_once);
    if (kvm.err)
        return glint__fail(kvm.err, "KVM is not available: %s", kvm.why);
    return 0;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
    memset(s, 0, sizeof *s);
    s->base = 0;
    s->limit = 0xffffffff;
    s->selector = sel;
    s->type = type;
    s->present = 1;
    s->dpl = sel & 3;
    s->s = 1;
    s->g = 1;
    s->l = code ? 1 : 0;
    s->db = code ? 0 : 1;
}

/* 64-bit mode at CPL3 straight away (SDM Vol. 3A 9.8.5): no real mode, no
 * BIOS, no guest kernel. */
static void initial_sregs(struct kvm_sregs *s)
{
    set_seg(&s->cs, GLINT__SEL_UCODE | 3, 0xb, 1);
    set_seg(&s->ds, GLINT__SEL_UDATA | 3, 0x3, 0);
    s->es = s->fs = s->gs = s->ss = s->ds;
    memset(&s->tr, 0, sizeof s->tr);
    s->tr.base = GLINT_ABI_TSS_ADDR;
    s->tr.limit = GLINT__TSS_LIMIT;
    s->tr.selector = GLINT__SEL_TSS;
    s->tr.type = 0xb; /* 64-bit busy TSS */
    s->tr.present = 1;
    memset(&s->ldt, 0, sizeof s->ldt);
    s->ldt.unusable = 1;
    s->ldt.type = 0x2;
    s->gdt.base = GLINT_ABI_GDT_ADDR;
    s->gdt.limit = GLINT__GDT_LIMIT;
    s->idt.base = GLINT_ABI_IDT_ADDR;
    s->idt.limit = 256 * 16 - 1;
    s->cr0 = GLINT__CR0;
    s->cr3 = GLINT_ABI_PT_ADDR;
    s->cr4 = GLINT__CR4 | (kvm.osxsave ? GLINT__CR4_OSXSAVE : 0);
    s->efer = GLINT__EFER;
    memset(s->interrupt_bitmap, 0, sizeof s->interrupt_bitmap);
}

static int set_msrs(int fd)
{
    static const uint32_t idx[] = {MSR_IA32_SYSENTER_CS,
                                   MSR_IA32_SYSENTER_ESP,
                                   MSR_IA32_SYSENTER_EIP,
                                   MSR_STAR,
                                   MSR_LSTAR,
                                   MSR_CSTAR,
                                   MSR_SYSCALL_MASK};
    enum { N = sizeof idx / sizeof idx[0] };
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[N];
    } m;
    memset(&m, 0, sizeof m);
    m.hdr.nmsrs = N;
    for (int i = 0; i < N; i++)
        m.e[i].index = idx[i];
    if (ioctl(fd, KVM_SET_MSRS, &m) != N)
        return -1;
    /* TSC_AUX 0, so rdpid/rdtscp where KVM runs them for the guest reveal
     * nothing. Best effort: KVM refuses it on hosts without the MSR. */
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e;
    } aux;
    memset(&aux, 0, sizeof aux);
    aux.hdr.nmsrs = 1;
    aux.e.index = MSR_TSC_AUX;
    (void)ioctl(fd, KVM_SET_MSRS, &aux);
    return 0;
}

static int hv_err(const char *what)
{
    return glint__fail(GLINT_EHV, "%s failed: %s", what, strerror(errno));
}

/* Start dirty logging in manual-protect mode: every page starts write-protected
 * and clean; a written page is reported by KVM_GET_DIRTY_LOG from then on and
 * stays writable until glint__vm_reprotect() (the "sticky working set"). */
/* Deny every guest MSR access (no ranges allowed): the guest never needs
 * one, and at CPL3 rdmsr/wrmsr fault anyway; this also covers a hypervisor
 * that would let one through. */
static int deny_msrs(glint__vm *vm)
{
    if (!kvm.msr_filter)
        return 0;
    /* KVM refuses a filter without ranges, so give it one that allows
     * nothing (bitmap bit 0 = deny) for MSR 0. */
    static uint8_t deny_bitmap[1];
    struct kvm_msr_filter f;
    memset(&f, 0, sizeof f);
    f.flags = KVM_MSR_FILTER_DEFAULT_DENY;
    f.ranges[0].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
    f.ranges[0].base = 0;
    f.ranges[0].nmsrs = 1;
    f.ranges[0].bitmap = deny_bitmap;
    if (xioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
        return hv_err("KVM_X86_SET_MSR_FILTER");
    return 0;
}

/* Never let KVM rewrite the guest's code: with KVM_X86_QUIRK_FIX_HYPERCALL_INSN
 * on, KVM "fixes" a vmcall/vmmcall of the other vendor by writing the native
 * one over it (a write to a read-only code page, which under PVM reaches the
 * guest as #PF). Off, the guest gets #UD and its code stays as loaded. */
static int no_hypercall_patching(glint__vm *vm)
{
    if (!kvm.no_patching)
        return 0;
    struct kvm_enable_cap cap = {.cap = KVM_CAP_DISABLE_QUIRKS2};
    cap.args[0] = KVM_X86_QUIRK_FIX_HYPERCALL_INSN;
    if (xioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
        return hv_err("disabling KVM_X86_QUIRK_FIX_HYPERCALL_INSN");
    return 0;
}

/* XCR0 as chosen at open (needs the CPUID table set first). The guest
 * cannot change it (xsetbv faults at CPL3), so it is set once per VM and
 * is not part of saved or restored state. */
static int set_xcr0(glint__vm *vm)
{
    if (!kvm.osxsave)
        return 0;
    struct kvm_xcrs x;
    memset(&x, 0, sizeof x);
    x.nr_xcrs = 1;
    x.xcrs[0].xcr = 0;
    x.xcrs[0].value = kvm.xcr0;
    if (xioctl(vm->vcpu_fd, KVM_SET_XCRS, &x) < 0)
        return hv_err("KVM_SET_XCRS");
    return 0;
}

int glint__vm_xcr0(glint__vm *vm, uint64_t *xcr0)
{
    struct kvm_xcrs x;
    memset(&x, 0, sizeof x);
    if (xioctl(vm->vcpu_fd, KVM_GET_XCRS, &x) < 0)
        return hv_err("KVM_GET_XCRS");
    for (uint32_t i = 0; i < x.nr_xcrs && i < KVM_MAX_XCRS; i++)
        if (x.xcrs[i].xcr == 0) {
            *xcr0 = x.xcrs[i].value;
            return 0;
        }
    return 1;
}

static int enable_tracking(glint__vm *vm, struct kvm_userspace_memory_region *region)
{
    if (!kvm.manual_dirty)
        return 0;
    struct kvm_enable_cap cap = {.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2};
    cap.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
    if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
        return 0; /* restore falls back to copying every writable page */
    region->flags |= KVM_MEM_LOG_DIRTY_PAGES;
    vm->tracking = true;
    return 0;
}

/* The state a fresh guest starts in: the ELF entry at CPL3. */
static int set_initial_state(glint__vm *vm, uint64_t rip, uint64_t rsp)
{
    struct kvm_sregs sregs;
    memset(&sregs, 0, sizeof sregs);
    initial_sregs(&sregs);
    struct kvm_regs regs = {.rip = rip, .rsp = rsp, .rflags = 0x2};
    struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
    if (xioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return hv_err("KVM_SET_SREGS");
    if (xioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return hv_err("KVM_SET_REGS");
    if (xioctl(vm->vcpu_fd, KVM_SET_FPU, &fpu) < 0)
        return hv_err("KVM_SET_FPU");
    return 0;
}

int glint__vm_create(void *mem, uint64_t size, const glint__vcpu_state *state, uint64_t rip,
                     uint64_t rsp, glint__vm **out)
{
    int rc = glint__hv_open();
    if (rc)
        return rc;
    glint__vm *vm = calloc(1, sizeof *vm);
    if (!vm)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    vm->vm_fd = vm->vcpu_fd = -1;
    vm->run = MAP_FAILED;
    vm->mem_size = size;
    vm->vm_fd = xioctl(kvm.kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0) {
        rc = hv_err("KVM_CREATE_VM");
        goto fail;
    }
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)mem,
    };
    if ((rc = deny_msrs(vm)) || (rc = no_hypercall_patching(vm)) ||
        (rc = enable_tracking(vm, &region)))
        goto fail;
    if (xioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        rc = hv_err("KVM_SET_USER_MEMORY_REGION");
        goto fail;
    }
    vm->vcpu_fd = xioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu_fd < 0) {
        rc = hv_err("KVM_CREATE_VCPU");
        goto fail;
    }
    vm->run = mmap(NULL, (size_t)kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
    if (vm->run == MAP_FAILED) {
        rc = hv_err("mmap of kvm_run");
        goto fail;
    }
    if (xioctl(vm->vcpu_fd, KVM_SET_CPUID2, kvm.cpuid) < 0) {
        rc = hv_err("KVM_SET_CPUID2");
        goto fail;
    }
    if ((rc = set_xcr0(vm)))
        goto fail;
    if (set_msrs(vm->vcpu_fd) < 0) {
        rc = hv_err("KVM_SET_MSRS");
        goto fail;
    }
    rc = state ? glint__vm_load(vm, state) : set_initial_state(vm, rip, rsp);
    if (rc)
        goto fail;
    *out = vm;
    return 0;
fail:
    glint__vm_destroy(vm);
    return rc;
}

void glint__vm_destroy(glint__vm *vm)
{
    if (!vm)
        return;
    if (vm->run != MAP_FAILED)
        munmap(vm->run, (size_t)kvm.run_size);
    if (vm->vcpu_fd >= 0)
        close(vm->vcpu_fd);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    free(vm);
}

volatile uint8_t *glint__vm_kick_flag(glint__vm *vm)
{
    return &vm->run->immediate_exit;
}

static const char *exit_name(uint32_t r)
{
    static const char *const names[] = {
        [KVM_EXIT_UNKNOWN] = "UNKNOWN",
        [KVM_EXIT_EXCEPTION] = "EXCEPTION",
        [KVM_EXIT_IO] = "IO",
        [KVM_EXIT_HYPERCALL] = "HYPERCALL",
        [KVM_EXIT_DEBUG] = "DEBUG",
        [KVM_EXIT_HLT] = "HLT",
        [KVM_EXIT_MMIO] = "MMIO",
        [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
        [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
        [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
        [KVM_EXIT_INTR] = "INTR",
        [KVM_EXIT_SET_TPR] = "SET_TPR",
        [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
        [KVM_EXIT_NMI] = "NMI",
        [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
        [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
    };
    if (r < sizeof names / sizeof names[0] && names[r])
        return names[r];
    return "(unnamed)";
}

/* KVM_RUN, with the host thread's segment selectors kept intact. */
static int kvm_run(glint__vm *vm)
{
    struct glint__host_segs segs;
    glint__host_segs_save(&segs);
    int r = ioctl(vm->vcpu_fd, KVM_RUN, 0);
    int saved_errno = errno;
    glint__host_segs_restore(&segs);
    errno = saved_errno;
    return r;
}

int glint__vm_run(glint__vm *vm, struct glint__exit *ex)
{
    struct kvm_run *run = vm->run;
    memset(ex, 0, sizeof *ex);
    if (kvm_run(vm) < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            ex->kind = GLINT__EXIT_INTR;
            ex->reason = KVM_EXIT_INTR;
            ex->reason_name = "INTR";
            return 0;
        }
        return hv_err("KVM_RUN");
    }
    ex->reason = run->exit_reason;
    ex->reason_name = exit_name(run->exit_reason);
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        ex->kind = GLINT__EXIT_IO;
        ex->port = run->io.port;
        ex->size = run->io.size;
        ex->out = run->io.direction == KVM_EXIT_IO_OUT;
        if (run->io.size <= 4 && run->io.data_offset <= (uint64_t)kvm.run_size - 4)
            memcpy(&ex->data, (uint8_t *)run + run->io.data_offset, run->io.size);
        break;
    case KVM_EXIT_SHUTDOWN:
        ex->kind = GLINT__EXIT_SHUTDOWN;
        break;
    case KVM_EXIT_INTR:
        ex->kind = GLINT__EXIT_INTR;
        break;
    case KVM_EXIT_HLT:
        ex->kind = GLINT__EXIT_HLT;
        break;
    case KVM_EXIT_MMIO:
        ex->kind = GLINT__EXIT_MMIO;
        ex->addr = run->mmio.phys_addr;
        break;
    case KVM_EXIT_FAIL_ENTRY:
        ex->kind = GLINT__EXIT_FAIL_ENTRY;
        ex->hw_reason = run->fail_entry.hardware_entry_failure_reason;
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        ex->kind = GLINT__EXIT_INTERNAL;
        ex->hw_reason = run->internal.suberror;
        break;
    default:
        ex->kind = GLINT__EXIT_OTHER;
        break;
    }
    return 0;
}

/* Finish a pending I/O exit and apply registers queued in kvm_run, without
 * running guest code: immediate_exit makes KVM_RUN do exactly that (api.rst). */
int glint__vm_settle(glint__vm *vm)
{
    /* A string I/O instruction may need several completions. */
    for (int i = 0; i < 100000; i++) {
        vm->run->immediate_exit = 1;
        int r = kvm_run(vm);
        vm->run->immediate_exit = 0;
        if (r < 0 && errno == EINTR)
            return 0;
        if (r < 0)
            return hv_err("settling the vCPU");
        if (vm->run->exit_reason != KVM_EXIT_IO)
            break;
    }
    return glint__fail(GLINT_EHV, "settling the vCPU failed: exit %u instead of EINTR",
                       vm->run->exit_reason);
}

int glint__vm_save(glint__vm *vm, glint__vcpu_state **out)
{
    int rc = glint__vm_settle(vm);
    if (rc)
        return rc;
    glint__vcpu_state *s = calloc(1, sizeof *s + kvm.xsave_size);
    if (!s)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    unsigned long get_xsave = kvm.xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
    if (xioctl(vm->vcpu_fd, KVM_GET_REGS, &s->regs) < 0 ||
        xioctl(vm->vcpu_fd, KVM_GET_SREGS, &s->sregs) < 0 ||
        xioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &s->events) < 0 ||
        (kvm.xsave_size ? xioctl(vm->vcpu_fd, get_xsave, s->xsave)
                        : xioctl(vm->vcpu_fd, KVM_GET_FPU, &s->fpu)) < 0) {
        rc = hv_err("saving vCPU state");
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void glint__vcpu_state_free(glint__vcpu_state *s)
{
    free(s);
}

int glint__vm_load(glint__vm *vm, const glint__vcpu_state *s)
{
    struct kvm_run *run = vm->run;
    /* ioctls take non-const pointers */
    glint__vcpu_state *st = (glint__vcpu_state *)(uintptr_t)s;
    if (kvm.sync_regs) {
        /* Applied by the next KVM_RUN, before anything else it does. */
        run->s.regs.regs = s->regs;
        run->s.regs.sregs = s->sregs;
        run->s.regs.events = s->events;
        run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    } else if (xioctl(vm->vcpu_fd, KVM_SET_SREGS, &st->sregs) < 0 ||
               xioctl(vm->vcpu_fd, KVM_SET_REGS, &st->regs) < 0 ||
               xioctl(vm->vcpu_fd, KVM_SET_VCPU_EVENTS, &st->events) < 0) {
        return hv_err("loading vCPU registers");
    }
    if ((kvm.xsave_size ? xioctl(vm->vcpu_fd, KVM_SET_XSAVE, st->xsave)
                        : xioctl(vm->vcpu_fd, KVM_SET_FPU, &st->fpu)) < 0)
        return hv_err("loading vCPU FPU/XSAVE state");
    return 0;
}

int glint__vm_dirty_log(glint__vm *vm, uint64_t *bitmap)
{
    if (!vm->tracking)
        return 1;
    struct kvm_dirty_log log = {.slot = 0, .dirty_bitmap = bitmap};
    if (xioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
        return hv_err("KVM_GET_DIRTY_LOG");
    return 0;
}

int glint__vm_reprotect(glint__vm *vm, const uint64_t *bitmap)
{
    if (!vm->tracking)
        return 0;
    uint64_t pages = vm->mem_size / GLINT_ABI_PAGE_SIZE;
    struct kvm_clear_dirty_log c = {
        .slot = 0,
        .num_pages = (uint32_t)pages,
        .first_page = 0,
        .dirty_bitmap = (void *)(uintptr_t)bitmap,
    };
    if (xioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &c) < 0)
        return hv_err("KVM_CLEAR_DIRTY_LOG");
    return 0;
}

int glint__vm_fault_regs(glint__vm *vm, struct glint__fault_regs *r)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    if (xioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
        xioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return hv_err("reading vCPU registers");
    r->rip = regs.rip;
    r->rsp = regs.rsp;
    r->cr2 = sregs.cr2;
    r->cs = sregs.cs.selector;
    return 0;
}

void glint__vm_fds(const glint__vm *vm, int *vm_fd, int *vcpu_fd)
{
    *vm_fd = vm->vm_fd;
    *vcpu_fd = vm->vcpu_fd;
}

int glint_host_info_get(glint_host_info *info)
{
    if (!info)
        return glint__fail(GLINT_EINVAL, "glint_host_info_get: NULL argument");
    memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
    int rc = glint__hv_open();
    if (rc)
        return rc;
    info->kvm = true;
    info->msr_filter = kvm.msr_filter;
    info->dirty_tracking = kvm.manual_dirty;
    info->sync_regs = kvm.sync_regs;
    info->xsave = kvm.xsave_size != 0;
    info->xsave_bytes = (uint32_t)kvm.xsave_size;
    info->no_hypercall_patching = kvm.no_patching;
    info->osxsave = kvm.osxsave;
    info->xcr0 = kvm.xcr0;
    return 0;
}
