/* glint.h, then glint/guest.h: the host and guest APIs compile together in this order. */
#include "glint.h"
#include "glint/guest.h"

#include "headers_agree.h"

Test(headers, host_then_guest)
{
    headers_agree();
}
