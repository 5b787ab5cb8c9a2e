/* Example guest: echo, arithmetic, printing through the host, and a call to a host function. */
#include <glint/guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Echo(string) -> string: returns its argument. */
static int Echo(const glint_guest_val *args, glint_guest_val *ret)
{
    ret->str = args[0].str;
    ret->len = args[0].len;
    return 0;
}
GLINT_GUEST_EXPORT(Echo, GLINT_GUEST_STRING, GLINT_GUEST_STRING);

/* Add(i32, i32) -> i32, wrapping on overflow. */
static int Add(const glint_guest_val *args, glint_guest_val *ret)
{
    ret->i32 = (int32_t)((uint32_t)args[0].i32 + (uint32_t)args[1].i32);
    return 0;
}
GLINT_GUEST_EXPORT(Add, GLINT_GUEST_I32, GLINT_GUEST_I32, GLINT_GUEST_I32);

/* Greet(string) -> void: prints a greeting through the host's print. */
static int Greet(const glint_guest_val *args, glint_guest_val *ret)
{
    (void)ret;
    return glint_guest_print("Hello, %s, from inside the sandbox!\n", args[0].str) < 0
               ? glint_guest_error(1, "print failed: %s", glint_guest_host_error_message())
               : 0;
}
GLINT_GUEST_EXPORT(Greet, GLINT_GUEST_VOID, GLINT_GUEST_STRING);

/* MultiplyOnHost(i64, i64) -> i64: asks the host function "Multiply" to do it. */
static int MultiplyOnHost(const glint_guest_val *args, glint_guest_val *ret)
{
    glint_guest_val r;
    if (glint_guest_host_call("Multiply", GLINT_GUEST_I64, &r, 2, args) != 0)
        return glint_guest_error(2, "host call failed: %s", glint_guest_host_error_message());
    ret->i64 = r.i64;
    return 0;
}
GLINT_GUEST_EXPORT(MultiplyOnHost, GLINT_GUEST_I64, GLINT_GUEST_I64, GLINT_GUEST_I64);

/* Describe(string) -> string: formats a reply on the guest heap. */
static int Describe(const glint_guest_val *args, glint_guest_val *ret)
{
    size_t n = args[0].len + 64;
    char *s = malloc(n);
    if (!s)
        return glint_guest_error(3, "out of memory");
    int len = snprintf(s, n, "'%s' has %u bytes", args[0].str, args[0].len);
    ret->str = s;
    ret->len = (uint32_t)len;
    ret->flags = GLINT_GUEST_VAL_FREE;
    return 0;
}
GLINT_GUEST_EXPORT(Describe, GLINT_GUEST_STRING, GLINT_GUEST_STRING);
