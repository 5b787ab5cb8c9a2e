/* KVM backend, x86 half: CPUID, MSRs, XCR0, quirks, registers from the descriptor table, vCPU
 * state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "glint/abi.h"
#include "hv/kvm_private.h"
#include "runtime/error.h"
#include "x86/cpu.h"
#include "x86/descriptors.h"
#include "x86/tables.h"

#define MAX_CPUID_ENTRIES 256

/* ---- at open ---------------------------------------------------------------------- */

static int check_x86_capabilities(void)
{
    static const struct glint__kvm_required required[] = {
        {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "to give the vCPU a filtered CPUID table"},
        {KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS",
         "to save and restore pending exceptions with the vCPU"},
    };
    return glint__kvm_require(required, sizeof required / sizeof required[0]);
}

static void probe_optional(void)
{
    if (glint__kvm_check(KVM_CAP_XSAVE) > 0) {
        int x2 = glint__kvm_check(KVM_CAP_XSAVE2);
        glint__kvm.xsave2 = x2 > (int)sizeof(struct kvm_xsave);
        glint__kvm.xsave_size = glint__kvm.xsave2 ? (size_t)x2 : sizeof(struct kvm_xsave);
    }
    const int all = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    int sync = glint__kvm_check(KVM_CAP_SYNC_REGS);
    glint__kvm.sync_regs = sync > 0 && (sync & all) == all;
    glint__kvm.msr_filter = glint__kvm_check(KVM_CAP_X86_MSR_FILTER) > 0;
    int quirks = glint__kvm_check(KVM_CAP_DISABLE_QUIRKS2);
    glint__kvm.no_patching = quirks > 0 && (quirks & KVM_X86_QUIRK_FIX_HYPERCALL_INSN);
}

static int get_supported_cpuid(void)
{
    glint__kvm.cpuid = calloc(1, sizeof *glint__kvm.cpuid +
                                     MAX_CPUID_ENTRIES * sizeof glint__kvm.cpuid->entries[0]);
    if (!glint__kvm.cpuid)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    glint__kvm.cpuid->nent = MAX_CPUID_ENTRIES;
    if (ioctl(glint__kvm.kvm_fd, KVM_GET_SUPPORTED_CPUID, glint__kvm.cpuid) < 0)
        return glint__fail(GLINT_ENOKVM, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
    return 0;
}

static const struct kvm_cpuid_entry2 *cpuid_entry(uint32_t fn, uint32_t index)
{
    for (uint32_t i = 0; i < glint__kvm.cpuid->nent; i++)
        if (glint__kvm.cpuid->entries[i].function == fn &&
            glint__kvm.cpuid->entries[i].index == index)
            return &glint__kvm.cpuid->entries[i];
    return NULL;
}

/* XCR0 for guests: what KVM supports (CPUID leaf 0xD) restricted to what
 * glint saves and restores and a CPL3 guest may use (x87, SSE, AVX,
 * AVX-512), only when the CPUID table offers XSAVE and KVM can set XCRs.
 * Then guests run with CR4.OSXSAVE set, as AVX needs on hardware KVM. */
static void choose_xcr0(void)
{
    const struct kvm_cpuid_entry2 *l1 = cpuid_entry(1, 0), *xd = cpuid_entry(0xd, 0);
    if (!l1 || !xd || !(l1->ecx & GLINT__CPUID1_ECX_XSAVE) || !glint__kvm.xsave_size ||
        glint__kvm_check(KVM_CAP_XCRS) <= 0)
        return;
    uint64_t x = ((uint64_t)xd->edx << 32 | xd->eax) & GLINT__XCR0_WANTED;
    if ((x & (GLINT__XCR0_X87 | GLINT__XCR0_SSE)) != (GLINT__XCR0_X87 | GLINT__XCR0_SSE))
        return;
    if (!(x & GLINT__XCR0_AVX) || (x & GLINT__XCR0_AVX512) != GLINT__XCR0_AVX512)
        x &= ~GLINT__XCR0_AVX512; /* the three AVX-512 components go together, on AVX */
    glint__kvm.xcr0 = x;
    glint__kvm.osxsave = true;
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
            if (glint__kvm.osxsave)
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

int glint__kvm_x86_probe(void)
{
    int rc;
    if ((rc = check_x86_capabilities()))
        return rc;
    probe_optional();
    if ((rc = get_supported_cpuid()))
        return rc;
    choose_xcr0(); /* reads the unfiltered table */
    filter_cpuid(glint__kvm.cpuid);
    return 0;
}

void glint__kvm_x86_unprobe(void)
{
    free(glint__kvm.cpuid);
    glint__kvm.cpuid = NULL;
}

/* ---- per VM ------------------------------------------------------------------------- */

/* Deny every guest MSR access (no ranges allowed): the guest never needs
 * one, and at CPL3 rdmsr/wrmsr fault anyway; this also covers a hypervisor
 * that would let one through. */
static int deny_msrs(glint__vm *vm)
{
    if (!glint__kvm.msr_filter)
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
    if (glint__kvm_ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
        return glint__kvm_fail("KVM_X86_SET_MSR_FILTER");
    return 0;
}

/* Never let KVM rewrite the guest's code: with KVM_X86_QUIRK_FIX_HYPERCALL_INSN
 * on, KVM "fixes" a vmcall/vmmcall of the other vendor by writing the native
 * one over it (a write to a read-only code page, which under PVM reaches the
 * guest as #PF). Off, the guest gets #UD and its code stays as loaded. */
static int no_hypercall_patching(glint__vm *vm)
{
    if (!glint__kvm.no_patching)
        return 0;
    struct kvm_enable_cap cap = {.cap = KVM_CAP_DISABLE_QUIRKS2};
    cap.args[0] = KVM_X86_QUIRK_FIX_HYPERCALL_INSN;
    if (glint__kvm_ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
        return glint__kvm_fail("disabling KVM_X86_QUIRK_FIX_HYPERCALL_INSN");
    return 0;
}

int glint__kvm_x86_vm_setup(glint__vm *vm)
{
    int rc;
    if ((rc = deny_msrs(vm)) || (rc = no_hypercall_patching(vm)))
        return rc;
    return 0;
}

/* ---- per vCPU ------------------------------------------------------------------------ */

/* XCR0 as chosen at open (needs the CPUID table set first). The guest
 * cannot change it (xsetbv faults at CPL3), so it is set once per VM and
 * is not part of saved or restored state. */
static int set_xcr0(glint__vm *vm)
{
    if (!glint__kvm.osxsave)
        return 0;
    struct kvm_xcrs x;
    memset(&x, 0, sizeof x);
    x.nr_xcrs = 1;
    x.xcrs[0].xcr = 0;
    x.xcrs[0].value = glint__kvm.xcr0;
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_XCRS, &x) < 0)
        return glint__kvm_fail("KVM_SET_XCRS");
    return 0;
}

/* MSRs pointed at the unmapped null page so syscall/sysenter cannot reach
 * anything even on hypervisors that ignore EFER.SCE: under PVM, `syscall`
 * with EFER.SCE clear jumps to LSTAR and stays at CPL3 (docs/security.md,
 * "Platform differences"). Then TSC_AUX 0, so rdpid/rdtscp where KVM runs
 * them for the guest reveal nothing; best effort: KVM refuses it on hosts
 * without the MSR. */
static int set_msrs(glint__vm *vm)
{
    static const uint32_t idx[] = {
        GLINT__MSR_SYSENTER_CS, GLINT__MSR_SYSENTER_ESP, GLINT__MSR_SYSENTER_EIP, GLINT__MSR_STAR,
        GLINT__MSR_LSTAR,       GLINT__MSR_CSTAR,        GLINT__MSR_SYSCALL_MASK};
    enum { N = sizeof idx / sizeof idx[0] };
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[N];
    } m;
    memset(&m, 0, sizeof m);
    m.hdr.nmsrs = N;
    for (int i = 0; i < N; i++)
        m.e[i].index = idx[i];
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_MSRS, &m) != N)
        return glint__kvm_fail("KVM_SET_MSRS");
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e;
    } aux;
    memset(&aux, 0, sizeof aux);
    aux.hdr.nmsrs = 1;
    aux.e.index = GLINT__MSR_TSC_AUX;
    (void)ioctl(vm->vcpu_fd, KVM_SET_MSRS, &aux);
    return 0;
}

int glint__kvm_x86_vcpu_setup(glint__vm *vm)
{
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_CPUID2, glint__kvm.cpuid) < 0)
        return glint__kvm_fail("KVM_SET_CPUID2");
    int rc;
    if ((rc = set_xcr0(vm)) || (rc = set_msrs(vm)))
        return rc;
    return 0;
}

/* A row of the descriptor table as KVM's segment register. */
static void to_kvm_segment(enum glint__x86_seg_id id, struct kvm_segment *k)
{
    const struct glint__x86_segment *s = glint__x86_segment(id);
    memset(k, 0, sizeof *k);
    k->base = s->base;
    k->limit = s->limit;
    k->selector = s->selector;
    k->type = s->type;
    k->s = s->s;
    k->dpl = s->dpl;
    k->present = s->present;
    k->avl = s->avl;
    k->l = s->l;
    k->db = s->db;
    k->g = s->g;
}

/* 64-bit mode at CPL3 straight away (SDM Vol. 3A 9.8.5): no real mode, no
 * BIOS, no guest kernel. */
void glint__kvm_x86_initial_sregs(struct kvm_sregs *s)
{
    memset(s, 0, sizeof *s);
    to_kvm_segment(GLINT__SEG_UCODE, &s->cs);
    to_kvm_segment(GLINT__SEG_UDATA, &s->ds);
    s->es = s->fs = s->gs = s->ss = s->ds;
    /* The TCB (glint/abi.h): set here, in the vCPU state, because wrfsbase at CPL3 needs
     * CR4.FSGSBASE, which glint leaves clear (PVM happens to ignore it; VMX and SVM do not). */
    s->fs.base = GLINT_ABI_TLS_ADDR;
    to_kvm_segment(GLINT__SEG_TSS, &s->tr);
    s->ldt.unusable = 1;
    s->ldt.type = GLINT__SEG_TYPE_LDT;
    s->gdt.base = GLINT_ABI_GDT_ADDR;
    s->gdt.limit = GLINT__GDT_LIMIT;
    s->idt.base = GLINT_ABI_IDT_ADDR;
    s->idt.limit = 256 * 16 - 1;
    s->cr0 = GLINT__CR0;
    s->cr3 = GLINT_ABI_PT_ADDR;
    s->cr4 = GLINT__CR4 | (glint__kvm.osxsave ? GLINT__CR4_OSXSAVE : 0);
    s->efer = GLINT__EFER;
}

int glint__kvm_x86_initial_state(glint__vm *vm, uint64_t rip, uint64_t rsp)
{
    struct kvm_sregs sregs;
    glint__kvm_x86_initial_sregs(&sregs);
    struct kvm_regs regs = {.rip = rip, .rsp = rsp, .rflags = GLINT__RFLAGS_FIXED};
    struct kvm_fpu fpu = {.fcw = 0x37f,
                          .mxcsr = 0x1f80}; /* the reset values (SDM Vol. 1 8.1.5, 10.2.3) */
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return glint__kvm_fail("KVM_SET_SREGS");
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return glint__kvm_fail("KVM_SET_REGS");
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_FPU, &fpu) < 0)
        return glint__kvm_fail("KVM_SET_FPU");
    return 0;
}

/* ---- vCPU state ------------------------------------------------------------------------ */

int glint__vm_save(glint__vm *vm, glint__vcpu_state **out)
{
    int rc = glint__vm_settle(vm);
    if (rc)
        return rc;
    glint__vcpu_state *s = calloc(1, sizeof *s + glint__kvm.xsave_size);
    if (!s)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    unsigned long get_xsave = glint__kvm.xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_GET_REGS, &s->regs) < 0 ||
        glint__kvm_ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s->sregs) < 0 ||
        glint__kvm_ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &s->events) < 0 ||
        (glint__kvm.xsave_size ? glint__kvm_ioctl(vm->vcpu_fd, get_xsave, s->xsave)
                               : glint__kvm_ioctl(vm->vcpu_fd, KVM_GET_FPU, &s->fpu)) < 0) {
        rc = glint__kvm_fail("saving vCPU state");
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
    if (glint__kvm.sync_regs) {
        /* Applied by the next KVM_RUN, before anything else it does. */
        run->s.regs.regs = s->regs;
        run->s.regs.sregs = s->sregs;
        run->s.regs.events = s->events;
        run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    } else if (glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_SREGS, &st->sregs) < 0 ||
               glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_REGS, &st->regs) < 0 ||
               glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_VCPU_EVENTS, &st->events) < 0) {
        return glint__kvm_fail("loading vCPU registers");
    }
    if ((glint__kvm.xsave_size ? glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_XSAVE, st->xsave)
                               : glint__kvm_ioctl(vm->vcpu_fd, KVM_SET_FPU, &st->fpu)) < 0)
        return glint__kvm_fail("loading vCPU FPU/XSAVE state");
    return 0;
}

/* ---- diagnostics ------------------------------------------------------------------------ */

int glint__vm_fault_regs(glint__vm *vm, struct glint__fault_regs *r)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
        glint__kvm_ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return glint__kvm_fail("reading vCPU registers");
    r->rip = regs.rip;
    r->rsp = regs.rsp;
    r->cr2 = sregs.cr2;
    r->cs = sregs.cs.selector;
    return 0;
}

int glint__vm_xcr0(glint__vm *vm, uint64_t *xcr0)
{
    struct kvm_xcrs x;
    memset(&x, 0, sizeof x);
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_GET_XCRS, &x) < 0)
        return glint__kvm_fail("KVM_GET_XCRS");
    for (uint32_t i = 0; i < x.nr_xcrs && i < KVM_MAX_XCRS; i++)
        if (x.xcrs[i].xcr == 0) {
            *xcr0 = x.xcrs[i].value;
            return 0;
        }
    return 1;
}

void glint__vm_dump(glint__vm *vm, char *buf, size_t n)
{
    if (n == 0)
        return;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    if (glint__kvm_ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
        glint__kvm_ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
        snprintf(buf, n, "vCPU registers unreadable: %s", strerror(errno));
        return;
    }
    int k =
        snprintf(buf, n, "rip 0x%llx rsp 0x%llx rflags 0x%llx cs 0x%x cr2 0x%llx; code",
                 (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
                 (unsigned long long)regs.rflags, sregs.cs.selector, (unsigned long long)sregs.cr2);
    /* Guest virtual = guest physical: rip indexes guest memory if in it. */
    uint64_t avail = regs.rip < vm->mem_size ? vm->mem_size - regs.rip : 0;
    if (avail == 0 && k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, " outside guest memory");
    for (uint64_t i = 0; i < GLINT__DUMP_CODE_BYTES && i < avail && k > 0 && (size_t)k < n; i++)
        k += snprintf(buf + k, n - (size_t)k, " %02x", vm->mem[regs.rip + i]);
}
