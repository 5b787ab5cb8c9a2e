/* Internal seccomp confinement: filters restricted to known sandboxes, and a hook for the rule
 * tests. */
#ifndef GLINT_CONFINE_H
#define GLINT_CONFINE_H

#include <stdbool.h>
#include <stddef.h>

#include "glint.h"

/* One sandbox's KVM descriptors, for ioctl rules that name them. */
struct glint__kvm_fds {
    int vm_fd, vcpu_fd;
};

/* Confine the calling thread (see glint_confine_thread). fds NULL: ioctl
 * allowed on any descriptor with an allowed request; else only on these n
 * sandboxes' descriptors, each with the requests of its kind (vCPU or VM). */
int glint__confine(const struct glint__kvm_fds *fds, size_t n);

/* The filter's rules, in a fixed order: 0 <= i < glint__confine_rules().
 * glint__confine_rule(i) names rule i, or returns NULL if it is not part of
 * the filter on this host (e.g. KVM_SET_REGS where KVM_CAP_SYNC_REGS
 * applies registers without it). *host_dependent (may be NULL) is set if
 * whether the system call is made at all depends on the host or the build
 * (clock_gettime: the vDSO; arch_prctl: PVM's segment leak; sigaltstack:
 * sanitizer runtimes; mmap, mprotect, brk: the allocator, as glibc's malloc
 * falls back to brk and the main arena when mmap is refused, and
 * sanitizer allocators never use brk; tgkill,
 * getpid: whether the kick flag alone stops a running KVM_RUN). */
size_t glint__confine_rules(void);
const char *glint__confine_rule(size_t i, bool *host_dependent);

/* Tests only: every filter installed after this call leaves rule i out
 * (-1: none). Process-wide, not synchronised: set it before any thread that
 * confines itself starts. */
void glint__confine_omit(long i);

#endif
