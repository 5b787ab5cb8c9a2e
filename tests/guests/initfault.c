/* Test guest: glint_guest_init dereferences NULL, so loading the image must fail with a fault. */
#include <glint/guest.h>

int glint_guest_init(void)
{
    return *(volatile int *)(uintptr_t)0;
}

static int Ok(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i32 = 42;
    return 0;
}
GLINT_GUEST_EXPORT(Ok, GLINT_GUEST_I32);
