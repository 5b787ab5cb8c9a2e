/* glint/guest.h, then glint.h: the guest and host APIs compile together in this order. */
#include "glint/guest.h"
#include "glint.h"

#include "headers_agree.h"

Test(headers, guest_then_host)
{
    headers_agree();
}
