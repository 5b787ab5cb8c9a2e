/* VM tests: the TLS page and FS.base the host sets up (glint/abi.h), and a guest built with
 * -fstack-protector-strong running on them. */
#include <criterion/criterion.h>
#include <string.h>

#include "glint.h"
#include "glint/abi.h"
#include "helpers.h"

static glint_image *img;
static glint_sandbox *sb;

static void setup(void)
{
    vm_open("tls", NULL, NULL, &img, &sb);
}

static void teardown(void)
{
    vm_close(&img, &sb);
}

TestSuite(vm_tls, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t tls_word(glint_sandbox *s, uint64_t off)
{
    glint_value a = glint_u64(off), r;
    cr_assert_eq(glint_sandbox_call(s, "TlsWord", &a, 1, &r), 0, "TlsWord(%#llx): %s",
                 (unsigned long long)off, glint_errmsg());
    return r.as.u64;
}

Test(vm_tls, fs_points_at_a_glibc_shaped_tcb)
{
    cr_assert_eq(tls_word(sb, 0), GLINT_ABI_TLS_ADDR, "%%fs:0 is the TCB's own address");
    uint64_t canary = tls_word(sb, 0x28);
    cr_assert_neq(canary, 0, "a non-zero canary at %%fs:0x28");
    cr_assert_eq(canary & 0xff, 0, "the canary's low byte is zero, like glibc's");
    cr_assert_neq(tls_word(sb, 0x30), 0, "a pointer guard at %%fs:0x30");
}

Test(vm_tls, canary_is_per_image_and_the_same_in_every_sandbox)
{
    uint64_t canary = tls_word(sb, 0x28);
    glint_sandbox *other = vm_sandbox(img, NULL);
    cr_assert_eq(tls_word(other, 0x28), canary, "sandboxes of one image share its canary");
    glint_sandbox_destroy(other);
    glint_image *img2 = vm_load_test("tls", NULL, NULL);
    glint_sandbox *sb2 = vm_sandbox(img2, NULL);
    cr_assert_neq(tls_word(sb2, 0x28), canary, "another image has another canary");
    glint_sandbox_destroy(sb2);
    glint_image_destroy(img2);
}

Test(vm_tls, stack_protected_guest_runs)
{
    glint_value a = glint_string("hello, canary"), r;
    cr_assert_eq(glint_sandbox_call(sb, "Protected", &a, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.str.len, 2);
    cr_assert(memcmp(r.as.str.ptr, "13", 2) == 0, "13 bytes counted");
    glint_value n = glint_u32(64), ri;
    cr_assert_eq(glint_sandbox_call(sb, "Smash", &n, 1, &ri), 0, "%s", glint_errmsg());
    cr_assert_eq(ri.as.i32, 64);
}

Test(vm_tls, stack_smash_is_a_clean_abort_and_restore_recovers)
{
    glint_value n = glint_u32(200);
    int rc = glint_sandbox_call(sb, "Smash", &n, 1, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EABORT, GLINT_FAIL_ABORT);
    cr_assert(vm_contains(f.message, "stack smashing detected"), "%s", f.message);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(tls_word(sb, 0), GLINT_ABI_TLS_ADDR, "FS.base restored");
}
