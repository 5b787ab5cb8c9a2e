/* Test guest: glint_init fails, so loading the image must fail with the guest's message. */
#include <glint/guest.h>

int glint_init(void)
{
    return glint_error(5, "init says no");
}

static int Ok(const glint_val *a, glint_val *r)
{
    (void)a;
    r->i32 = 42;
    return 0;
}
GLINT_EXPORT(Ok, GLINT_I32);
