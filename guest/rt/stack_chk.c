/* libglint-rt: the stack protector's failure path (the canary itself is the host's, at %fs:0x28).
 */
#include <glint/guest.h>

/* Called by code built with -fstack-protector* when a function's canary changed: a stack buffer
 * overflowed. Never returns: the host reports an abort with this message. */
__attribute__((noreturn)) void __stack_chk_fail(void);
__attribute__((noreturn)) void __stack_chk_fail(void)
{
    glint_guest_abort(-4, "stack smashing detected (the stack protector's canary changed)");
}
