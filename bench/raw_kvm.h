/* Raw-KVM floors for the benchmarks: the least KVM work each glint operation must do. */
#ifndef GLINT_BENCH_RAW_KVM_H
#define GLINT_BENCH_RAW_KVM_H

#include <stdint.h>

/* One minimal VM: the same CPL3 set-up as glint (page tables, GDT, TSS with
 * I/O bitmap), running a two-instruction loop `out %al,$0xe0; jmp .-2`. */
struct raw_vm {
    int vm_fd, vcpu_fd;
    struct kvm_run *run;
    uint8_t *mem;
    uint64_t mem_size;
};

/* Build the guest memory once (not part of any floor). */
int raw_prepare(void);

/* Floor "create": VM + memory slot + vCPU + CPUID + special and general
 * registers. Returns 0 or -1. */
int raw_create(struct raw_vm *vm);

/* Floor "warm call": KVM_SET_REGS to the loop start, then KVM_RUN until the
 * `out` exit. (Also the first run of a new VM.) */
int raw_call(struct raw_vm *vm);

/* Floor "exit round trip": KVM_RUN resuming after an `out` until the next. */
int raw_resume(struct raw_vm *vm);

void raw_destroy(struct raw_vm *vm);

#endif
