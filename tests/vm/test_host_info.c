/* VM tests: glint_host_info_get writes no byte past the caller's struct_size and fills what fits.
 */
#include <criterion/criterion.h>

#include <stddef.h>
#include <string.h>

#include "helpers.h"

/* The struct as 0.1.0 declared it (16 bytes), then room a canary checks. */
struct info_v0 {
    uint32_t struct_size;
    bool kvm, msr_filter, dirty_tracking, sync_regs, xsave;
    uint32_t xsave_bytes;
};
_Static_assert(sizeof(struct info_v0) == 16, "0.1.0 size");

#define CANARY 0xcc

static _Alignas(8) uint8_t buf[sizeof(glint_host_info) + 64];

static void fill_canary(uint32_t struct_size)
{
    memset(buf, CANARY, sizeof buf);
    memcpy(buf, &struct_size, sizeof struct_size);
}

static void expect_canary_from(size_t from)
{
    for (size_t i = from; i < sizeof buf; i++)
        cr_assert_eq(buf[i], CANARY, "byte %zu past a %zu-byte struct was written (0x%02x)", i,
                     from, buf[i]);
}

Test(vm_host_info, older_smaller_struct_is_filled_and_nothing_past_it)
{
    vm_require_kvm();
    fill_canary(sizeof(struct info_v0));
    cr_assert_eq(glint_host_info_get((glint_host_info *)(void *)buf), 0, "%s", glint_errmsg());
    expect_canary_from(sizeof(struct info_v0));
    struct info_v0 old;
    memcpy(&old, buf, sizeof old);
    cr_assert_eq(old.struct_size, sizeof old, "struct_size says what was filled");
    cr_assert(old.kvm);
    glint_host_info full = {.struct_size = sizeof full};
    cr_assert_eq(glint_host_info_get(&full), 0, "%s", glint_errmsg());
    cr_assert_eq(full.struct_size, sizeof full);
    cr_assert(old.msr_filter == full.msr_filter && old.dirty_tracking == full.dirty_tracking &&
              old.sync_regs == full.sync_regs && old.xsave == full.xsave &&
              old.xsave_bytes == full.xsave_bytes);
}

Test(vm_host_info, newer_larger_struct_gets_this_librarys_fields)
{
    vm_require_kvm();
    fill_canary(sizeof(glint_host_info) + 16);
    cr_assert_eq(glint_host_info_get((glint_host_info *)(void *)buf), 0, "%s", glint_errmsg());
    uint32_t filled;
    memcpy(&filled, buf, sizeof filled);
    cr_assert_eq(filled, sizeof(glint_host_info), "the bytes glint filled");
    expect_canary_from(sizeof(glint_host_info));
}

Test(vm_host_info, struct_size_below_0_1_0_is_refused_untouched)
{
    fill_canary(offsetof(glint_host_info, xsave_bytes));
    cr_assert_eq(glint_host_info_get((glint_host_info *)(void *)buf), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "struct_size"), "%s", glint_errmsg());
    expect_canary_from(sizeof(uint32_t));
}
