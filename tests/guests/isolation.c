/* Test guest for snapshots and restore: dirties pages, scribbles everywhere, keeps secrets. */
#include <glint/guest.h>
#include <stdlib.h>
#include <string.h>

static char secret[256];
static uint64_t calls;
static uint8_t *dirty_area;
static uint32_t dirty_pages;

/* Reserve a heap area once, at init, so DirtyPages touches the same pages
 * each time (a request that uses the heap the same way). */
int glint_guest_init(void)
{
    const struct glint_abi_boot *b = glint_guest_boot_info();
    dirty_pages = (uint32_t)(b->heap_size / 4096) - 4;
    dirty_area = malloc((size_t)dirty_pages * 4096);
    return dirty_area ? 0 : glint_guest_error(1, "no heap for the dirty area");
}

/* DirtyPages(n, seed) -> u32: write one word in each of n distinct pages. */
static int DirtyPages(const glint_guest_val *a, glint_guest_val *r)
{
    uint32_t n = a[0].u32 < dirty_pages ? a[0].u32 : dirty_pages;
    for (uint32_t i = 0; i < n; i++)
        *(volatile uint64_t *)(dirty_area + (size_t)i * 4096) = a[1].u64 + i;
    r->u32 = n;
    return 0;
}
GLINT_GUEST_EXPORT(DirtyPages, GLINT_GUEST_U32, GLINT_GUEST_U32, GLINT_GUEST_U64);

static void fill(uint8_t *p, uint64_t n, uint64_t seed)
{
    for (uint64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(seed >> 56);
    }
}

/* ScribbleAll(seed) -> void: overwrite every byte the guest can write,
 * except the live part of its own stack: heap (allocator metadata included),
 * data, stack, input and output buffers (the result is written last). Then
 * fill the SSE registers with garbage. */
static int ScribbleAll(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    const struct glint_abi_boot *b = glint_guest_boot_info();
    uint64_t seed = a[0].u64;
    fill((uint8_t *)(uintptr_t)b->heap_addr, b->heap_size, seed);
    fill((uint8_t *)secret, sizeof secret, seed + 1);
    calls = seed;
    uint8_t here;
    uint64_t live = (uint64_t)(uintptr_t)&here - 512;
    fill((uint8_t *)(uintptr_t)b->stack_addr, live - b->stack_addr, seed + 2);
    fill((uint8_t *)(uintptr_t)b->input_addr, b->input_size, seed + 3);
    fill((uint8_t *)(uintptr_t)b->output_addr, b->output_size, seed + 4);
    __asm__ volatile("pcmpeqd %%xmm8, %%xmm8\n\t"
                     "pcmpeqd %%xmm9, %%xmm9\n\t"
                     "pcmpeqd %%xmm15, %%xmm15\n\t" ::
                         : "xmm8", "xmm9", "xmm15");
    return 0;
}
GLINT_GUEST_EXPORT(ScribbleAll, GLINT_GUEST_VOID, GLINT_GUEST_U64);

/* ScribbleThenFault(seed) -> void: scribble, load garbage into general and
 * SSE registers, then fault, leaving the vCPU at CPL0 in an exception stub. */
static int ScribbleThenFault(const glint_guest_val *a, glint_guest_val *r)
{
    ScribbleAll(a, r);
    __asm__ volatile("mov $0x4141414141414141, %%rax\n\t"
                     "mov %%rax, %%rbx\n\t"
                     "mov %%rax, %%r12\n\t"
                     "mov %%rax, %%r15\n\t"
                     "movq %%rax, %%xmm0\n\t"
                     "ud2" ::
                         : "rax", "rbx", "r12", "r15", "xmm0", "memory");
    return 0;
}
GLINT_GUEST_EXPORT(ScribbleThenFault, GLINT_GUEST_VOID, GLINT_GUEST_U64);

/* StoreSecret(s) -> void and LoadSecret() -> string: state kept in .bss. */
static int StoreSecret(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    size_t n = a[0].len < sizeof secret - 1 ? a[0].len : sizeof secret - 1;
    memcpy(secret, a[0].str, n);
    secret[n] = 0;
    return 0;
}
GLINT_GUEST_EXPORT(StoreSecret, GLINT_GUEST_VOID, GLINT_GUEST_STRING);

static int LoadSecret(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    *r = glint_guest_val_string(secret);
    return 0;
}
GLINT_GUEST_EXPORT(LoadSecret, GLINT_GUEST_STRING);

/* Calls() -> u64: how many times this was called since the image was built. */
static int Calls(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    r->u64 = ++calls;
    return 0;
}
GLINT_GUEST_EXPORT(Calls, GLINT_GUEST_U64);

/* Spin() -> void: never returns. */
static int Spin(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    for (;;)
        __asm__ volatile("" ::: "memory");
    return 0;
}
GLINT_GUEST_EXPORT(Spin, GLINT_GUEST_VOID);

/* Nop() -> void: the cheapest call. */
static int Nop(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    return 0;
}
GLINT_GUEST_EXPORT(Nop, GLINT_GUEST_VOID);

/* TakeTwo(s, t) -> u32: total length; a call whose arguments can be wrong at position 2. */
static int TakeTwo(const glint_guest_val *a, glint_guest_val *r)
{
    r->u32 = a[0].len + a[1].len;
    return 0;
}
GLINT_GUEST_EXPORT(TakeTwo, GLINT_GUEST_U32, GLINT_GUEST_STRING, GLINT_GUEST_STRING);

/* RawInput() -> bytes: the input buffer's raw bytes, as much as the output
 * buffer can carry; what a tenant could read of an earlier call's arguments. */
static int RawInput(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    const struct glint_abi_boot *b = glint_guest_boot_info();
    uint64_t n = b->input_size < b->output_size - 64 ? b->input_size : b->output_size - 64;
    *r = glint_guest_val_bytes((const void *)(uintptr_t)b->input_addr, (uint32_t)n);
    return 0;
}
GLINT_GUEST_EXPORT(RawInput, GLINT_GUEST_BYTES);

/* Fail(s) -> void: a guest error carrying s. */
static int Fail(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    return glint_guest_error(7, "failing on %.20s", a[0].str);
}
GLINT_GUEST_EXPORT(Fail, GLINT_GUEST_VOID, GLINT_GUEST_STRING);

/* Abort(s) -> void: abort the call. */
static int Abort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    glint_guest_abort(9, "aborting on %.20s", a[0].str);
}
GLINT_GUEST_EXPORT(Abort, GLINT_GUEST_VOID, GLINT_GUEST_STRING);

/* BadResult(s) -> i32: leave garbage as the result (a protocol error). */
static int BadResult(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    const struct glint_abi_boot *b = glint_guest_boot_info();
    fill((uint8_t *)(uintptr_t)b->output_addr, 64, 5);
    for (;;)
        __asm__ volatile("outb %%al, %0" : : "i"(GLINT_ABI_PORT_DONE), "a"((uint8_t)0) : "memory");
    return 0;
}
GLINT_GUEST_EXPORT(BadResult, GLINT_GUEST_I32, GLINT_GUEST_STRING);

/* CallHost(name, s) -> string: the string the host function `name` returns
 * for s, or a guest error with the host's message. */
static int CallHost(const glint_guest_val *a, glint_guest_val *r)
{
    glint_guest_val out;
    if (glint_guest_host_call(a[0].str, GLINT_GUEST_STRING, &out, 1, &a[1]) != 0)
        return glint_guest_error(3, "host call %.40s failed", a[0].str);
    *r = out;
    return 0;
}
GLINT_GUEST_EXPORT(CallHost, GLINT_GUEST_STRING, GLINT_GUEST_STRING, GLINT_GUEST_STRING);
