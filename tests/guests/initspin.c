/* Test guest: glint_guest_init never returns, so loading the image must time out. */
#include <glint/guest.h>

int glint_guest_init(void)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
    return 0;
}

static int Ok(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i32 = 42;
    return 0;
}
GLINT_GUEST_EXPORT(Ok, GLINT_GUEST_I32);
