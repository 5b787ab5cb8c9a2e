/* Test guest: a small ELF whose 64 MiB .bss, touched in glint_guest_init, would make every sandbox
 * cost 64 MiB of host memory; glint_config.max_image_memory must refuse it by default. */
#include <glint/guest.h>

#define BIG (64u << 20)

static unsigned char big[BIG];

int glint_guest_init(void)
{
    /* One byte per page: every page of the .bss becomes resident. */
    for (unsigned i = 0; i < BIG; i += 4096)
        big[i] = (unsigned char)(i >> 12);
    return 0;
}

/* Check(u32 page) -> u32: the byte glint_guest_init wrote on that page (proves init ran). */
static int Check(const glint_guest_val *a, glint_guest_val *r)
{
    if (a[0].u32 >= BIG / 4096)
        return glint_guest_error(1, "page %u is outside the buffer", a[0].u32);
    r->u32 = big[(unsigned long)a[0].u32 * 4096];
    return 0;
}
GLINT_GUEST_EXPORT(Check, GLINT_GUEST_U32, GLINT_GUEST_U32);
