/* KVM backend: a vCPU state to and from an image file's record (registers, FPU in this CPU's
 * format). */
#include <stdlib.h>
#include <string.h>

#include "glint/abi.h"
#include "hv/kvm_private.h"
#include "load/gimg.h"
#include "runtime/error.h"

/* XSAVE area offsets (SDM Vol. 1 13.4): legacy region, then the header. */
#define XSAVE_MXCSR      24
#define XSAVE_HEADER     512
#define XSAVE_XCOMP_BV   520
#define XSAVE_HEADER_END 576

/* This host's FPU format: what a file's record must match. */
static void host_format(struct glint__gimg_vcpu *r)
{
    r->fp_format = glint__kvm.xsave_size ? GLINT__GIMG_FP_XSAVE : GLINT__GIMG_FP_LEGACY;
    r->fp_size =
        glint__kvm.xsave_size ? (uint32_t)glint__kvm.xsave_size : (uint32_t)sizeof(struct kvm_fpu);
    r->xcr0 = 0;
    memset(r->xsave_offsets, 0, sizeof r->xsave_offsets);
    if (!glint__kvm.xsave_size)
        return;
    /* The features KVM's XSAVE area holds (CPUID 0xD.0 EDX:EAX) and where each lies. */
    const struct kvm_cpuid2 *c = glint__kvm.cpuid;
    uint64_t mask = 3; /* x87 and SSE: always in the legacy region */
    for (uint32_t i = 0; c && i < c->nent; i++)
        if (c->entries[i].function == 0xd && c->entries[i].index == 0)
            mask |= c->entries[i].eax | (uint64_t)c->entries[i].edx << 32;
    mask &= (1ull << (GLINT__GIMG_XSAVE_COMPONENTS + 2)) - 1;
    for (uint32_t i = 0; c && i < c->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &c->entries[i];
        uint32_t k = e->index;
        if (e->function == 0xd && k >= 2 && k < GLINT__GIMG_XSAVE_COMPONENTS + 2 &&
            (mask >> k & 1) && e->ebx >= XSAVE_HEADER_END && e->ebx < r->fp_size)
            r->xsave_offsets[k - 2] = e->ebx;
    }
    for (uint32_t k = 2; k < GLINT__GIMG_XSAVE_COMPONENTS + 2; k++)
        if (!r->xsave_offsets[k - 2])
            mask &= ~(1ull << k); /* no usable offset: not a component here */
    r->xcr0 = mask;
}

int glint__vcpu_state_export(const glint__vcpu_state *s, struct glint__gimg_vcpu *rec,
                             const void **fp)
{
    struct kvm_sregs want;
    glint__kvm_x86_initial_sregs(&want);
    const struct kvm_sregs *h = &s->sregs;
    if (h->cs.selector != want.cs.selector || h->ss.selector != want.ss.selector ||
        h->ds.selector != want.ds.selector || h->es.selector != want.es.selector ||
        h->fs.selector != want.fs.selector || h->gs.selector != want.gs.selector ||
        h->tr.selector != want.tr.selector || h->fs.base != want.fs.base ||
        h->gs.base != want.gs.base || h->cr3 != want.cr3)
        return glint__fail(GLINT_EINVAL,
                           "cannot save the image: its vCPU's segment or control registers "
                           "differ from the descriptor table's (cs 0x%x, fs.base 0x%llx)",
                           h->cs.selector, (unsigned long long)h->fs.base);
    const struct kvm_vcpu_events *e = &s->events;
    if (e->exception.injected || e->exception.pending || e->interrupt.injected || e->nmi.injected ||
        e->nmi.pending)
        return glint__fail(GLINT_EINVAL,
                           "cannot save the image: its vCPU has a pending exception or interrupt");
    host_format(rec);
    const struct kvm_regs *g = &s->regs;
    const uint64_t regs[18] = {g->rax, g->rbx, g->rcx, g->rdx, g->rsi, g->rdi,
                               g->rsp, g->rbp, g->r8,  g->r9,  g->r10, g->r11,
                               g->r12, g->r13, g->r14, g->r15, g->rip, g->rflags};
    memcpy(rec->regs, regs, sizeof regs);
    *fp = glint__kvm.xsave_size ? (const void *)s->xsave : (const void *)&s->fpu;
    return 0;
}

/* The FPU bytes hold nothing KVM would refuse or this format cannot mean. */
static int check_fp(const struct glint__gimg_vcpu *rec, const uint8_t *fp)
{
    uint32_t mxcsr;
    if (rec->fp_format == GLINT__GIMG_FP_LEGACY ? rec->fp_size != sizeof(struct kvm_fpu)
                                                : rec->fp_size < XSAVE_HEADER_END)
        return glint__fail(GLINT_EIMAGE, "image file: vcpu.fp_size %u is wrong for its format",
                           rec->fp_size);
    if (rec->fp_format == GLINT__GIMG_FP_LEGACY) {
        struct kvm_fpu f;
        memcpy(&f, fp, sizeof f);
        mxcsr = f.mxcsr;
    } else {
        memcpy(&mxcsr, fp + XSAVE_MXCSR, sizeof mxcsr);
        uint64_t bv, comp;
        memcpy(&bv, fp + XSAVE_HEADER, sizeof bv);
        memcpy(&comp, fp + XSAVE_XCOMP_BV, sizeof comp);
        if (bv & ~rec->xcr0)
            return glint__fail(GLINT_EIMAGE,
                               "image file: vcpu XSAVE header's XSTATE_BV 0x%llx has features "
                               "outside xcr0 0x%llx",
                               (unsigned long long)bv, (unsigned long long)rec->xcr0);
        if (comp)
            return glint__fail(GLINT_EIMAGE,
                               "image file: vcpu XSAVE area is compacted (XCOMP_BV 0x%llx)",
                               (unsigned long long)comp);
        for (uint32_t i = XSAVE_XCOMP_BV + 8; i < XSAVE_HEADER_END; i++)
            if (fp[i])
                return glint__fail(GLINT_EIMAGE,
                                   "image file: vcpu XSAVE header reserved bytes not zero");
    }
    if (mxcsr & 0xffff0000u)
        return glint__fail(GLINT_EIMAGE, "image file: vcpu MXCSR 0x%x sets reserved bits", mxcsr);
    return 0;
}

/* Can this host load the record's FPU state? The same kind (XSAVE or legacy), and every
 * XSAVE component the state holds (XSTATE_BV; x87 and SSE live in the legacy region, the
 * same everywhere) present here at the same offset. Components in their initial state
 * are not needed, so a file moves between CPUs whose layouts differ only in those
 * (AVX-512's offsets differ between AMD and Intel; SSE and AVX are architectural). */
static int check_format(const struct glint__gimg_vcpu *rec, const uint8_t *fp,
                        const struct glint__gimg_vcpu *here)
{
    if (rec->fp_format != here->fp_format)
        return glint__fail(GLINT_EABI,
                           "image file: its vCPU state was saved as %s, this host uses %s: "
                           "rebuild the image file on this kind of host (glint image build)",
                           rec->fp_format == GLINT__GIMG_FP_XSAVE ? "an XSAVE area"
                                                                  : "legacy FPU state",
                           here->fp_format == GLINT__GIMG_FP_XSAVE ? "XSAVE" : "legacy FPU state");
    if (rec->fp_format != GLINT__GIMG_FP_XSAVE)
        return 0;
    uint64_t bv;
    memcpy(&bv, fp + XSAVE_HEADER, sizeof bv);
    for (uint32_t k = 2; k < GLINT__GIMG_XSAVE_COMPONENTS + 2; k++) {
        if (!(bv >> k & 1))
            continue;
        uint32_t there = rec->xsave_offsets[k - 2], mine = here->xsave_offsets[k - 2];
        if (!(here->xcr0 >> k & 1) || mine != there)
            return glint__fail(GLINT_EABI,
                               "image file: its vCPU state holds XSAVE component %u at offset "
                               "%u, which this CPU %s: rebuild the image file on this kind of "
                               "host (glint image build)",
                               k, there, (here->xcr0 >> k & 1) ? "places elsewhere" : "lacks");
    }
    return 0;
}

int glint__vcpu_state_import(const struct glint__gimg_vcpu *rec, const void *fp,
                             glint__vcpu_state **out)
{
    struct glint__gimg_vcpu here;
    host_format(&here);
    int rc = check_fp(rec, fp);
    if (rc || (rc = check_format(rec, fp, &here)))
        return rc;
    glint__vcpu_state *s = calloc(1, sizeof *s + glint__kvm.xsave_size);
    if (!s)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    const uint64_t *r = rec->regs;
    s->regs = (struct kvm_regs){.rax = r[0],
                                .rbx = r[1],
                                .rcx = r[2],
                                .rdx = r[3],
                                .rsi = r[4],
                                .rdi = r[5],
                                .rsp = r[6],
                                .rbp = r[7],
                                .r8 = r[8],
                                .r9 = r[9],
                                .r10 = r[10],
                                .r11 = r[11],
                                .r12 = r[12],
                                .r13 = r[13],
                                .r14 = r[14],
                                .r15 = r[15],
                                .rip = r[16],
                                .rflags = r[17]};
    /* Never from the file: the descriptor table's registers, and no pending events. */
    glint__kvm_x86_initial_sregs(&s->sregs);
    memset(&s->events, 0, sizeof s->events);
    if (glint__kvm.xsave_size) /* the rest stays zero: components in their initial state */
        memcpy(s->xsave, fp,
               rec->fp_size < glint__kvm.xsave_size ? rec->fp_size : glint__kvm.xsave_size);
    else
        memcpy(&s->fpu, fp, sizeof s->fpu);
    *out = s;
    return 0;
}
