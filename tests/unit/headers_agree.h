/* Checks shared by the two header-order tests: the guest and host APIs agree where they meet. */
#ifndef GLINT_TEST_HEADERS_AGREE_H
#define GLINT_TEST_HEADERS_AGREE_H

#include <criterion/criterion.h>

/* Include after both glint.h and glint/guest.h. Every type code of the guest
 * API equals the host API's and the ABI's; the limits agree; both APIs' value
 * constructors are usable side by side in one function. */
static void headers_agree(void)
{
    static const struct {
        int guest, host, abi;
    } types[] = {
        {GLINT_GUEST_VOID, GLINT_VOID, GLINT_ABI_VOID},
        {GLINT_GUEST_I32, GLINT_I32, GLINT_ABI_I32},
        {GLINT_GUEST_U32, GLINT_U32, GLINT_ABI_U32},
        {GLINT_GUEST_I64, GLINT_I64, GLINT_ABI_I64},
        {GLINT_GUEST_U64, GLINT_U64, GLINT_ABI_U64},
        {GLINT_GUEST_F32, GLINT_F32, GLINT_ABI_F32},
        {GLINT_GUEST_F64, GLINT_F64, GLINT_ABI_F64},
        {GLINT_GUEST_BOOL, GLINT_BOOL, GLINT_ABI_BOOL},
        {GLINT_GUEST_STRING, GLINT_STRING, GLINT_ABI_STRING},
        {GLINT_GUEST_BYTES, GLINT_BYTES, GLINT_ABI_BYTES},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        cr_assert_eq(types[i].guest, types[i].abi, "guest type code %zu", i);
        cr_assert_eq(types[i].host, types[i].abi, "host type code %zu", i);
    }
    cr_assert_eq(GLINT_MAX_PARAMS, GLINT_ABI_MAX_PARAMS);
    cr_assert_eq(GLINT_NAME_MAX + 1, GLINT_ABI_NAME_MAX);
    glint_guest_val g = glint_guest_val_i64(-5);
    glint_value h = glint_i64(-5);
    cr_assert_eq(g.type, (uint8_t)h.type);
    cr_assert_eq(g.i64, h.as.i64);
}

#endif
