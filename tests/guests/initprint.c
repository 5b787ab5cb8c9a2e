/* Test guest: glint_init prints and sets state that every sandbox must then see. */
#include <glint/guest.h>

static int initialised;

int glint_init(void)
{
    if (glint_print("init ran %d\n", 1) < 0)
        return glint_error(1, "print in init failed: %s", glint_host_error_message());
    initialised = 7;
    return 0;
}

/* Initialised() -> i32: the value glint_init stored (7), proving the snapshot was taken after it.
 */
static int Initialised(const glint_val *a, glint_val *r)
{
    (void)a;
    r->i32 = initialised++;
    return 0;
}
GLINT_EXPORT(Initialised, GLINT_I32);
