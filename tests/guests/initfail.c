/* Test guest: glint_guest_init fails, so loading the image must fail with the guest's message. */
#include <glint/guest.h>

int glint_guest_init(void)
{
    return glint_guest_error(5, "init says no");
}

static int Ok(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i32 = 42;
    return 0;
}
GLINT_GUEST_EXPORT(Ok, GLINT_GUEST_I32);
