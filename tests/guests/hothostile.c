/* Test guest: hostile behaviour against the hot mailbox (refuse to park, flip results, garbage). */
#include <glint/guest.h>
#include <stdint.h>
#include <string.h>

static volatile struct glint_abi_hot *box(void)
{
    return (volatile struct glint_abi_hot *)(uintptr_t)glint_guest_boot_info()->hot_addr;
}

static volatile uint8_t *out_buf(void)
{
    return (volatile uint8_t *)(uintptr_t)glint_guest_boot_info()->output_addr;
}

/* A RESULT message with one string of n bytes of c, written by hand. */
static void write_string_result(char c, uint32_t n)
{
    volatile uint8_t *o = out_buf();
    uint32_t padded = (n + 1 + 7) & ~7u, size = 16 + 8 + padded;
    for (uint32_t i = 0; i < padded; i++)
        o[24 + i] = i < n ? (uint8_t)c : 0;
    const uint8_t hdr[24] = {(uint8_t)size,
                             (uint8_t)(size >> 8),
                             0,
                             0,
                             GLINT_ABI_MSG_RESULT,
                             1,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             GLINT_ABI_STRING,
                             0,
                             0,
                             0,
                             (uint8_t)n,
                             (uint8_t)(n >> 8),
                             0,
                             0};
    for (int i = 0; i < 24; i++)
        o[i] = hdr[i];
}

static void publish_current(void)
{
    volatile struct glint_abi_hot *h = box();
    __atomic_store_n(&h->done_seq, h->req_seq, __ATOMIC_RELEASE);
}

static void __attribute__((noreturn)) spin_forever(void)
{
    for (;;)
        __asm__ volatile("pause" ::: "memory");
}

/* Ok(i32 x) -> i32: x + 1 (the benign call). */
static int Ok(const glint_guest_val *a, glint_guest_val *r)
{
    r->i32 = a[0].i32 + 1;
    return 0;
}
GLINT_GUEST_EXPORT(Ok, GLINT_GUEST_I32, GLINT_GUEST_I32);

/* HotMode() -> bool: the mailbox says hot mode is on. */
static int HotMode(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    volatile struct glint_abi_hot *h = box();
    r->b = h && h->magic == GLINT_ABI_HOT_MAGIC;
    return 0;
}
GLINT_GUEST_EXPORT(HotMode, GLINT_GUEST_BOOL);

/* AnswerThenRefuseToPark() -> string: answers "done" itself, then spins forever ignoring the
 * mailbox: it never parks and never serves another call. */
static int AnswerThenRefuseToPark(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    write_string_result('d', 4);
    publish_current();
    spin_forever();
}
GLINT_GUEST_EXPORT(AnswerThenRefuseToPark, GLINT_GUEST_STRING);

/* AnswerThenAbort() -> string: answers "done" itself, then aborts while no call is pending (it
 * exits early, out of its idle loop). */
static int __attribute__((noreturn)) AnswerThenAbort(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    write_string_result('d', 4);
    publish_current();
    for (volatile int i = 0; i < 100000; i++)
        ;
    glint_guest_abort(77, "left the mailbox loop after answering");
}
GLINT_GUEST_EXPORT(AnswerThenAbort, GLINT_GUEST_STRING);

/* FlipWhileCopied(u32 n) -> string: publishes a RESULT of n 'A's, then forever flips the
 * payload between 'A' and bytes that are not UTF-8, and the value's length between n and a
 * length past the buffer, while the host copies it. */
static int __attribute__((noreturn)) FlipWhileCopied(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    uint32_t n = a[0].u32;
    write_string_result('A', n);
    publish_current();
    volatile uint8_t *o = out_buf();
    for (uint32_t k = 0;; k++) {
        uint8_t b = (k & 1) ? 0xff : 'A';
        for (uint32_t i = 0; i < n; i += 61)
            o[24 + i] = b;
        o[20] = (k & 2) ? 0xf0 : (uint8_t)n;
        o[21] = (k & 2) ? 0xff : (uint8_t)(n >> 8);
    }
}
GLINT_GUEST_EXPORT(FlipWhileCopied, GLINT_GUEST_STRING, GLINT_GUEST_U32);

/* GarbageDone() -> i32: writes a done_seq that is neither the pending nor the previous call's,
 * then spins. */
static int GarbageDone(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    volatile struct glint_abi_hot *h = box();
    __atomic_store_n(&h->done_seq, h->req_seq + 12345, __ATOMIC_RELEASE);
    spin_forever();
}
GLINT_GUEST_EXPORT(GarbageDone, GLINT_GUEST_I32);

/* EndlessWindow() -> i32: sets its own spin window to forever and returns 1: the runtime then
 * spins in the mailbox loop without ever parking (until the host rewrites the window). */
static int EndlessWindow(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    box()->window_tsc = UINT64_MAX;
    r->i32 = 1;
    return 0;
}
GLINT_GUEST_EXPORT(EndlessWindow, GLINT_GUEST_I32);

/* ParkWithoutAnswer() -> i32: exits on the DONE port (a park) over and over from inside the
 * call, never answering it. */
static int __attribute__((noreturn)) ParkWithoutAnswer(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    for (;;)
        __asm__ volatile("outb %%al, %w0"
                         :
                         : "Nd"((uint16_t)GLINT_ABI_PORT_DONE), "a"(0)
                         : "memory");
}
GLINT_GUEST_EXPORT(ParkWithoutAnswer, GLINT_GUEST_I32);

/* HotOff() -> i32: clears the mailbox magic itself and returns 1 (the runtime then parks,
 * and resumes in exit mode: the host's next hot call is not seen). */
static int HotOff(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    box()->magic = 0;
    r->i32 = 1;
    return 0;
}
GLINT_GUEST_EXPORT(HotOff, GLINT_GUEST_I32);
