/* Hypervisor backend interface: one VM with one vCPU over one guest memory region. */
#ifndef GLINT_HV_H
#define GLINT_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A backend (today: KVM, in hv/kvm.c and hv/kvm_x86.c) implements these
 * functions. Everything above this interface is hypervisor-neutral; x86
 * system state follows the fixed memory map in glint/abi.h and the
 * descriptor table in x86/descriptors.h.
 */
typedef struct glint__vm glint__vm;
typedef struct glint__vcpu_state glint__vcpu_state;

enum glint__exit_kind {
    GLINT__EXIT_IO,         /* port I/O: port, size, out, data */
    GLINT__EXIT_SHUTDOWN,   /* triple fault */
    GLINT__EXIT_INTR,       /* run interrupted (signal or kick) */
    GLINT__EXIT_HLT,        /* guest halted */
    GLINT__EXIT_MMIO,       /* access to an address outside memory */
    GLINT__EXIT_FAIL_ENTRY, /* the hypervisor could not enter the guest:
                               hw_reason = hardware entry failure reason */
    GLINT__EXIT_INTERNAL,   /* the hypervisor failed internally: hw_reason =
                               its suberror (1: emulation failure) */
    GLINT__EXIT_OTHER,      /* anything else: see reason */
};

struct glint__exit {
    enum glint__exit_kind kind;
    uint16_t port;
    uint8_t size;
    bool out;
    uint32_t data;      /* first value written by an OUT */
    uint64_t addr;      /* MMIO address */
    uint64_t hw_reason; /* FAIL_ENTRY / INTERNAL: see the kinds */
    uint32_t reason;    /* raw backend exit reason, for messages */
    const char *reason_name;
};

/* Registers needed to report a fault. */
struct glint__fault_regs {
    uint64_t rip, rsp, cr2;
    uint16_t cs;
};

/* Open the hypervisor once per process; GLINT_ENOKVM if unavailable. */
int glint__hv_open(void);

/* Create a VM over guest memory [0, size) backed by mem (page aligned), with
 * the x86 system state of the memory map: 64-bit mode at CPL3. If state is
 * non-NULL the vCPU starts from it, else at rip/rsp. */
int glint__vm_create(void *mem, uint64_t size, const glint__vcpu_state *state, uint64_t rip,
                     uint64_t rsp, glint__vm **out);
void glint__vm_destroy(glint__vm *vm); /* NULL ok */

/* Run until the next exit. Returns 0 and fills *ex, or a negative GLINT_E*. */
int glint__vm_run(glint__vm *vm, struct glint__exit *ex);

/* Byte that, when set non-zero by anyone (e.g. a signal handler), makes the
 * current or next run return GLINT__EXIT_INTR. Cleared by the caller. */
volatile uint8_t *glint__vm_kick_flag(glint__vm *vm);

/* Finish a pending I/O exit without running guest code, then capture the
 * complete vCPU state (malloc'd; free with glint__vcpu_state_free). */
int glint__vm_save(glint__vm *vm, glint__vcpu_state **out);
void glint__vcpu_state_free(glint__vcpu_state *s);

/* Finish whatever the last exit left pending (e.g. the register or memory
 * write of an `in`, which KVM completes on the next KVM_RUN and which would
 * otherwise land after a state load) without running guest code. */
int glint__vm_settle(glint__vm *vm);

/* Image files (load/gimg.h, hv/kvm_state_file.c). */
struct glint__gimg_vcpu;

/* Describe s as an image file stores it: its general registers, this host's
 * FPU format, and (*fp) its FPU bytes (rec->fp_size of them, inside s).
 * GLINT_EINVAL if s holds what a file does not carry: segment selectors or
 * bases other than the descriptor table's, or a pending event. */
int glint__vcpu_state_export(const glint__vcpu_state *s, struct glint__gimg_vcpu *rec,
                             const void **fp);

/* A vCPU state (malloc'd) from a checked file record and its FPU bytes:
 * segment and control registers from the descriptor table, never the file;
 * no pending events. GLINT_EABI if this host cannot hold the FPU state (XSAVE
 * vs legacy, or an XSAVE component the state uses missing or at another
 * offset here); GLINT_EIMAGE for FPU contents KVM would refuse.
 * Needs glint__hv_open. */
int glint__vcpu_state_import(const struct glint__gimg_vcpu *rec, const void *fp,
                             glint__vcpu_state **out);

/* Make the vCPU state equal to s (registers may be applied lazily, by the
 * next run). */
int glint__vm_load(glint__vm *vm, const glint__vcpu_state *s);

/* Guest-write tracking. bitmap has one bit per 4 KiB page of guest memory.
 * glint__vm_dirty_log ORs nothing, it overwrites: afterwards bit i is set iff
 * the guest wrote page i since it was last re-protected (pages stay set and
 * writable until then). Returns 1 if this VM cannot track writes (the caller
 * must assume every writable page changed), 0, or a negative GLINT_E*. */
int glint__vm_dirty_log(glint__vm *vm, uint64_t *bitmap);

/* Does this VM track guest writes (glint__vm_dirty_log does not return 1)? */
int glint__vm_tracks_writes(const glint__vm *vm);

/* Write-protect and clear the pages set in bitmap again. */
int glint__vm_reprotect(glint__vm *vm, const uint64_t *bitmap);

/* Test hook: from now on this VM behaves as on a host without dirty tracking
 * (glint__vm_dirty_log returns 1, reprotect does nothing), so that tests reach
 * restore's fallback of copying every page the memory map says can change.
 * Never called by the library. */
void glint__vm_test_untracked(glint__vm *vm);

int glint__vm_fault_regs(glint__vm *vm, struct glint__fault_regs *r);

/* Bytes of code at rip that glint__vm_dump shows. */
#define GLINT__DUMP_CODE_BYTES 8

/* For the failure message of an unexpected exit: the vCPU's rip, rsp,
 * rflags, cs, cr2 and the GLINT__DUMP_CODE_BYTES bytes at rip (as far as
 * they lie in guest memory), as one NUL-terminated line of at most n bytes:
 * "rip 0x401000 rsp 0x4ff000 rflags 0x2 cs 0x23 cr2 0x0; code 0f 0b ...".
 * Reads registers with two ioctls: never on a call path. */
void glint__vm_dump(glint__vm *vm, char *buf, size_t n);

/* The vCPU's XCR0 as KVM holds it: 0, 1 if KVM exposes no XCRs (e.g. PVM,
 * where guest code runs under the host's XCR0), or a negative GLINT_E*.
 * Not used on any call path (tests and diagnostics). */
int glint__vm_xcr0(glint__vm *vm, uint64_t *xcr0);

/* The VM's and its vCPU's descriptors (for seccomp rules that name them). */
void glint__vm_fds(const glint__vm *vm, int *vm_fd, int *vcpu_fd);

#endif
