/* Keeps the host thread's data segment selectors intact across KVM_RUN. */
#ifndef GLINT_HOST_SEGMENTS_H
#define GLINT_HOST_SEGMENTS_H

#include <stdint.h>

/*
 * On PVM a guest's loads of DS/ES/FS/GS land in the host thread's own
 * selectors (the hypervisor does not switch them). Left alone, that would be
 * a covert channel between sandboxes and across restores, and could corrupt
 * the host thread's TLS base on kernels without FSGSBASE. glint saves the
 * selectors before every KVM_RUN and repairs them afterwards if they changed.
 */
struct glint__host_segs {
    uint16_t ds, es, fs, gs;
};

static inline void glint__host_segs_save(struct glint__host_segs *s)
{
    __asm__ volatile("mov %%ds, %0" : "=r"(s->ds));
    __asm__ volatile("mov %%es, %0" : "=r"(s->es));
    __asm__ volatile("mov %%fs, %0" : "=r"(s->fs));
    __asm__ volatile("mov %%gs, %0" : "=r"(s->gs));
}

/* Put back whatever differs from s; cheap when nothing changed. Returns 1 if
 * something had to be repaired. */
int glint__host_segs_restore(const struct glint__host_segs *s);

#endif
