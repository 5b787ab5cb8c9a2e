/* PVM does not switch the host's data segment selectors: save them before KVM_RUN, repair after. */
#ifndef GLINT_HV_PVM_HOST_SELECTORS_H
#define GLINT_HV_PVM_HOST_SELECTORS_H

#include <stdint.h>

/*
 * Why this exists: under PVM (KVM without VMX/SVM, the guest at CPL3 in the
 * host's own address space) the hypervisor does not switch DS/ES/FS/GS
 * between host and guest, so a guest's `mov %ax,%ds` lands in the host
 * thread's own selector registers. Left alone, a selector value would be a
 * covert channel between sandboxes and across restores, and on kernels
 * without FSGSBASE reloading FS/GS would corrupt the host thread's TLS base.
 * On hardware KVM (VMX/SVM) the selectors are switched and the repair is a
 * no-op: four register reads and a compare per run.
 */
struct glint__pvm_host_selectors {
    uint16_t ds, es, fs, gs;
};

/* Read the calling thread's data segment selectors. */
static inline void glint__pvm_host_selectors_save(struct glint__pvm_host_selectors *s)
{
    __asm__ volatile("mov %%ds, %0" : "=r"(s->ds));
    __asm__ volatile("mov %%es, %0" : "=r"(s->es));
    __asm__ volatile("mov %%fs, %0" : "=r"(s->fs));
    __asm__ volatile("mov %%gs, %0" : "=r"(s->gs));
}

/* Put back whatever differs from s (FS/GS keeping their bases); cheap when
 * nothing changed. Returns 1 if something had to be repaired. Touches no
 * errno (TLS may be unreachable while FS is wrong). */
int glint__pvm_host_selectors_repair(const struct glint__pvm_host_selectors *s);

#endif
