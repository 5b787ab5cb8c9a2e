/* VM tests: a page fault's reported cause comes from the page's real permissions (the guest's
 * page tables), not from the error code alone. */
#include <criterion/criterion.h>

#include "glint.h"
#include "helpers.h"

static glint_image *img;
static glint_sandbox *sb;

static void setup(void)
{
    vm_open("faults", NULL, NULL, &img, &sb);
}

static void teardown(void)
{
    vm_close(&img, &sb);
}

TestSuite(vm_fault_cause, .init = setup, .fini = teardown, .timeout = 60);

/* Call fn, expect a #PF whose message holds `cause` and not `wrong`. */
static void expect_cause(const char *fn, const char *cause, const char *wrong)
{
    int rc = glint_sandbox_call(sb, fn, NULL, 0, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EFAULT, GLINT_FAIL_FAULT);
    cr_assert_eq(f.vector, 14, "%s: vector %u: %s", fn, f.vector, f.message);
    cr_assert(vm_contains(f.message, cause), "%s: wanted \"%s\" in: %s", fn, cause, f.message);
    if (wrong)
        cr_assert(!vm_contains(f.message, wrong), "%s: \"%s\" in: %s", fn, wrong, f.message);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
}

Test(vm_fault_cause, write_to_supervisor_writable_page)
{
    expect_cause("WriteExceptionStack", "write to supervisor-only memory", "read-only");
}

Test(vm_fault_cause, write_to_supervisor_read_only_page)
{
    /* The page table area is not mapped at all; the GDT is supervisor read-only: for CPL3
     * what matters first is that it is supervisor-only. */
    expect_cause("WritePageTable", "unmapped memory", "read-only");
}

Test(vm_fault_cause, read_supervisor_page)
{
    expect_cause("ReadSupervisor", "read of supervisor-only memory", NULL);
}

Test(vm_fault_cause, write_to_rodata_is_read_only)
{
    expect_cause("WriteRodata", "write to read-only memory", "supervisor");
    expect_cause("WriteCode", "write to read-only memory", "supervisor");
}

Test(vm_fault_cause, exec_supervisor_code)
{
    expect_cause("ExecSupervisor", "instruction fetch from supervisor-only memory",
                 "non-executable");
}

Test(vm_fault_cause, exec_user_data_is_non_executable)
{
    expect_cause("ExecStack", "instruction fetch from non-executable memory", NULL);
    expect_cause("ExecHeap", "instruction fetch from non-executable memory", NULL);
}

Test(vm_fault_cause, write_unmapped)
{
    expect_cause("WriteUnmapped", "write to unmapped memory", NULL);
}

Test(vm_fault_cause, null_and_guard_keep_their_names)
{
    expect_cause("NullWrite", "null pointer", NULL);
    expect_cause("StackOverflow", "stack overflow", NULL);
}
