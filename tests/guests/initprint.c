/* Test guest: glint_guest_init prints and sets state that every sandbox must then see. */
#include <glint/guest.h>

static int initialised;

int glint_guest_init(void)
{
    if (glint_guest_print("init ran %d\n", 1) < 0)
        return glint_guest_error(1, "print in init failed: %s", glint_guest_host_error_message());
    initialised = 7;
    return 0;
}

/* Initialised() -> i32: the value glint_guest_init stored (7), proving the snapshot was taken after
 * it.
 */
static int Initialised(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i32 = initialised++;
    return 0;
}
GLINT_GUEST_EXPORT(Initialised, GLINT_GUEST_I32);
