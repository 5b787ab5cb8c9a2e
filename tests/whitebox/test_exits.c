/* VM tests: how the run loop classifies exits that are not the guest's doing (failed KVM entry). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "whitebox.h"

/* A failed VM entry cannot be provoked on a PVM host (it reports invalid vCPU state as an
 * emulation failure or a shutdown instead), so the classification is tested on the exit record
 * the backend fills for KVM_EXIT_FAIL_ENTRY / KVM_EXIT_INTERNAL_ERROR (src/hv/kvm.c). */
static void expect_exit(struct glint__exit ex, int err, glint_failure_kind kind, const char *a,
                        const char *b)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("types", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    int rc = glint__report_exit(sb, &ex);
    glint_failure f;
    glint_sandbox_last_failure(sb, &f);
    cr_assert_eq(rc, err, "%s: %s (%s)", ex.reason_name, glint_strerror(rc), f.message);
    cr_assert_eq(f.error, err);
    cr_assert_eq(f.kind, kind, "%s: kind %s (%s)", ex.reason_name, glint_failure_kind_name(f.kind),
                 f.message);
    cr_assert(vm_contains(f.message, a) && vm_contains(f.message, b), "message '%s'", f.message);
    cr_assert(vm_contains(glint_errmsg(), a), "errmsg '%s'", glint_errmsg());
    /* Whatever happened, the sandbox is not trusted afterwards; restore brings it back. */
    cr_assert(glint_sandbox_poisoned(sb));
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    glint_value r;
    cr_assert_eq(glint_sandbox_call(sb, "Counter", NULL, 0, &r), 0, "%s", glint_errmsg());
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

Test(vm_exits, failed_entry_is_a_hypervisor_failure)
{
    struct glint__exit ex = {.kind = GLINT__EXIT_FAIL_ENTRY,
                             .reason = 9,
                             .reason_name = "FAIL_ENTRY",
                             .hw_reason = 0x80000021};
    expect_exit(ex, GLINT_EHV, GLINT_FAIL_HYPERVISOR, "FAIL_ENTRY", "0x80000021");
}

Test(vm_exits, internal_error_is_a_hypervisor_failure)
{
    struct glint__exit ex = {.kind = GLINT__EXIT_INTERNAL,
                             .reason = 17,
                             .reason_name = "INTERNAL_ERROR",
                             .hw_reason = 3};
    expect_exit(ex, GLINT_EHV, GLINT_FAIL_HYPERVISOR, "INTERNAL_ERROR", "suberror 3");
}

/* Emulation failures can follow from an instruction of the guest's (PVM emulates its port I/O):
 * they stay protocol errors, but say what happened. */
Test(vm_exits, emulation_failure_stays_a_protocol_error)
{
    struct glint__exit ex = {.kind = GLINT__EXIT_INTERNAL,
                             .reason = 17,
                             .reason_name = "INTERNAL_ERROR",
                             .hw_reason = 1};
    expect_exit(ex, GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "emulate", "INTERNAL_ERROR");
}

Test(vm_exits, unknown_exit_stays_a_protocol_error)
{
    struct glint__exit ex = {.kind = GLINT__EXIT_OTHER, .reason = 5, .reason_name = "HLT"};
    expect_exit(ex, GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "unexpected exit", "HLT");
}

/* Exits nobody expects carry the vCPU's registers and the code bytes at rip, read from the VM:
 * the rip in the message is the vCPU's, the bytes are guest memory's. */
static void expect_dump(struct glint__exit ex)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("types", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value v; /* a call first: the vCPU then holds the guest's registers, not reset ones */
    cr_assert_eq(glint_sandbox_call(sb, "Counter", NULL, 0, &v), 0, "%s", glint_errmsg());
    struct glint__fault_regs r;
    cr_assert_eq(glint__vm_fault_regs(sb->vm, &r), 0, "%s", glint_errmsg());
    glint__report_exit(sb, &ex);
    glint_failure f;
    glint_sandbox_last_failure(sb, &f);
    char want[96];
    snprintf(want, sizeof want, "rip 0x%llx rsp 0x%llx", (unsigned long long)r.rip,
             (unsigned long long)r.rsp);
    cr_assert(vm_contains(f.message, want), "%s: no '%s' in '%s'", ex.reason_name, want, f.message);
    cr_assert(r.rip >= GLINT_ABI_IMAGE_BASE && r.rip < sb->mem_size - 2, "rip 0x%llx in the guest",
              (unsigned long long)r.rip);
    snprintf(want, sizeof want, "; code %02x %02x", sb->mem[r.rip], sb->mem[r.rip + 1]);
    cr_assert(vm_contains(f.message, want), "%s: no '%s' in '%s'", ex.reason_name, want, f.message);
    cr_assert(vm_contains(f.message, ex.reason_name), "%s", f.message);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

Test(vm_exits, unexpected_exits_carry_a_vcpu_dump)
{
    expect_dump(
        (struct glint__exit){.kind = GLINT__EXIT_OTHER, .reason = 4, .reason_name = "DEBUG"});
    expect_dump((struct glint__exit){.kind = GLINT__EXIT_INTERNAL,
                                     .reason = 17,
                                     .reason_name = "INTERNAL_ERROR",
                                     .hw_reason = 3});
    expect_dump((struct glint__exit){.kind = GLINT__EXIT_INTERNAL,
                                     .reason = 17,
                                     .reason_name = "INTERNAL_ERROR",
                                     .hw_reason = 1});
    expect_dump((struct glint__exit){.kind = GLINT__EXIT_FAIL_ENTRY,
                                     .reason = 9,
                                     .reason_name = "FAIL_ENTRY",
                                     .hw_reason = 0x80000021});
}
