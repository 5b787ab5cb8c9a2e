/* Test guest: breaks the call protocol with raw bytes in the output buffer and raw port I/O. */
#include <glint/guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *out_buf(void)
{
    return (uint8_t *)(uintptr_t)glint_guest_boot_info()->output_addr;
}

static uint32_t out_size(void)
{
    return (uint32_t)glint_guest_boot_info()->output_size;
}

/* Exit to the host on `port` with a 1-byte out, as the runtime does; never resumes for long. */
#define EXIT_ON(port) __asm__ volatile("outb %%al, %0" : : "i"(port), "a"((uint8_t)0) : "memory")

static void fill_garbage(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        p[i] = (uint8_t)seed;
    }
}

static void put_header(uint8_t *p, uint32_t size, uint8_t kind, uint8_t count, uint8_t type,
                       int32_t status)
{
    struct glint_abi_msg h = {
        .size = size, .kind = kind, .count = count, .type = type, .status = status};
    memcpy(p, &h, sizeof h);
}

static int GarbageResult(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    fill_garbage(out_buf(), 4096, 0x12345678u);
    EXIT_ON(GLINT_ABI_PORT_DONE);
    for (;;)
        EXIT_ON(GLINT_ABI_PORT_DONE);
    return 0;
}
GLINT_GUEST_EXPORT(GarbageResult, GLINT_GUEST_I32);

/* A result whose size field runs past the buffer. */
static int HugeSizeResult(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    put_header(out_buf(), out_size() + 8, GLINT_ABI_MSG_RESULT, 0, 0, 0);
    for (;;)
        EXIT_ON(GLINT_ABI_PORT_DONE);
    return 0;
}
GLINT_GUEST_EXPORT(HugeSizeResult, GLINT_GUEST_I32);

/* Declared i32, but a well-formed result message carrying a string. */
static int WrongTypeResult(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    uint8_t *p = out_buf();
    put_header(p, 16 + 8 + 8, GLINT_ABI_MSG_RESULT, 1, 0, 0);
    struct glint_abi_value v = {.type = GLINT_ABI_STRING, .len = 3};
    memcpy(p + 16, &v, sizeof v);
    memcpy(p + 24, "abc\0\0\0\0\0", 8);
    for (;;)
        EXIT_ON(GLINT_ABI_PORT_DONE);
    return 0;
}
GLINT_GUEST_EXPORT(WrongTypeResult, GLINT_GUEST_I32);

/* A failed result (status != 0) without the message string the ABI requires. */
static int ErrorWithoutMessage(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    put_header(out_buf(), 16, GLINT_ABI_MSG_RESULT, 0, 0, 5);
    for (;;)
        EXIT_ON(GLINT_ABI_PORT_DONE);
    return 0;
}
GLINT_GUEST_EXPORT(ErrorWithoutMessage, GLINT_GUEST_I32);

/* A well-formed HOSTCALL message, but on the DONE port. */
static int HostCallOnDonePort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    uint8_t *p = out_buf();
    put_header(p, 16 + 8, GLINT_ABI_MSG_HOSTCALL, 0, 0, 0);
    uint32_t name_len = 5;
    memcpy(p + 12, &name_len, sizeof name_len);
    memcpy(p + 16, "print\0\0\0", 8);
    for (;;)
        EXIT_ON(GLINT_ABI_PORT_DONE);
    return 0;
}
GLINT_GUEST_EXPORT(HostCallOnDonePort, GLINT_GUEST_I32);

static int GarbageHostCall(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    fill_garbage(out_buf(), 4096, 0x9e3779b9u);
    for (;;)
        EXIT_ON(GLINT_ABI_PORT_HOSTCALL);
    return 0;
}
GLINT_GUEST_EXPORT(GarbageHostCall, GLINT_GUEST_I32);

/* A RESULT message on the HOSTCALL port. */
static int ResultOnHostCallPort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    put_header(out_buf(), 16, GLINT_ABI_MSG_RESULT, 0, 0, 0);
    for (;;)
        EXIT_ON(GLINT_ABI_PORT_HOSTCALL);
    return 0;
}
GLINT_GUEST_EXPORT(ResultOnHostCallPort, GLINT_GUEST_I32);

/* Garbage on the ABORT port: still an abort, with an "unreadable" message. */
static int GarbageAbort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    fill_garbage(out_buf(), 4096, 0x0badf00du);
    for (;;)
        EXIT_ON(GLINT_ABI_PORT_ABORT);
    return 0;
}
GLINT_GUEST_EXPORT(GarbageAbort, GLINT_GUEST_VOID);

static int InOnDonePort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    uint8_t v;
    __asm__ volatile("inb %1, %%al" : "=a"(v) : "i"(GLINT_ABI_PORT_DONE));
    r->i32 = v;
    return 0;
}
GLINT_GUEST_EXPORT(InOnDonePort, GLINT_GUEST_I32);

static int WordOutOnDonePort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("outw %%ax, %0" : : "i"(GLINT_ABI_PORT_DONE), "a"((uint16_t)0) : "memory");
    return 0;
}
GLINT_GUEST_EXPORT(WordOutOnDonePort, GLINT_GUEST_I32);

static int DwordOutOnDonePort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("outl %%eax, %0" : : "i"(GLINT_ABI_PORT_DONE), "a"((uint32_t)0) : "memory");
    return 0;
}
GLINT_GUEST_EXPORT(DwordOutOnDonePort, GLINT_GUEST_I32);

/* Ok() -> i32 42. */
static int Ok(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i32 = 42;
    return 0;
}
GLINT_GUEST_EXPORT(Ok, GLINT_GUEST_I32);
