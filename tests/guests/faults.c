/* Test guest: one function per way to crash, trap, hang or abort, for the host's failure reports.
 */
#include <glint/guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read by StackOverflow so the compiler cannot prove the recursion endless. */
static volatile int keep_going = 1;
static const char rodata_text[] = "read-only";

/* ---- page faults ---------------------------------------------------------- */

static int NullDeref(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i32 = *(volatile int *)(uintptr_t)0;
    return 0;
}
GLINT_GUEST_EXPORT(NullDeref, GLINT_GUEST_I32);

/* Writes near, not at, address 0: still inside the 64 KiB null area. */
static int NullWrite(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    *(volatile int *)(uintptr_t)0x1234 = 1;
    r->i32 = 0;
    return 0;
}
GLINT_GUEST_EXPORT(NullWrite, GLINT_GUEST_I32);

static int WriteCode(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)&NullDeref;
    *p = 0xc3;
    r->i32 = 0;
    return 0;
}
GLINT_GUEST_EXPORT(WriteCode, GLINT_GUEST_I32);

static int WriteRodata(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    volatile char *p = (volatile char *)(uintptr_t)rodata_text;
    p[0] = 'R';
    r->i32 = 0;
    return 0;
}
GLINT_GUEST_EXPORT(WriteRodata, GLINT_GUEST_I32);

typedef void (*void_fn)(void);

static int ExecStack(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    volatile uint8_t code[16];
    code[0] = 0xc3; /* ret */
    ((void_fn)(uintptr_t)code)();
    r->i32 = 0;
    return 0;
}
GLINT_GUEST_EXPORT(ExecStack, GLINT_GUEST_I32);

static int ExecHeap(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    volatile uint8_t *code = malloc(16);
    if (!code)
        return glint_guest_error(3, "out of memory");
    code[0] = 0xc3; /* ret */
    ((void_fn)(uintptr_t)code)();
    r->i32 = 0;
    return 0;
}
GLINT_GUEST_EXPORT(ExecHeap, GLINT_GUEST_I32);

/* 256-byte frames: each step moves well under a page, so the guard page is hit. */
static int recurse(int depth)
{
    volatile char buf[256];
    buf[0] = (char)depth;
    buf[255] = (char)(depth >> 8);
    if (!keep_going)
        return buf[0];
    return recurse(depth + 1) + buf[depth & 255];
}

static int StackOverflow(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i32 = recurse(0);
    return 0;
}
GLINT_GUEST_EXPORT(StackOverflow, GLINT_GUEST_I32);

static int ReadSupervisor(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i32 = *(volatile int *)(uintptr_t)GLINT_ABI_GDT_ADDR;
    return 0;
}
GLINT_GUEST_EXPORT(ReadSupervisor, GLINT_GUEST_I32);

static int WritePageTable(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    *(volatile uint64_t *)(uintptr_t)GLINT_ABI_PT_ADDR = 0;
    r->i32 = 0;
    return 0;
}
GLINT_GUEST_EXPORT(WritePageTable, GLINT_GUEST_I32);

/* ---- other exceptions -------------------------------------------------------- */

static int DivZero(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    volatile int num = 7, den = 0;
    r->i32 = num / den;
    return 0;
}
GLINT_GUEST_EXPORT(DivZero, GLINT_GUEST_I32);

static int Ud2(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("ud2");
    return 0;
}
GLINT_GUEST_EXPORT(Ud2, GLINT_GUEST_I32);

static int Hlt(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("hlt");
    return 0;
}
GLINT_GUEST_EXPORT(Hlt, GLINT_GUEST_I32);

static int Cli(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("cli");
    return 0;
}
GLINT_GUEST_EXPORT(Cli, GLINT_GUEST_I32);

static int OutBadPort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("outb %%al, $0x80" : : "a"((uint8_t)0));
    return 0;
}
GLINT_GUEST_EXPORT(OutBadPort, GLINT_GUEST_I32);

static int InBadPort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    uint8_t v;
    __asm__ volatile("inb $0x80, %%al" : "=a"(v));
    r->i32 = v;
    return 0;
}
GLINT_GUEST_EXPORT(InBadPort, GLINT_GUEST_I32);

/* The CPL0-only fault port: denied by the I/O bitmap. */
static int OutFaultPort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("outb %%al, %0" : : "i"(GLINT_ABI_PORT_FAULT), "a"((uint8_t)14));
    return 0;
}
GLINT_GUEST_EXPORT(OutFaultPort, GLINT_GUEST_I32);

static int Int3(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("int3");
    return 0;
}
GLINT_GUEST_EXPORT(Int3, GLINT_GUEST_I32);

static int Syscall(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("syscall" : : : "rcx", "r11", "memory");
    return 0;
}
GLINT_GUEST_EXPORT(Syscall, GLINT_GUEST_I32);

static int NonCanonicalJump(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    __asm__ volatile("jmp *%0" : : "r"(0x8000000000000000ull));
    return 0;
}
GLINT_GUEST_EXPORT(NonCanonicalJump, GLINT_GUEST_I32);

/* ---- hangs, aborts, exhaustion --------------------------------------------------- */

static int Spin(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    for (;;)
        __asm__ volatile("" ::: "memory");
    return 0;
}
GLINT_GUEST_EXPORT(Spin, GLINT_GUEST_VOID);

static int Abort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    glint_guest_abort(42, "bad thing %d", 7);
}
GLINT_GUEST_EXPORT(Abort, GLINT_GUEST_VOID);

/* Abort with a 100 KB message: far larger than the output buffer. */
static int AbortHuge(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    size_t n = 100 * 1024;
    char *s = malloc(n + 1);
    if (!s)
        return glint_guest_error(3, "out of memory");
    memset(s, 'A', n);
    s[n] = 0;
    glint_guest_abort(43, "huge:%s", s);
}
GLINT_GUEST_EXPORT(AbortHuge, GLINT_GUEST_VOID);

/* HeapExhaust() -> u32: malloc 1 KiB blocks until NULL, free them all, return the count. */
static int HeapExhaust(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    void **list = NULL;
    uint32_t count = 0;
    for (;;) {
        void **b = malloc(1024);
        if (!b)
            break;
        *b = list;
        list = b;
        count++;
    }
    /* Also an absurd request must fail cleanly. */
    if (malloc((size_t)-1 / 2) != NULL)
        return glint_guest_error(11, "huge malloc succeeded");
    while (list) {
        void **next = *list;
        free(list);
        list = next;
    }
    r->u32 = count;
    return 0;
}
GLINT_GUEST_EXPORT(HeapExhaust, GLINT_GUEST_U32);

/* Ok() -> i32 42: proves the sandbox (or a fresh one) still runs. */
static int Ok(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->i32 = 42;
    return 0;
}
GLINT_GUEST_EXPORT(Ok, GLINT_GUEST_I32);

/* ---- page faults on system pages, for the reported cause ---------------------------- */

/* The exception stack is supervisor-only but writable: a CPL3 write is refused because it
 * is supervisor-only, not because it is read-only. */
static int WriteExceptionStack(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    *(volatile uint64_t *)(uintptr_t)GLINT_ABI_XSTACK_ADDR = 0;
    r->i32 = 0;
    return 0;
}
GLINT_GUEST_EXPORT(WriteExceptionStack, GLINT_GUEST_I32);

/* The exception stubs are supervisor-only executable code. */
static int ExecSupervisor(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    ((void_fn)(uintptr_t)GLINT_ABI_STUBS_ADDR)();
    return 0;
}
GLINT_GUEST_EXPORT(ExecSupervisor, GLINT_GUEST_I32);

/* 0x15000: the not-present guard between the stubs and the exception stack. */
static int WriteUnmapped(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    *(volatile uint64_t *)(uintptr_t)(GLINT_ABI_STUBS_ADDR + GLINT_ABI_PAGE_SIZE) = 0;
    r->i32 = 0;
    return 0;
}
GLINT_GUEST_EXPORT(WriteUnmapped, GLINT_GUEST_I32);
