/* Test guest: glint_init never returns, so loading the image must time out. */
#include <glint/guest.h>

int glint_init(void)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
    return 0;
}

static int Ok(const glint_val *a, glint_val *r)
{
    (void)a;
    r->i32 = 42;
    return 0;
}
GLINT_EXPORT(Ok, GLINT_I32);
