/* Test guest, built with -fstack-protector-strong: the TLS page and canary the host sets up. */
#include <glint/guest.h>
#include <string.h>

/* TlsWord(offset) -> u64: the 8 bytes at %fs:offset (0: the TCB's self pointer, 0x28: the
 * canary, 0x30: the pointer guard). */
static int TlsWord(const glint_guest_val *a, glint_guest_val *r)
{
    uint64_t off = a[0].u64, v;
    __asm__ volatile("movq %%fs:(%1), %0" : "=r"(v) : "r"(off));
    r->u64 = v;
    return 0;
}
GLINT_GUEST_EXPORT(TlsWord, GLINT_GUEST_U64, GLINT_GUEST_U64);

/* Protected(s) -> string: a function with a stack array, so the compiler guards it with the
 * canary; copies s into it and returns its length as text. */
static char out[32];
__attribute__((noinline)) static size_t copy_into_stack(const char *s, size_t n)
{
    char buf[64];
    memcpy(buf, s, n); /* n may exceed sizeof buf: Smash's overflow */
    size_t len = 0;
    for (size_t i = 0; i < n && i < sizeof buf; i++)
        len += buf[i] != 0;
    return len;
}

static int Protected(const glint_guest_val *a, glint_guest_val *r)
{
    size_t n = strlen(a[0].str);
    if (n > 64)
        n = 64;
    size_t len = copy_into_stack(a[0].str, n);
    char *p = out + sizeof out - 1;
    *p = 0;
    do
        *--p = (char)('0' + len % 10);
    while ((len /= 10) && p > out);
    r->str = p;
    r->len = (uint32_t)strlen(p);
    return 0;
}
GLINT_GUEST_EXPORT(Protected, GLINT_GUEST_STRING, GLINT_GUEST_STRING);

/* Smash(n) -> i32: writes n bytes into a 64-byte stack array; n > 64 overwrites the canary, and
 * the stack protector aborts the guest instead of returning. */
static int Smash(const glint_guest_val *a, glint_guest_val *r)
{
    static char src[256];
    uint32_t n = a[0].u32 > sizeof src ? (uint32_t)sizeof src : a[0].u32;
    memset(src, 'A', n);
    r->i32 = (int32_t)copy_into_stack(src, n);
    return 0;
}
GLINT_GUEST_EXPORT(Smash, GLINT_GUEST_I32, GLINT_GUEST_U32);
