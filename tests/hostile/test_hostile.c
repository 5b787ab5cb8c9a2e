/* VM tests: the hostile-guest suite, one test per attack, each checked for its clean outcome. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glint/abi.h"
#include "helpers.h"
#include "integrity.h"
#include "whitebox.h"

/*
 * Every row names one export of tests/guests/hostile.c (one hostile behaviour), its arguments
 * and the outcome the host must produce: error code, failure kind, vector or message, and
 * whether the sandbox is poisoned. Each row runs as its own Criterion test:
 *
 *   1. load the image, create an untouched bystander sandbox, then a fresh sandbox;
 *   2. make the hostile call (2 s timeout unless the row says otherwise) under a watchdog,
 *      with the result initialised to a sentinel;
 *   3. check the outcome; on failure the sentinel must be untouched (no fabricated result);
 *   4. check poisoning; a poisoned sandbox answers EPOISONED, then glint_sandbox_restore()
 *      must make it indistinguishable from a new sandbox (registers at function entry and
 *      memory statistics, via DumpEntryState) and answer a benign call correctly; a sandbox
 *      that is not poisoned answers the benign call directly, and again after a restore;
 *   5. the bystander and a brand new sandbox still answer correctly, no descriptor leaked;
 *   6. throughout (after the hostile call, after restore, in the bystander) every code and
 *      system page of guest memory is byte-identical to the image's (tests/vm/integrity.h).
 *
 * HOSTILE_LIST=1 makes the summary test print every behaviour.
 *
 * Where hosts legitimately differ (PVM vs hardware VMX/SVM, AMD vs Intel), a row accepts the
 * documented set of outcomes (docs/security.md, "Platform differences"): `want` and `alt`, each
 * with a set of vectors. What every row asserts regardless is the security property: the host
 * is alive, no result is fabricated, code and system pages are unmodified, and the sandbox is
 * restorable and then pristine.
 */

#define CALL_TIMEOUT_MS 2000u
#define NO_TIMEOUT      UINT32_MAX
#define WATCHDOG_MS     15000.0
#define V(n)            (1ull << (n))
#define BENIGN_X        41 /* Benign(41) = 124 */

enum { FNS_IMAGE = 0, FNS_PRINT_ONLY = 1 };

/* One acceptable outcome of a hostile call. */
struct expect {
    bool set;
    int err;
    glint_failure_kind kind;
    uint64_t vectors; /* FAULT: acceptable vectors (0: any) */
    const char *msg;  /* substring of the failure message, or NULL */
    bool poisoned;
};

#define OK_                                                                                        \
    {                                                                                              \
        .set = true, .err = 0, .kind = GLINT_FAIL_NONE, .poisoned = false                          \
    }
#define FAULT_(vecs)                                                                               \
    {                                                                                              \
        .set = true, .err = GLINT_EFAULT, .kind = GLINT_FAIL_FAULT, .vectors = (vecs),             \
        .poisoned = true                                                                           \
    }
#define PROTO_(m)                                                                                  \
    {                                                                                              \
        .set = true, .err = GLINT_EPROTO, .kind = GLINT_FAIL_PROTOCOL, .msg = (m),                 \
        .poisoned = true                                                                           \
    }
#define ABORT_(m)                                                                                  \
    {                                                                                              \
        .set = true, .err = GLINT_EABORT, .kind = GLINT_FAIL_ABORT, .msg = (m), .poisoned = true   \
    }
#define GUEST_(m)                                                                                  \
    {                                                                                              \
        .set = true, .err = GLINT_EGUEST, .kind = GLINT_FAIL_GUEST_ERROR, .msg = (m),              \
        .poisoned = false                                                                          \
    }
#define TIMEOUT_                                                                                   \
    {                                                                                              \
        .set = true, .err = GLINT_ETIMEDOUT, .kind = GLINT_FAIL_TIMEOUT, .poisoned = true          \
    }
#define INTR_                                                                                      \
    {                                                                                              \
        .set = true, .err = GLINT_EINTR, .kind = GLINT_FAIL_INTERRUPTED, .poisoned = true          \
    }

#define A_I32(x) .nargs = 1, .args = {{GLINT_I32, 0, {.i32 = (x)}}}
#define A_U64(x) .nargs = 1, .args = {{GLINT_U64, 0, {.u64 = (x)}}}

struct run;

struct row {
    const char *id;   /* test name */
    const char *fn;   /* guest export */
    const char *what; /* the behaviour, for the summary */
    size_t nargs;
    glint_value args[1];
    struct expect want, alt;
    bool check_ret; /* success: ret must equal `ret` (as i64/u64 bits of the declared type) */
    int64_t ret;
    bool check_code; /* guest error / abort: failure.guest_code */
    int32_t code;
    bool check_addr; /* #PF: fault address */
    uint64_t addr;
    bool sanitized; /* failure message must be printable ASCII only */
    bool desync;    /* succeeded, but the guest left its call loop: restore before reuse */
    uint32_t timeout_ms;
    uint32_t interrupt_ms; /* glint_sandbox_interrupt() from another thread after this */
    double min_ms, max_ms; /* bounds on the call's wall time (0: none) */
    int fns;
    bool peer;
    void (*setup)(struct run *); /* runs on the sandbox before the hostile call */
    void (*check)(struct run *);
};

/* State of one row's run, handed to the row's extra check. */
struct run {
    const struct row *row;
    glint_image *img;
    glint_sandbox *sb, *bystander, *peer;
    int rc;
    glint_value ret;
    glint_failure f;
    const struct expect *matched;
    double ms;
};

/* ---- registry of rows (filled by constructors, for the summary) ---------------------------- */

static const struct row *all_rows[512];
static size_t nrows;

static void add_row(const struct row *r)
{
    if (nrows < sizeof all_rows / sizeof all_rows[0])
        all_rows[nrows++] = r;
}

static void run_row(const struct row *row);

#define ROW(id_, ...)                                                                              \
    static const struct row row_##id_ = {.id = #id_, __VA_ARGS__};                                 \
    __attribute__((constructor)) static void register_##id_(void)                                  \
    {                                                                                              \
        add_row(&row_##id_);                                                                       \
    }                                                                                              \
    Test(hostile, id_)                                                                             \
    {                                                                                              \
        run_row(&row_##id_);                                                                       \
    }

/* ---- host side: registry, print capture, reentry -----------------------------------------------
 */

static struct vm_capture cap;

static struct {
    glint_sandbox *sb, *peer;
    int call_rc, restore_rc, snapshot_rc, peer_rc;
    int32_t peer_ret;
} reenter;

static char big[64 * 1024];

/* HostBig(u32 n) -> string: n bytes of 'x' (static storage). */
static int host_big(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    size_t n = args[0].as.u32 < sizeof big ? args[0].as.u32 : sizeof big;
    memset(big, 'x', n);
    ret->as.str.ptr = big;
    ret->as.str.len = n;
    return 0;
}

/* Reenter(i32 mode) -> i32: 0 calls the peer sandbox, 1 the calling sandbox (busy), 2 the peer's
 * CallReenter(3), whose Reenter(3) calls the first sandbox again (busy). */
static int host_reenter(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    glint_value r, a = glint_i64(BENIGN_X);
    switch (args[0].as.i32) {
    case 0:
        reenter.peer_rc = glint_sandbox_call(reenter.peer, "Benign", &a, 1, &r);
        ret->as.i32 = reenter.peer_rc ? reenter.peer_rc : (int32_t)r.as.i64;
        return 0;
    case 1:
    case 3: {
        reenter.call_rc = glint_sandbox_call(reenter.sb, "Benign", &a, 1, &r);
        reenter.restore_rc = glint_sandbox_restore(reenter.sb, NULL);
        glint_snapshot *snap = NULL;
        reenter.snapshot_rc = glint_sandbox_snapshot(reenter.sb, &snap);
        glint_snapshot_destroy(snap);
        ret->as.i32 = reenter.call_rc;
        return 0;
    }
    case 2: {
        glint_value m = glint_i32(3);
        reenter.peer_rc = glint_sandbox_call(reenter.peer, "CallReenter", &m, 1, &r);
        reenter.peer_ret = r.as.i32;
        ret->as.i32 = reenter.peer_rc ? reenter.peer_rc : r.as.i32;
        return 0;
    }
    default:
        return -1;
    }
}

static glint_host_fns *image_fns(void)
{
    glint_host_fns *fns = vm_host_fns(&cap);
    static const glint_type u[] = {GLINT_U32}, i[] = {GLINT_I32};
    cr_assert_eq(glint_host_fns_add(fns, "HostBig", GLINT_STRING, u, 1, host_big, NULL), 0);
    cr_assert_eq(glint_host_fns_add(fns, "Reenter", GLINT_I32, i, 1, host_reenter, NULL), 0);
    return fns;
}

static glint_host_fns *print_only_fns(void)
{
    glint_host_fns *fns = NULL;
    cr_assert_eq(glint_host_fns_create(&fns), 0);
    cr_assert_eq(glint_host_fns_set_print(fns, vm_capture_print, &cap), 0);
    return fns;
}

/* Print a note in the test output (Criterion hides cr_log_info by default). */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("hostile: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

/* ---- helpers ------------------------------------------------------------------------------------
 */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Benign(x) must return 3x + 1. */
static void expect_benign(glint_sandbox *s, const char *who)
{
    glint_value a = glint_i64(BENIGN_X), r;
    memset(&r, 0, sizeof r);
    int rc = glint_sandbox_call(s, "Benign", &a, 1, &r);
    glint_failure f;
    glint_sandbox_last_failure(s, &f);
    cr_assert_eq(rc, 0, "%s: benign call failed: %s (%s)", who, glint_strerror(rc), f.message);
    cr_assert_eq(r.type, GLINT_I64, "%s: benign result type %d", who, r.type);
    cr_assert_eq(r.as.i64, 3 * BENIGN_X + 1, "%s: benign call returned %" PRId64, who, r.as.i64);
    cr_assert(!glint_sandbox_poisoned(s), "%s: poisoned by a benign call", who);
}

static int64_t call_i64(glint_sandbox *s, const char *fn, const glint_value *args, size_t n)
{
    glint_value r;
    int rc = glint_sandbox_call(s, fn, args, n, &r);
    cr_assert_eq(rc, 0, "%s: %s (%s)", fn, glint_strerror(rc), glint_errmsg());
    return r.as.i64;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* Interrupts the sandbox after `ms`, then every 10 ms until the call has returned (an early
 * interrupt that finds no running call does nothing, so a late-starting call is still hit). */
struct interrupter {
    glint_sandbox *sb;
    uint32_t ms;
    atomic_bool done;
    pthread_t thread;
};

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *interrupt_later(void *arg)
{
    struct interrupter *it = arg;
    sleep_ms(it->ms);
    while (!atomic_load(&it->done)) {
        glint_sandbox_interrupt(it->sb);
        sleep_ms(10);
    }
    return NULL;
}

static bool matches(const struct expect *e, const struct run *r)
{
    if (!e->set || r->rc != e->err || r->f.kind != e->kind)
        return false;
    if (e->kind == GLINT_FAIL_FAULT && e->vectors && !(e->vectors & V(r->f.vector & 63)))
        return false;
    return true;
}

static const char *outcome(const struct expect *e, char *buf, size_t n)
{
    if (!e->set)
        return "-";
    snprintf(buf, n, "%s/%s%s%s", glint_strerror(e->err), glint_failure_kind_name(e->kind),
             e->msg ? " '" : "", e->msg ? e->msg : "");
    return buf;
}

/* Mirror of struct entry_dump in tests/guests/hostile.c. */
#define DUMP_MAGIC 0x48535444554d5031ull
#define DUMP_HITS  16

struct dump_hit {
    uint64_t addr, value;
};

struct entry_dump {
    uint64_t magic;
    uint64_t gpr[16];
    uint64_t rflags;
    uint16_t sel[6];
    uint16_t pad0[2];
    uint64_t xmm[16][2];
    uint32_t mxcsr;
    uint16_t fcw, pad1;
    uint32_t cpuid[7][4];
    uint64_t pages_scanned;
    uint64_t words_scanned;
    uint64_t user_ptr_count;
    uint64_t kernel_ptr_count;
    struct dump_hit user_hits[DUMP_HITS];
    struct dump_hit kernel_hits[DUMP_HITS];
    uint64_t heap_nonzero;
    uint64_t heap_first_nz, heap_last_nz;
    uint64_t heap_size;
    uint64_t input_nonzero_after_msg;
    uint64_t output_nonzero_after_msg;
    uint64_t stack_nonzero_below;
    uint64_t boot_nonzero_after;
};
_Static_assert(sizeof(struct entry_dump) == 1144, "entry_dump layout");

static const char *const gpr_names[16] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

/* End of the guest's executable segment, from its ELF file's program headers (the dump skips
 * code bytes). Offsets per the ELF-64 specification (<elf.h> is shadowed by src/elf.h). */
static uint64_t code_end(void)
{
    static uint64_t end;
    if (end)
        return end;
    char path[4096];
    vm_test_guest_path(path, sizeof path, "hostile");
    size_t len;
    uint8_t *elf = vm_read_file(path, &len);
    cr_assert_geq(len, 64);
    uint64_t phoff;
    uint16_t phentsize, phnum;
    memcpy(&phoff, elf + 0x20, 8);
    memcpy(&phentsize, elf + 0x36, 2);
    memcpy(&phnum, elf + 0x38, 2);
    for (unsigned i = 0; i < phnum; i++) {
        uint64_t off = phoff + (uint64_t)i * phentsize, vaddr, memsz;
        uint32_t type, flags;
        cr_assert_leq(off + 56, len);
        memcpy(&type, elf + off, 4);
        memcpy(&flags, elf + off + 4, 4);
        memcpy(&vaddr, elf + off + 0x10, 8);
        memcpy(&memsz, elf + off + 0x28, 8);
        if (type == 1 /* PT_LOAD */ && (flags & 1 /* PF_X */) && vaddr + memsz > end)
            end = vaddr + memsz;
    }
    free(elf);
    cr_assert_gt(end, GLINT_ABI_IMAGE_BASE, "no executable segment in %s", path);
    return end;
}

static void get_dump(glint_sandbox *s, struct entry_dump *d, const char *who)
{
    glint_value a = glint_u64(code_end()), r;
    int rc = glint_sandbox_call(s, "DumpEntryState", &a, 1, &r);
    glint_failure f;
    glint_sandbox_last_failure(s, &f);
    cr_assert_eq(rc, 0, "%s: DumpEntryState: %s (%s)", who, glint_strerror(rc), f.message);
    cr_assert_eq(r.type, GLINT_BYTES);
    cr_assert_eq(r.as.bytes.len, sizeof *d);
    memcpy(d, r.as.bytes.ptr, sizeof *d);
    cr_assert_eq(d->magic, DUMP_MAGIC);
}

/* A restored sandbox must be indistinguishable from a new one: same registers at function
 * entry, same memory statistics (a restore that left the vCPU elsewhere fails here). */
static void expect_pristine(glint_sandbox *s, glint_image *img, const char *who)
{
    struct entry_dump ref, got;
    glint_sandbox *fresh = vm_sandbox(img, NULL);
    get_dump(fresh, &ref, "new sandbox");
    glint_sandbox_destroy(fresh);
    get_dump(s, &got, who);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(got.gpr[i], ref.gpr[i],
                     "%s: %s = 0x%" PRIx64 " at entry, a new sandbox has 0x%" PRIx64, who,
                     gpr_names[i], got.gpr[i], ref.gpr[i]);
    cr_assert_eq(got.rflags, ref.rflags, "%s: rflags 0x%" PRIx64 " vs 0x%" PRIx64, who, got.rflags,
                 ref.rflags);
    cr_assert(memcmp(got.sel, ref.sel, sizeof got.sel) == 0, "%s: segment selectors differ", who);
    cr_assert(memcmp(got.xmm, ref.xmm, sizeof got.xmm) == 0, "%s: xmm registers differ", who);
    cr_assert_eq(got.mxcsr, ref.mxcsr, "%s: mxcsr 0x%x vs 0x%x", who, got.mxcsr, ref.mxcsr);
    cr_assert_eq(got.fcw, ref.fcw, "%s: fcw 0x%x vs 0x%x", who, got.fcw, ref.fcw);
    cr_assert_eq(got.heap_nonzero, ref.heap_nonzero,
                 "%s: %" PRIu64 " non-zero heap bytes vs %" PRIu64, who, got.heap_nonzero,
                 ref.heap_nonzero);
    cr_assert_eq(got.stack_nonzero_below, ref.stack_nonzero_below,
                 "%s: %" PRIu64 " non-zero stack bytes vs %" PRIu64, who, got.stack_nonzero_below,
                 ref.stack_nonzero_below);
    /* CPUID is left out: under PVM it is the host's, whose leaf 1 carries the APIC ID of
     * whichever CPU ran the instruction. */
    memset(got.cpuid, 0, sizeof got.cpuid);
    memset(ref.cpuid, 0, sizeof ref.cpuid);
    cr_assert(memcmp(&got, &ref, sizeof got) == 0,
              "%s: entry dump differs from a new sandbox's (pointer-like values %" PRIu64
              "/%" PRIu64 " vs %" PRIu64 "/%" PRIu64 ", buffers %" PRIu64 "/%" PRIu64 " vs %" PRIu64
              "/%" PRIu64 ")",
              who, got.user_ptr_count, got.kernel_ptr_count, ref.user_ptr_count,
              ref.kernel_ptr_count, got.input_nonzero_after_msg, got.output_nonzero_after_msg,
              ref.input_nonzero_after_msg, ref.output_nonzero_after_msg);
}

/* ---- the row runner
 * ------------------------------------------------------------------------------ */

static void run_row(const struct row *row)
{
    vm_require_kvm();
    vm_capture_init(&cap);
    glint_host_fns *fns = image_fns();
    glint_host_fns *print_only = print_only_fns();
    struct run r = {.row = row};
    r.img = vm_load_test("hostile", NULL, fns);
    int fds0 = count_fds();

    r.bystander = vm_sandbox(r.img, NULL);
    r.sb = vm_sandbox(r.img, row->fns == FNS_PRINT_ONLY ? print_only : NULL);
    if (row->peer)
        r.peer = vm_sandbox(r.img, NULL);
    reenter.sb = r.sb;
    reenter.peer = r.peer;
    uint32_t timeout = row->timeout_ms ? row->timeout_ms : CALL_TIMEOUT_MS;
    glint_sandbox_set_timeout(r.sb, timeout == NO_TIMEOUT ? 0 : timeout);

    if (row->setup)
        row->setup(&r);
    glint_value sentinel;
    memset(&sentinel, 0xa5, sizeof sentinel);
    r.ret = sentinel;
    struct interrupter it = {.sb = r.sb, .ms = row->interrupt_ms, .done = false};
    if (row->interrupt_ms)
        cr_assert_eq(pthread_create(&it.thread, NULL, interrupt_later, &it), 0);
    vm_watchdog_start(WATCHDOG_MS, row->id);
    double t0 = vm_now_ms();
    r.rc = glint_sandbox_call(r.sb, row->fn, row->args, row->nargs, &r.ret);
    r.ms = vm_now_ms() - t0;
    vm_watchdog_stop();
    if (row->interrupt_ms) {
        atomic_store(&it.done, true);
        pthread_join(it.thread, NULL);
    }
    glint_sandbox_last_failure(r.sb, &r.f);

    /* The outcome. */
    char b1[160], b2[160];
    r.matched = matches(&row->want, &r) ? &row->want : matches(&row->alt, &r) ? &row->alt : NULL;
    cr_assert_not_null(r.matched, "%s (%s): got %s/%s vector %u (%s): '%s'; expected %s or %s",
                       row->id, row->fn, glint_strerror(r.rc), glint_failure_kind_name(r.f.kind),
                       r.f.vector, glint_vector_name(r.f.vector), r.f.message,
                       outcome(&row->want, b1, sizeof b1), outcome(&row->alt, b2, sizeof b2));
    const struct expect *m = r.matched;
    cr_assert_eq(r.f.error, r.rc, "failure.error %d, call returned %d", r.f.error, r.rc);
    cr_assert(memchr(r.f.message, 0, sizeof r.f.message) != NULL, "message not NUL-terminated");
    if (m->msg)
        cr_assert(vm_contains(r.f.message, m->msg), "%s: message '%s' lacks '%s'", row->id,
                  r.f.message, m->msg);
    if (r.rc != 0) {
        /* No result may be fabricated on failure: ret is exactly as we left it. */
        cr_assert(memcmp(&r.ret, &sentinel, sizeof sentinel) == 0, "%s failed (%s) but wrote *ret",
                  row->id, glint_strerror(r.rc));
        cr_assert(r.f.message[0], "failure without a message");
    } else {
        glint_function_info fi;
        cr_assert_eq(glint_exports_find(glint_image_exports(r.img), row->fn, &fi), 0);
        cr_assert_eq(r.ret.type, fi.ret, "%s: result type %d, declared %d", row->id, r.ret.type,
                     fi.ret);
        cr_assert_eq(r.f.kind, GLINT_FAIL_NONE);
    }
    if (m->kind == GLINT_FAIL_FAULT) {
        cr_assert(vm_contains(r.f.message, glint_vector_name(r.f.vector)), "%s", r.f.message);
        if (r.f.vector != 14)
            cr_assert_eq(r.f.fault_addr, 0, "fault address set for vector %u", r.f.vector);
    }
    if (row->check_addr && m->kind == GLINT_FAIL_FAULT && r.f.vector == 14)
        cr_assert_eq(r.f.fault_addr, row->addr, "%s: #PF at 0x%" PRIx64 ", expected 0x%" PRIx64,
                     row->id, r.f.fault_addr, row->addr);
    if (row->check_ret && r.rc == 0)
        cr_assert_eq(r.ret.as.i64, row->ret,
                     "%s returned %" PRId64 " (0x%" PRIx64 "), expected %" PRId64, row->id,
                     r.ret.as.i64, r.ret.as.u64, row->ret);
    if (row->check_code)
        cr_assert_eq(r.f.guest_code, row->code, "%s: guest code %d, expected %d", row->id,
                     r.f.guest_code, row->code);
    if (row->sanitized)
        cr_assert(printable(r.f.message), "%s: unsanitised message '%s'", row->id, r.f.message);
    if (row->min_ms)
        cr_assert(r.ms >= row->min_ms, "%s: returned after %.1f ms (< %.0f)", row->id, r.ms,
                  row->min_ms);
    if (row->max_ms)
        cr_assert(r.ms <= row->max_ms, "%s: took %.1f ms (> %.0f)", row->id, r.ms, row->max_ms);
    cr_assert_eq(glint_sandbox_poisoned(r.sb), m->poisoned, "%s: poisoned %d, expected %d", row->id,
                 glint_sandbox_poisoned(r.sb), m->poisoned);
    if (m != &row->want)
        note("%s: alternative outcome %s/%s (vector %u)", row->id, glint_strerror(r.rc),
             glint_failure_kind_name(r.f.kind), r.f.vector);
    vm_expect_system_pages_intact(r.sb, row->id);

    if (row->check)
        row->check(&r);
    vm_expect_system_pages_intact(r.sb, row->id);

    /* Recovery. */
    if (glint_sandbox_poisoned(r.sb)) {
        glint_failure before = r.f;
        glint_sandbox_last_failure(r.sb, &before);
        glint_value x = glint_i64(1), out;
        cr_assert_eq(glint_sandbox_call(r.sb, "Benign", &x, 1, &out), GLINT_EPOISONED,
                     "%s: a poisoned sandbox ran a call", row->id);
        glint_failure after;
        glint_sandbox_last_failure(r.sb, &after);
        cr_assert_str_eq(after.message, before.message, "EPOISONED replaced the failure");
        cr_assert_eq(glint_sandbox_restore(r.sb, NULL), 0, "restore: %s", glint_errmsg());
        cr_assert(!glint_sandbox_poisoned(r.sb));
        expect_pristine(r.sb, r.img, "sandbox restored after the hostile call");
        expect_benign(r.sb, "sandbox restored after the hostile call");
    } else {
        if (row->desync) {
            cr_assert_eq(glint_sandbox_restore(r.sb, NULL), 0, "restore: %s", glint_errmsg());
            expect_pristine(r.sb, r.img, "sandbox restored after the hostile call");
        }
        expect_benign(r.sb, "same sandbox");
        cr_assert_eq(glint_sandbox_restore(r.sb, NULL), 0, "restore: %s", glint_errmsg());
        expect_pristine(r.sb, r.img, "restored sandbox");
        expect_benign(r.sb, "restored sandbox");
    }
    expect_benign(r.sb, "same sandbox, second benign call");
    vm_expect_system_pages_intact(r.sb, "sandbox after recovery");
    expect_benign(r.bystander, "bystander sandbox");
    vm_expect_system_pages_intact(r.bystander, "bystander sandbox");
    if (r.peer)
        expect_benign(r.peer, "peer sandbox");
    glint_sandbox *fresh = vm_sandbox(r.img, NULL);
    expect_benign(fresh, "new sandbox");

    glint_sandbox_destroy(fresh);
    glint_sandbox_destroy(r.peer);
    glint_sandbox_destroy(r.sb);
    glint_sandbox_destroy(r.bystander);
    cr_assert_eq(count_fds(), fds0, "%s: file descriptors leaked", row->id);
    glint_image_destroy(r.img);
    glint_host_fns_destroy(fns);
    glint_host_fns_destroy(print_only);
}

static void fini(void)
{
    vm_watchdog_stop();
}

TestSuite(hostile, .fini = fini, .timeout = 60);

/* ---- extra checks for some rows -----------------------------------------------------------------
 */

static void check_reenter_other(struct run *r)
{
    cr_assert_eq(reenter.peer_rc, 0, "call into another sandbox from a host function: %s",
                 glint_strerror(reenter.peer_rc));
    cr_assert_eq(r->ret.as.i32, 3 * BENIGN_X + 1);
}

static void check_reenter_same(struct run *r)
{
    cr_assert_eq(reenter.call_rc, GLINT_EBUSY, "reentrant call: %s",
                 glint_strerror(reenter.call_rc));
    cr_assert_eq(reenter.restore_rc, GLINT_EBUSY, "restore during the call: %s",
                 glint_strerror(reenter.restore_rc));
    cr_assert_eq(reenter.snapshot_rc, GLINT_EBUSY, "snapshot during the call: %s",
                 glint_strerror(reenter.snapshot_rc));
    cr_assert_eq(r->ret.as.i32, GLINT_EBUSY);
    cr_assert_eq(r->f.kind, GLINT_FAIL_NONE, "the refused reentry left a failure behind");
}

static void check_reenter_cycle(struct run *r)
{
    cr_assert_eq(reenter.peer_rc, 0, "peer call: %s", glint_strerror(reenter.peer_rc));
    cr_assert_eq(reenter.call_rc, GLINT_EBUSY, "call back into the busy sandbox: %s",
                 glint_strerror(reenter.call_rc));
    cr_assert_eq(r->ret.as.i32, GLINT_EBUSY);
}

/* A second DONE answers the next call: accepted only because it is a well-formed result of
 * that call's declared type, i.e. the guest legitimately answering it. */
static void check_double_done_same_type(struct run *r)
{
    cr_assert_eq(call_i64(r->sb, "Seven", NULL, 0) & 0xffffffff, 2,
                 "the second DONE answers the next i32 call");
    cr_assert_eq(call_i64(r->sb, "Seven", NULL, 0) & 0xffffffff, 3,
                 "the runtime's own result of DoubleDone answers the one after");
    cr_assert_eq(call_i64(r->sb, "Seven", NULL, 0) & 0xffffffff, 7, "back in step");
}

/* ... and when the next call's type differs, the stale answer is a protocol violation. */
static void check_double_done_other_type(struct run *r)
{
    glint_value x = glint_i64(5), out;
    memset(&out, 0x5a, sizeof out);
    glint_value before = out;
    int rc = glint_sandbox_call(r->sb, "Benign", &x, 1, &out);
    glint_failure f = vm_expect_failure(r->sb, rc, GLINT_EPROTO, GLINT_FAIL_PROTOCOL);
    cr_assert(vm_contains(f.message, "return type"), "%s", f.message);
    cr_assert(memcmp(&out, &before, sizeof out) == 0, "an i32 answer was handed out as i64");
}

/* An early DONE in a void function answered with the (void) init result; the next call, an
 * i32, gets that stale buffer again and must refuse it. */
static void check_early_done_void(struct run *r)
{
    glint_value out;
    int rc = glint_sandbox_call(r->sb, "Seven", NULL, 0, &out);
    vm_expect_failure(r->sb, rc, GLINT_EPROTO, GLINT_FAIL_PROTOCOL);
}

static void check_print10000(struct run *r)
{
    cr_assert_eq(cap.prints, 10000, "%zu prints reached the host", cap.prints);
    note("10000 print host calls in %.1f ms (%.1f us each)", r->ms, r->ms * 1000 / 10000);
}

static void check_add10000(struct run *r)
{
    note("10000 HostAdd host calls in %.1f ms (%.1f us each)", r->ms, r->ms * 1000 / 10000);
}

/* FS/GS base written with wr*base (possible on PVM): kept in the sandbox, never leaked into
 * other sandboxes, and reset by restore. */
static void check_base(struct run *r, const char *fn)
{
    glint_value v = glint_u64(0x5678);
    cr_assert_eq((uint64_t)call_i64(r->sb, fn, &v, 1), 0x1234u, "%s: kept between calls", fn);
    v = glint_u64(0);
    cr_assert_eq(call_i64(r->bystander, fn, &v, 1), 0, "%s: another sandbox sees the base", fn);
    cr_assert_eq(glint_sandbox_restore(r->sb, NULL), 0);
    cr_assert_eq(call_i64(r->sb, fn, &v, 1), 0, "%s: base survived glint_sandbox_restore()", fn);
}

static void check_fs_base(struct run *r)
{
    if (r->rc == 0)
        check_base(r, "FsBaseSwap");
}

static void check_gs_base(struct run *r)
{
    if (r->rc == 0)
        check_base(r, "GsBaseSwap");
}

/* Data segment selectors as the host thread has them, and as a guest saw them before the
 * hostile call (setup_selectors). */
static uint64_t host_selectors(void)
{
    uint16_t ds, es, fs, gs;
    __asm__ volatile("mov %%ds, %0\n\tmov %%es, %1\n\tmov %%fs, %2\n\tmov %%gs, %3"
                     : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
    return ds | (uint64_t)es << 16 | (uint64_t)fs << 32 | (uint64_t)gs << 48;
}

static uint64_t pristine_guest_sel, pristine_host_sel;

static void setup_selectors(struct run *r)
{
    pristine_host_sel = host_selectors();
    pristine_guest_sel = (uint64_t)call_i64(r->sb, "Selectors", NULL, 0);
}

/* A segment load PVM accepts (the host's GDT decides there): whatever the guest loaded must stay
 * in that guest. Neither the host thread, nor another sandbox (existing or new, this thread or
 * another), nor the same sandbox after restore may see it. */
static void *selectors_on_new_thread(void *arg)
{
    glint_image *img = arg;
    glint_sandbox *s = vm_sandbox(img, NULL);
    uint64_t *v = malloc(sizeof *v);
    cr_assert_not_null(v);
    *v = (uint64_t)call_i64(s, "Selectors", NULL, 0);
    glint_sandbox_destroy(s);
    return v;
}

static void check_selectors(struct run *r)
{
    if (r->rc != 0)
        return;
    uint64_t inside = (uint64_t)call_i64(r->sb, "Selectors", NULL, 0);
    uint64_t host = host_selectors();
    uint64_t other = (uint64_t)call_i64(r->bystander, "Selectors", NULL, 0);
    glint_sandbox *fresh = vm_sandbox(r->img, NULL);
    uint64_t brand_new = (uint64_t)call_i64(fresh, "Selectors", NULL, 0);
    glint_sandbox_destroy(fresh);
    pthread_t t;
    void *res;
    cr_assert_eq(pthread_create(&t, NULL, selectors_on_new_thread, r->img), 0);
    pthread_join(t, &res);
    uint64_t thread_new = *(uint64_t *)res;
    free(res);
    cr_assert_eq(glint_sandbox_restore(r->sb, NULL), 0);
    uint64_t restored = (uint64_t)call_i64(r->sb, "Selectors", NULL, 0);
    note("%s: ds/es/fs/gs (16 bits each, ds lowest) before %016" PRIx64 "; after the load: in "
         "the guest %016" PRIx64 ", host thread %016" PRIx64 " (was %016" PRIx64
         "), bystander %016" PRIx64 ", new sandbox %016" PRIx64 ", new sandbox on a new thread "
         "%016" PRIx64 ", same sandbox restored %016" PRIx64,
         r->row->id, pristine_guest_sel, inside, host, pristine_host_sel, other, brand_new,
         thread_new, restored);
    cr_assert_eq(host, pristine_host_sel,
                 "the guest's segment load reached the host thread: %016" PRIx64 " (was %016" PRIx64
                 ")",
                 host, pristine_host_sel);
    cr_assert_eq(other, pristine_guest_sel,
                 "another sandbox sees the guest's selectors: %016" PRIx64, other);
    cr_assert_eq(brand_new, pristine_guest_sel,
                 "a new sandbox sees the guest's selectors: %016" PRIx64, brand_new);
    cr_assert_eq(thread_new, pristine_guest_sel,
                 "a new sandbox on a new thread sees the guest's selectors: %016" PRIx64,
                 thread_new);
    cr_assert_eq(restored, pristine_guest_sel,
                 "selectors survived glint_sandbox_restore(): %016" PRIx64, restored);
}

/* vmcall/vmmcall at CPL3 (docs/security.md): KVM's hypercall answer -KVM_EPERM (rax -1), #GP
 * or #UD, or #PF at the instruction itself, from KVM's attempt to "fix" the other vendor's
 * instruction on the read-only code page (expected only while the quirk is on, but which one a
 * host shows is its business: the property is that code is never patched). */
static void check_hypercall(struct run *r, uint32_t bytes_want)
{
    if (r->rc == 0) {
        uint64_t v = r->ret.as.u64;
        uint32_t bytes = (uint32_t)(v & 0xffffff);
        note("%s at CPL3: rax 0x%08" PRIx32 " after it, instruction bytes %06" PRIx32, r->row->fn,
             (uint32_t)(v >> 32), bytes);
        cr_assert_eq((uint32_t)(v >> 32), 0xffffffffu, "hypercall from CPL3 not refused");
        cr_assert_eq(bytes, bytes_want, "the hypervisor patched the guest's read-only code");
    } else if (r->f.vector == 14) {
        cr_assert_eq(r->f.fault_addr, r->f.rip, "#PF away from the instruction: %s", r->f.message);
    }
}

static void check_vmcall(struct run *r)
{
    check_hypercall(r, 0xc1010f);
}

static void check_vmmcall(struct run *r)
{
    check_hypercall(r, 0xd9010f);
}

/* Leave bytes 01 02 03 in KVM's port-I/O data page (a rep outsb that the host accepts as DONE),
 * then restore: the next `rep insb` exit then has stale non-zero data pending. */
static void setup_outsb_then_restore(struct run *r)
{
    cr_assert_eq(call_i64(r->sb, "RepOutsbDone", NULL, 0) & 0xffffffff, 42);
    cr_assert_eq(glint_sandbox_restore(r->sb, NULL), 0, "restore: %s", glint_errmsg());
}

static void check_messages_printable(struct run *r)
{
    cr_assert(printable(r->f.message), "'%s'", r->f.message);
    cr_assert(strlen(r->f.message) < sizeof r->f.message);
}

/* ---- the table
 * ------------------------------------------------------------------------------------ */

/* RESULT encodings (the function's declared type in parentheses in the guest). */
ROW(result_garbage, .fn = "ResGarbage", .what = "4 KiB of random bytes as the result",
    .want = PROTO_("malformed call result"))
ROW(result_all_zero, .fn = "ResAllZero", .what = "an all-zero result (size 0)",
    .want = PROTO_("smaller than its header"))
ROW(result_truncated, .fn = "ResTruncated", .what = "result cut off after the value header",
    .want = PROTO_("extends past the message"))
ROW(result_size_inside_header, .fn = "ResSizeInsideHeader",
    .what = "size 8: the message ends inside its own header",
    .want = PROTO_("smaller than its header"))
ROW(result_oversized, .fn = "ResOversized", .what = "size = buffer size + 8",
    .want = PROTO_("exceeds the buffer"))
ROW(result_size_ffffffff, .fn = "ResSizeFFFFFFFF", .what = "size 0xffffffff",
    .want = PROTO_("exceeds the buffer"))
ROW(result_size_near_4g, .fn = "ResSizeNear4G", .what = "size 2^32-8 (wraps 32-bit sums)",
    .want = PROTO_("exceeds the buffer"))
ROW(result_size_unaligned, .fn = "ResSizeUnaligned", .what = "size not a multiple of 8",
    .want = PROTO_("multiple of 8"))
ROW(result_trailing_bytes, .fn = "ResTrailingBytes", .what = "size larger than the values",
    .want = PROTO_("does not match its contents"))
ROW(result_self_ref_count, .fn = "ResSelfRefCount",
    .what = "count 1 but size 16: the value lies outside the message",
    .want = PROTO_("value header extends past"))
ROW(result_count_gt_content, .fn = "ResCountGtContent", .what = "count 3, one value",
    .want = PROTO_("extends past the message"))
ROW(result_count_17, .fn = "ResCount17", .what = "17 values (limit 16)",
    .want = PROTO_("too many values"))
ROW(result_count_255, .fn = "ResCount255", .what = "255 values", .want = PROTO_("too many values"))
ROW(result_bytes_len_ffffffff, .fn = "ResBytesLenFFFFFFFF", .what = "bytes value len 0xffffffff",
    .want = PROTO_("extends past the message"))
ROW(result_bytes_len_wraps_align, .fn = "ResBytesLenWrapsAlign",
    .what = "bytes len 2^32-7: rounding up wraps to 0 in 32 bits",
    .want = PROTO_("extends past the message"))
ROW(result_string_len_ffffffff, .fn = "ResStringLenFFFFFFFF",
    .what = "string len 0xffffffff: len+1 wraps to 0 in 32 bits",
    .want = PROTO_("extends past the message"))
ROW(result_string_len_whole_buffer, .fn = "ResStringLenWholeBuffer",
    .what = "string filling the buffer with no room for its NUL",
    .want = PROTO_("extends past the message"))
ROW(result_scalar_wrong_len, .fn = "ResScalarWrongLen", .what = "i32 of length 8",
    .want = PROTO_("wrong length"))
ROW(result_scalar_len_ffffffff, .fn = "ResScalarLenFFFFFFFF", .what = "i32 of length 0xffffffff",
    .want = PROTO_("wrong length"))
ROW(result_value_type_void, .fn = "ResValueTypeVoid", .what = "a value of type void",
    .want = PROTO_("unknown value type"))
ROW(result_value_type_200, .fn = "ResValueType200", .what = "a value of type 200",
    .want = PROTO_("unknown value type"))
ROW(result_reserved_header, .fn = "ResReservedHeader", .what = "reserved header byte set",
    .want = PROTO_("reserved header byte"))
ROW(result_reserved_value, .fn = "ResReservedValue", .what = "reserved value byte set",
    .want = PROTO_("reserved value bytes"))
ROW(result_padding_nonzero, .fn = "ResPaddingNonZero", .what = "non-zero value padding",
    .want = PROTO_("padding not zero"))
ROW(result_kind_zero, .fn = "ResKindZero", .what = "message kind 0",
    .want = PROTO_("unknown message kind"))
ROW(result_kind_call, .fn = "ResKindCall", .what = "a CALL message as the result",
    .want = PROTO_("kind 1"))
ROW(result_kind_hostresult, .fn = "ResKindHostResult", .what = "a HOSTRESULT as the result",
    .want = PROTO_("kind 4"))
ROW(result_kind_99, .fn = "ResKind99", .what = "message kind 99",
    .want = PROTO_("unknown message kind"))
ROW(result_name_len_set, .fn = "ResNameLenSet", .what = "name length on a RESULT",
    .want = PROTO_("name length set"))
ROW(result_i64_for_i32, .fn = "ResTypeI64ForI32", .what = "i64 result for an i32 function",
    .want = PROTO_("declared return type i32"))
ROW(result_f32_for_i32, .fn = "ResTypeF32ForI32",
    .what = "f32 result for an i32 function (same size)",
    .want = PROTO_("declared return type i32"))
ROW(result_bytes_for_string, .fn = "ResTypeBytesForString",
    .what = "bytes (invalid UTF-8) for a string function",
    .want = PROTO_("declared return type string"))
ROW(result_value_for_void, .fn = "ResValueForVoid", .what = "a value for a void function",
    .want = PROTO_("declared return type void"))
ROW(result_no_value, .fn = "ResNoValue", .what = "no value for an i32 function",
    .want = PROTO_("declared return type i32"))
ROW(result_count_2, .fn = "ResCount2", .what = "two well-formed values",
    .want = PROTO_("declared return type i32"))
ROW(result_bool_2, .fn = "ResBoolTwo", .what = "bool value 2", .want = PROTO_("bool value"))
ROW(result_string_unterminated, .fn = "ResStrUnterminated",
    .what = "string without a NUL in its padding", .want = PROTO_("not NUL-terminated"))
ROW(result_string_nul_outside, .fn = "ResStrNulOutsideMessage",
    .what = "string whose NUL lies past the message size", .want = PROTO_("extends past"))
ROW(result_string_overlong_2, .fn = "ResStrOverlong2", .what = "overlong 2-byte UTF-8",
    .want = PROTO_("valid UTF-8"))
ROW(result_string_overlong_3, .fn = "ResStrOverlong3", .what = "overlong 3-byte UTF-8",
    .want = PROTO_("valid UTF-8"))
ROW(result_string_overlong_4, .fn = "ResStrOverlong4", .what = "overlong 4-byte UTF-8",
    .want = PROTO_("valid UTF-8"))
ROW(result_string_surrogate, .fn = "ResStrSurrogate", .what = "UTF-8-encoded surrogate",
    .want = PROTO_("valid UTF-8"))
ROW(result_string_surrogate_pair, .fn = "ResStrSurrogatePair", .what = "CESU-8 surrogate pair",
    .want = PROTO_("valid UTF-8"))
ROW(result_string_lone_continuation, .fn = "ResStrLoneContinuation",
    .what = "lone continuation byte", .want = PROTO_("valid UTF-8"))
ROW(result_string_truncated_sequence, .fn = "ResStrTruncatedSequence",
    .what = "multi-byte sequence cut at the end", .want = PROTO_("valid UTF-8"))
ROW(result_string_above_10ffff, .fn = "ResStrAbove10FFFF", .what = "code point above U+10FFFF",
    .want = PROTO_("valid UTF-8"))
ROW(result_string_byte_ff, .fn = "ResStrByteFF", .what = "bytes 0xff 0xfe in a string",
    .want = PROTO_("valid UTF-8"))
ROW(result_string_embedded_nul, .fn = "ResStrEmbeddedNul", .what = "NUL inside a string",
    .want = PROTO_("NUL-free"))
ROW(result_error_without_message, .fn = "ResErrNoMessage", .what = "error status, no message",
    .want = PROTO_("without a message string"))
ROW(result_error_message_bad_utf8, .fn = "ResErrMessageBadUtf8",
    .what = "error message with invalid UTF-8", .want = PROTO_("valid UTF-8"))
ROW(result_error_message_unterminated, .fn = "ResErrMessageUnterminated",
    .what = "error message without NUL", .want = PROTO_("not NUL-terminated"))
ROW(result_error_message_i32, .fn = "ResErrMessageI32", .what = "error 'message' that is an i32",
    .want = PROTO_("without a message string"))
ROW(result_error_two_messages, .fn = "ResErrTwoMessages", .what = "error with two messages",
    .want = PROTO_("without a message string"))
ROW(result_error_escapes, .fn = "ResErrEscapes",
    .what = "error text with terminal escapes (sanitised)", .want = GUEST_("evil?[2J"),
    .check_code = true, .code = 7, .sanitized = true, .desync = true)
ROW(result_error_huge_message, .fn = "ResErrHugeMessage",
    .what = "16000-byte error text, status INT32_MIN", .want = GUEST_("MMMM"), .check_code = true,
    .code = INT32_MIN, .sanitized = true, .desync = true, .check = check_messages_printable)
ROW(result_error_unicode, .fn = "ResErrUnicode", .what = "valid non-ASCII error text",
    .want = GUEST_("h??llo"), .check_code = true, .code = 3, .sanitized = true, .desync = true)
ROW(result_too_big_runtime, .fn = "ReturnTooBig",
    .what = "result larger than the output buffer (runtime path)", .want = GUEST_("does not fit"))

/* HOSTCALL encodings. */
ROW(hostcall_garbage, .fn = "HcGarbage", .what = "random bytes as a host call",
    .want = PROTO_("malformed host call request"))
ROW(hostcall_all_zero, .fn = "HcAllZero", .what = "all-zero host call",
    .want = PROTO_("smaller than its header"))
ROW(hostcall_truncated_name, .fn = "HcTruncatedName", .what = "message ends before the name",
    .want = PROTO_("name extends past"))
ROW(hostcall_size_ffffffff, .fn = "HcSizeFFFFFFFF", .what = "host call size 0xffffffff",
    .want = PROTO_("exceeds the buffer"))
ROW(hostcall_size_near_4g, .fn = "HcSizeNear4G", .what = "host call size 2^32-8",
    .want = PROTO_("exceeds the buffer"))
ROW(hostcall_name_len_ffffffff, .fn = "HcNameLenFFFFFFFF", .what = "name length 0xffffffff",
    .want = PROTO_("name length out of range"))
ROW(hostcall_name_len_past_message, .fn = "HcNameLenPastMessage",
    .what = "name length beyond the message size", .want = PROTO_("name extends past"))
ROW(hostcall_empty_name, .fn = "HcEmptyName", .what = "empty host function name",
    .want = PROTO_("name length out of range"))
ROW(hostcall_name_64, .fn = "HcName64", .what = "64-character name",
    .want = PROTO_("name length out of range"))
ROW(hostcall_name_1000, .fn = "HcName1000", .what = "1000-character name",
    .want = PROTO_("name length out of range"))
ROW(hostcall_name_unterminated, .fn = "HcNameUnterminated", .what = "name without its NUL",
    .want = PROTO_("not NUL-terminated"))
ROW(hostcall_name_bad_chars, .fn = "HcNameBadChars", .what = "name 'pr-nt'",
    .want = PROTO_("invalid characters"))
ROW(hostcall_name_utf8, .fn = "HcNameUtf8", .what = "valid UTF-8, non-identifier name",
    .want = PROTO_("invalid characters"))
ROW(hostcall_name_overlong, .fn = "HcNameOverlong", .what = "overlong UTF-8 in the name",
    .want = PROTO_("invalid characters"))
ROW(hostcall_name_embedded_nul, .fn = "HcNameEmbeddedNul", .what = "name 'pri\\0t'",
    .want = PROTO_("invalid characters"))
ROW(hostcall_name_padding_junk, .fn = "HcNamePaddingJunk", .what = "junk after the name's NUL",
    .want = PROTO_("padding not zero"))
ROW(hostcall_arg_unterminated, .fn = "HcArgUnterminated", .what = "string argument without NUL",
    .want = PROTO_("not NUL-terminated"))
ROW(hostcall_arg_overlong, .fn = "HcArgOverlong", .what = "overlong UTF-8 argument",
    .want = PROTO_("valid UTF-8"))
ROW(hostcall_arg_surrogate, .fn = "HcArgSurrogate", .what = "surrogate in an argument",
    .want = PROTO_("valid UTF-8"))
ROW(hostcall_arg_lone_continuation, .fn = "HcArgLoneContinuation",
    .what = "lone continuation byte argument", .want = PROTO_("valid UTF-8"))
ROW(hostcall_arg_embedded_nul, .fn = "HcArgEmbeddedNul", .what = "NUL inside an argument",
    .want = PROTO_("NUL-free"))
ROW(hostcall_count_gt_content, .fn = "HcCountGtContent", .what = "count 2, one argument",
    .want = PROTO_("extends past the message"))
ROW(hostcall_count_17, .fn = "HcCount17", .what = "17 arguments", .want = PROTO_("too many values"))
ROW(hostcall_ret_type_10, .fn = "HcRetType10", .what = "expected return type 10",
    .want = PROTO_("unknown return type"))
ROW(hostcall_kind_result, .fn = "HcKindResult", .what = "a RESULT on the host-call port",
    .want = PROTO_("kind 2"))
ROW(hostcall_kind_hostresult, .fn = "HcKindHostResult",
    .what = "a forged HOSTRESULT on the host-call port", .want = PROTO_("kind 4"))
ROW(hostcall_kind_abort, .fn = "HcKindAbort", .what = "an ABORT on the host-call port",
    .want = PROTO_("kind 5"))

/* Host calls the host refuses with an error reply (the guest turns it into code 8). */
ROW(hostcall_unknown_function, .fn = "HcUnknownName", .what = "unknown host function",
    .want = GUEST_("no host function 'NoSuchHostFunction'"), .check_code = true, .code = 8)
ROW(hostcall_unregistered_function, .fn = "HcHostAdd", .fns = FNS_PRINT_ONLY,
    .what = "host function registered on the image but not this sandbox",
    .want = GUEST_("no host function 'HostAdd' is registered"), .check_code = true, .code = 8)
ROW(hostcall_registered_function, .fn = "HcHostAdd",
    .what = "control: the same call where HostAdd is registered", .want = OK_, .check_ret = true,
    .ret = 42)
ROW(hostcall_name_63_unknown, .fn = "HcName63Unknown", .what = "63-character unknown name",
    .want = GUEST_("no host function 'ZZZZ"), .check_code = true, .code = 8)
ROW(hostcall_wrong_arg_types, .fn = "HcWrongArgTypes", .what = "HostAdd(i32, i64)",
    .want = GUEST_("called as (i32, i64)"), .check_code = true, .code = 8)
ROW(hostcall_too_few_args, .fn = "HcTooFewArgs", .what = "HostAdd(i64)",
    .want = GUEST_("called as (i64) -> i64"), .check_code = true, .code = 8)
ROW(hostcall_too_many_args, .fn = "HcTooManyArgs", .what = "HostAdd(i64, i64, i64)",
    .want = GUEST_("called as (i64, i64, i64)"), .check_code = true, .code = 8)
ROW(hostcall_sixteen_args, .fn = "HcSixteenArgs", .what = "HostAdd with 16 string arguments",
    .want = GUEST_("has signature (i64, i64) -> i64"), .check_code = true, .code = 8)
ROW(hostcall_wrong_return_type, .fn = "HcWrongReturnType", .what = "HostAdd expecting a string",
    .want = GUEST_("-> string"), .check_code = true, .code = 8)
ROW(hostcall_print_wrong_return_type, .fn = "HcPrintWrongReturnType",
    .what = "print expecting an i32", .want = GUEST_("called as (string) -> i32"),
    .check_code = true, .code = 8)
ROW(hostcall_print_no_args, .fn = "HcPrintNoArgs", .what = "print with no argument",
    .want = GUEST_("called as () -> void"), .check_code = true, .code = 8)
ROW(hostcall_failing_function, .fn = "HcFailingFunction", .what = "host function fails",
    .want = GUEST_("failed with code -3"), .check_code = true, .code = 8)
ROW(hostcall_reply_too_big, .fn = "HcReplyTooBig", .what = "host reply larger than the buffer",
    .want = GUEST_("longer than the buffer"), .check_code = true, .code = 8)

/* Floods and recursion. */
ROW(hostcall_10000_prints, .fn = "Print10000", .what = "10000 print host calls in one call",
    .want = OK_, .check_ret = true, .ret = 10000, .timeout_ms = 5000, .max_ms = 2500,
    .check = check_print10000)
ROW(hostcall_10000_adds, .fn = "Add10000", .what = "10000 HostAdd host calls in one call",
    .want = OK_, .check_ret = true, .ret = 49995000, .timeout_ms = 5000, .max_ms = 2500,
    .check = check_add10000)
ROW(hostcall_flood_until_timeout, .fn = "PrintForever",
    .what = "host calls forever, 150 ms timeout", .want = TIMEOUT_, .timeout_ms = 150,
    .min_ms = 135, .max_ms = 1500)
ROW(hostcall_flood_until_interrupt, .fn = "PrintForever",
    .what = "host calls forever, no timeout, interrupted after 50 ms", .want = INTR_,
    .timeout_ms = NO_TIMEOUT, .interrupt_ms = 50, .min_ms = 40, .max_ms = 1500)
ROW(reenter_other_sandbox, .fn = "CallReenter", A_I32(0), .peer = true,
    .what = "host function calls another sandbox of the same image", .want = OK_,
    .check = check_reenter_other)
ROW(reenter_same_sandbox, .fn = "CallReenter", A_I32(1), .peer = true,
    .what = "host function calls, restores and snapshots the calling sandbox: EBUSY", .want = OK_,
    .check = check_reenter_same)
ROW(reenter_cycle, .fn = "CallReenter", A_I32(2), .peer = true,
    .what = "A -> host -> B -> host -> A again: EBUSY, both calls complete", .want = OK_,
    .check = check_reenter_cycle)

/* ABORT encodings. */
ROW(abort_garbage, .fn = "AbGarbage", .what = "random bytes as an abort",
    .want = ABORT_("unreadable abort message"), .check_code = true, .code = 0, .sanitized = true)
ROW(abort_unterminated, .fn = "AbUnterminated", .what = "abort text without NUL",
    .want = ABORT_("not NUL-terminated"), .check_code = true, .code = 0)
ROW(abort_invalid_utf8, .fn = "AbInvalidUtf8", .what = "abort text with a surrogate",
    .want = ABORT_("valid UTF-8"), .check_code = true, .code = 0)
ROW(abort_size_ffffffff, .fn = "AbSizeFFFFFFFF", .what = "abort size 0xffffffff",
    .want = ABORT_("exceeds the buffer"), .check_code = true, .code = 0)
ROW(abort_message_i32, .fn = "AbMessageI32", .what = "abort 'message' that is an i32",
    .want = ABORT_("wrong shape"))
ROW(abort_no_message, .fn = "AbNoMessage", .what = "abort without a message",
    .want = ABORT_("wrong shape"))
ROW(abort_stale_buffer, .fn = "AbStaleBuffer", .what = "abort exit with nothing written",
    .want = ABORT_("wrong shape"))
ROW(abort_escapes, .fn = "AbEscapes", .what = "abort text with terminal escapes (sanitised)",
    .want = ABORT_("red"), .check_code = true, .code = 82, .sanitized = true)
ROW(abort_raw_huge, .fn = "AbRawHuge", .what = "valid abort text filling the buffer",
    .want = ABORT_("HHHH"), .check_code = true, .code = 83, .sanitized = true)
ROW(abort_huge_formatted, .fn = "AbHugeFormatted", .what = "glint_abort with 100 KB of text",
    .want = ABORT_("huge:AAAA"), .check_code = true, .code = 43, .sanitized = true)

/* Early, repeated and forged exits; buffers touched at the wrong time. */
ROW(early_done_i32, .fn = "EarlyDoneI32", .what = "DONE before writing a result (i32)",
    .want = PROTO_("declared return type i32"))
ROW(early_done_void, .fn = "EarlyDoneVoid",
    .what = "DONE before writing a result (void): the stale void init result answers", .want = OK_,
    .check = check_early_done_void)
ROW(early_done_after_hostcall, .fn = "EarlyDoneAfterHostCall",
    .what = "DONE with the host's reply still in the buffer", .want = PROTO_("kind 4"))
ROW(double_done_same_type, .fn = "DoubleDone",
    .what = "DONE twice; the second answers the next i32 call", .want = OK_, .check_ret = true,
    .ret = 1, .check = check_double_done_same_type)
ROW(double_done_other_type, .fn = "DoubleDone",
    .what = "DONE twice; the next call is i64, the stale i32 is refused", .want = OK_,
    .check_ret = true, .ret = 1, .check = check_double_done_other_type)
ROW(scribble_input_during_hostcall, .fn = "ScribbleInputDuringHostCall",
    .what = "guest overwrites the input buffer around host calls", .want = OK_, .check_ret = true,
    .ret = 5)
ROW(forge_result_from_reply, .fn = "ForgeResultFromReply",
    .what = "edit the host's reply into a RESULT of the guest's choosing", .want = OK_,
    .check_ret = true, .ret = 4242, .desync = true)
ROW(scribble_reply_then_done, .fn = "ScribbleReplyThenDone",
    .what = "damage the host's reply, then DONE", .want = PROTO_("too many values"))

/* Port I/O: only 1-byte `out` to 0xe0..0xe2 is defined; the TSS bitmap denies the rest. */
#define PORT_GP(id_, fn_, what_) ROW(id_, .fn = fn_, .what = what_, .want = FAULT_(V(13)))
PORT_GP(outb_imm_port_80, "OutbImm80", "outb to port 0x80 (imm8)")
PORT_GP(outw_imm_port_80, "OutwImm80", "outw to port 0x80 (imm8)")
PORT_GP(outl_imm_port_80, "OutlImm80", "outl to port 0x80 (imm8)")
PORT_GP(inb_imm_port_80, "InbImm80", "inb from port 0x80 (imm8)")
PORT_GP(inw_imm_port_80, "InwImm80", "inw from port 0x80 (imm8)")
PORT_GP(inl_imm_port_80, "InlImm80", "inl from port 0x80 (imm8)")
PORT_GP(outb_dx_port_3f8, "OutbDx3f8", "outb to COM1 0x3f8 (dx)")
PORT_GP(outw_dx_port_cf8, "OutwDxCf8", "outw to PCI 0xcf8 (dx)")
PORT_GP(outl_dx_port_cf8, "OutlDxCf8", "outl to PCI 0xcf8 (dx)")
PORT_GP(inb_dx_port_3f8, "InbDx3f8", "inb from 0x3f8 (dx)")
PORT_GP(inw_dx_port_cfc, "InwDxCfc", "inw from 0xcfc (dx)")
PORT_GP(inl_dx_port_cfc, "InlDxCfc", "inl from 0xcfc (dx)")
PORT_GP(outb_dx_port_ffff, "OutbDxFFFF", "outb to 0xffff (beyond the bitmap)")
PORT_GP(outb_dx_fault_port, "OutbDxFaultPort", "outb to the CPL0 fault port 0xe3 (dx)")
PORT_GP(outb_port_df, "OutbImmDF", "outb to 0xdf (next to glint's ports)")
PORT_GP(outb_port_e4, "OutbImmE4", "outb to 0xe4 (next to glint's ports)")
PORT_GP(inl_done_port, "InlDone", "inl from DONE (spans the fault port)")
PORT_GP(outl_done_port, "OutlDone", "outl to DONE (spans the fault port)")
PORT_GP(outw_abort_port, "OutwDxAbort", "outw to ABORT (spans the fault port)")
ROW(inb_done_port, .fn = "InbDone", .what = "inb from the DONE port",
    .want = PROTO_("in of size 1 on port 0xe0"))
ROW(inw_done_port, .fn = "InwDone", .what = "inw from the DONE port",
    .want = PROTO_("in of size 2 on port 0xe0"))
ROW(inb_hostcall_port, .fn = "InbDxHostCall", .what = "inb from the HOSTCALL port (dx)",
    .want = PROTO_("in of size 1 on port 0xe1"))
ROW(inb_abort_port, .fn = "InbDxAbort", .what = "inb from the ABORT port (dx)",
    .want = PROTO_("in of size 1 on port 0xe2"))
ROW(outw_done_port, .fn = "OutwDone", .what = "outw to the DONE port",
    .want = PROTO_("out of size 2 on port 0xe0"))
ROW(outw_hostcall_port, .fn = "OutwDxHostCall", .what = "outw to the HOSTCALL port",
    .want = PROTO_("out of size 2 on port 0xe1"))
ROW(rep_outsb_done_port, .fn = "RepOutsbDone", .what = "a valid result sent with rep outsb",
    .want = OK_, .check_ret = true, .ret = 42, .desync = true)
ROW(rep_insb_done_port, .fn = "RepInsbDone", .what = "rep insb from the DONE port",
    .want = PROTO_("in of size 1 on port 0xe0"))
ROW(rep_insb_after_stale_io_data, .fn = "RepInsbDone", .setup = setup_outsb_then_restore,
    .what = "rep insb from DONE with stale data pending in KVM's I/O page",
    .want = PROTO_("in of size 1 on port 0xe0"))
ROW(outsb_from_supervisor_page, .fn = "OutsbFromSupervisor",
    .what = "rep outsb sourcing the GDT (supervisor page)", .want = FAULT_(V(14)),
    .check_addr = true, .addr = GLINT_ABI_GDT_ADDR)
ROW(insb_into_gdt, .fn = "InsbIntoGdt", .what = "rep insb into the GDT from the DONE port",
    .want = PROTO_("in of size 1 on port 0xe0"), .alt = FAULT_(V(14)))

/* Memory: system pages, guards, beyond the slot, host-looking addresses. */
#define PF_AT(id_, fn_, addr_, what_)                                                              \
    ROW(id_, .fn = fn_, A_U64(addr_), .what = what_, .want = FAULT_(V(14)), .check_addr = true,    \
        .addr = (addr_))
PF_AT(read_null_guard, "ReadAt", 0x8000, "read inside the 64 KiB null guard")
PF_AT(read_gdt, "ReadAt", GLINT_ABI_GDT_ADDR, "read the GDT (supervisor)")
PF_AT(read_idt, "ReadAt", GLINT_ABI_IDT_ADDR, "read the IDT (supervisor)")
PF_AT(read_tss, "ReadAt", GLINT_ABI_TSS_ADDR, "read the TSS (supervisor)")
PF_AT(read_stubs, "ReadAt", GLINT_ABI_STUBS_ADDR, "read the exception stubs (supervisor)")
PF_AT(read_guard_15000, "ReadAt", 0x15000, "read the guard below the exception stack")
PF_AT(read_exception_stack, "ReadAt", GLINT_ABI_XSTACK_ADDR + 0x1ff8,
      "read the exception stack (supervisor)")
PF_AT(read_guard_18000, "ReadAt", 0x18000, "read the guard above the exception stack")
PF_AT(read_page_tables, "ReadAt", GLINT_ABI_PT_ADDR, "read the PML4 (never mapped)")
PF_AT(read_1gib, "ReadAt", 0x40000000, "read at 1 GiB (beyond every mapping)")
PF_AT(read_host_like, "ReadAt", 0x7ffff7dd0000ull, "read a host user-space-looking address")
PF_AT(read_kernel_like, "ReadAt", 0xffffffff81000000ull, "read a kernel-looking address")
PF_AT(write_boot_page, "WriteAt", GLINT_ABI_BOOT_ADDR, "write the boot page (user read-only)")
PF_AT(write_gdt, "WriteAt", GLINT_ABI_GDT_ADDR, "write the GDT")
PF_AT(write_idt, "WriteAt", GLINT_ABI_IDT_ADDR + 14 * 16, "write the #PF gate of the IDT")
PF_AT(write_tss_rsp0, "WriteAt", GLINT_ABI_TSS_ADDR + 4, "write RSP0 in the TSS")
PF_AT(write_io_bitmap, "WriteAt", GLINT_ABI_TSS_ADDR + 104 + 0x10,
      "write the TSS I/O permission bitmap")
PF_AT(write_stubs, "WriteAt", GLINT_ABI_STUBS_ADDR, "write the exception stubs")
PF_AT(write_exception_stack, "WriteAt", GLINT_ABI_XSTACK_ADDR, "write the exception stack")
PF_AT(write_exception_stack_top, "WriteAt", GLINT_ABI_XSTACK_ADDR + GLINT_ABI_XSTACK_SIZE - 8,
      "write the top of the exception stack (the next frame)")
PF_AT(write_pml4, "WriteAt", GLINT_ABI_PT_ADDR, "write the PML4")
PF_AT(write_page_table_leaf, "WriteAt", GLINT_ABI_PT_ADDR + 3 * 0x1000 + 0x200 * 8,
      "write a leaf page-table entry (the one mapping the image)")
PF_AT(write_host_like, "WriteAt", 0x7ffff7dd0000ull, "write a host user-space-looking address")
PF_AT(jump_null, "JumpTo", 0, "jump to 0")
PF_AT(jump_guard_15000, "JumpTo", 0x15000, "jump to an unmapped guard page")
PF_AT(jump_stubs, "JumpTo", GLINT_ABI_STUBS_ADDR + 14 * 16, "jump into the #PF stub (CPL0 code)")
PF_AT(call_gp_stub, "CallTo", GLINT_ABI_STUBS_ADDR + 13 * 16, "call the #GP stub (CPL0 code)")
PF_AT(jump_exception_stack, "JumpTo", GLINT_ABI_XSTACK_ADDR, "jump into the exception stack")
PF_AT(jump_page_tables, "JumpTo", GLINT_ABI_PT_ADDR, "jump into the page tables")
PF_AT(jump_host_like, "JumpTo", 0x7ffff7dd0000ull, "jump to a host-looking address")
PF_AT(jump_kernel_like, "JumpTo", 0xffffffff81000000ull, "jump to a kernel-looking address")
ROW(read_non_canonical, .fn = "ReadAt", A_U64(0x0000800000000000ull),
    .what = "read a non-canonical address", .want = FAULT_(V(13)))
ROW(write_non_canonical, .fn = "WriteAt", A_U64(0xdead00000000beefull),
    .what = "write a non-canonical address", .want = FAULT_(V(13)))
ROW(jump_non_canonical, .fn = "JumpTo", A_U64(0x0000800000000000ull),
    .what = "jump to a non-canonical address", .want = FAULT_(V(13)))
ROW(read_memory_end, .fn = "ReadMemoryEnd", .what = "read just past guest memory",
    .want = FAULT_(V(14)))
ROW(write_memory_end, .fn = "WriteMemoryEnd", .what = "write just past guest memory",
    .want = FAULT_(V(14)))
ROW(write_stack_guard, .fn = "WriteStackGuard", .what = "write the stack guard page",
    .want = FAULT_(V(14)))
ROW(write_own_code, .fn = "WriteOwnCode", .what = "write into .text", .want = FAULT_(V(14)))
ROW(write_rodata, .fn = "WriteRodata", .what = "write into .rodata", .want = FAULT_(V(14)))
ROW(write_export_table, .fn = "WriteExportTable", .what = "rewrite the export table",
    .want = FAULT_(V(14)))
ROW(self_modifying_code, .fn = "SelfModify", .what = "patch own code then run it",
    .want = FAULT_(V(14)))
ROW(jump_into_data, .fn = "JumpIntoData", .what = "execute .data", .want = FAULT_(V(14)))
ROW(jump_into_input_buffer, .fn = "JumpIntoInputBuffer", .what = "execute the input buffer",
    .want = FAULT_(V(14)))
ROW(jump_into_boot_page, .fn = "JumpIntoBootPage", .what = "execute the boot page",
    .want = FAULT_(V(14)))
ROW(jump_into_heap, .fn = "JumpIntoHeap", .what = "execute the heap", .want = FAULT_(V(14)))
ROW(return_to_non_canonical, .fn = "ReturnToNonCanonical", .what = "ret to a non-canonical address",
    .want = FAULT_(V(13)))

/* Privileged and unusual instructions at CPL3. Vector masks list PVM's and the architectural
 * vector where they differ (comments). */
#define INSN(id_, fn_, vecs_, what_) ROW(id_, .fn = fn_, .what = what_, .want = FAULT_(vecs_))
INSN(syscall, "Syscall", V(14) | V(6), "syscall (PVM: to LSTAR=0, #PF; arch: #UD, SCE=0)")
INSN(sysenter, "Sysenter", V(6) | V(13), "sysenter (PVM #UD; Intel #GP)")
INSN(sysexit, "Sysexit", V(13) | V(6), "sysexit at CPL3")
INSN(sysret, "Sysret", V(13) | V(6), "sysret at CPL3 (PVM #GP; arch #UD, SCE=0)")
INSN(int_0x80, "Int80", V(6) | V(13), "int $0x80 (PVM #UD; arch #GP, gate DPL 0)")
INSN(int_14, "IntPageFault", V(6) | V(13), "int $14: a #PF without error code")
INSN(int3, "Int3", V(3) | V(13), "int3 (PVM #BP; arch #GP)")
INSN(int1_icebp, "Int1Icebp", V(1), "int1 / icebp (0xf1)")
INSN(into, "Into", V(6), "into (invalid in 64-bit mode)")
INSN(ud2, "Ud2", V(6), "ud2")
INSN(hlt, "Hlt", V(13), "hlt")
INSN(cli, "Cli", V(13), "cli")
INSN(sti, "Sti", V(13), "sti")
INSN(rdmsr, "Rdmsr", V(13), "rdmsr LSTAR")
INSN(wrmsr, "Wrmsr", V(13), "wrmsr LSTAR")
INSN(lgdt, "Lgdt", V(13), "lgdt")
INSN(lidt, "Lidt", V(13), "lidt")
INSN(ltr, "Ltr", V(13), "ltr")
INSN(lldt, "Lldt", V(13), "lldt")
INSN(mov_to_cr3, "MovToCr3", V(13), "mov %rax, %cr3")
INSN(mov_from_cr0, "MovFromCr0", V(13), "mov %cr0, %rax")
INSN(mov_to_cr0, "MovToCr0", V(13), "mov to %cr0")
INSN(mov_to_cr4, "MovToCr4", V(13), "mov to %cr4")
INSN(mov_to_dr7, "MovToDr7", V(13), "mov to %dr7")
INSN(invlpg, "Invlpg", V(13), "invlpg")
INSN(wbinvd, "Wbinvd", V(13), "wbinvd")
INSN(invd, "Invd", V(13), "invd")
INSN(rdpmc, "Rdpmc", V(13), "rdpmc (CR4.PCE clear)")
INSN(xsetbv, "Xsetbv", V(13) | V(6), "xsetbv (#GP at CPL3; #UD where CR4.OSXSAVE is clear)")
INSN(xsetbv_all, "XsetbvAll", V(13) | V(6), "xsetbv asking for every XCR0 bit")
INSN(swapgs, "Swapgs", V(13), "swapgs")
INSN(clts, "Clts", V(13), "clts")
INSN(lmsw, "Lmsw", V(13), "lmsw")
INSN(mov_ss_kernel, "MovSsKernel", V(13), "mov 0x10 (kernel data) to %ss")
INSN(mov_ss_kernel_rpl3, "MovSsKernelRpl3", V(13), "mov 0x13 to %ss")
INSN(mov_ss_tss, "MovSsTss", V(13), "mov the TSS selector 0x28 to %ss")
INSN(mov_ss_null, "MovSsNull", V(13), "mov a null selector to %ss at CPL3")
INSN(mov_ds_kernel, "MovDsKernel", V(13), "mov 0x10 (kernel data) to %ds")
INSN(mov_es_kernel_code, "MovEsKernelCode", V(13), "mov 0x08 (kernel code) to %es")
INSN(mov_fs_past_gdt, "MovFsPastGdt", V(13), "mov 0xfffb (beyond the GDT) to %fs")
INSN(mov_gs_ldt, "MovGsLdt", V(13), "mov an LDT selector to %gs (no LDT)")
INSN(ldmxcsr_reserved, "LdmxcsrReserved", V(6) | V(13),
     "ldmxcsr with reserved bits (PVM #UD; arch #GP)")
INSN(iretq_to_cpl0, "IretqToCpl0", V(13), "iretq with a crafted CPL0 frame")
INSN(iretq_iopl_then_cli, "IretqIoplThenCli", V(13), "iretq asking for IOPL 3, then cli")
INSN(popf_iopl_then_out, "PopfIoplThenOut", V(13), "popf asking for IOPL 3, then out 0x80")
INSN(popf_trap_flag, "PopfTrapFlag", V(1), "set RFLAGS.TF: single-step trap")
INSN(ljmp_kernel_cs, "LjmpKernelCs", V(13), "far jmp to kernel CS 0x08")
INSN(lret_kernel_cs, "LretKernelCs", V(13), "far ret to kernel CS 0x08")
INSN(lcall_tss, "LcallTss", V(6) | V(13), "far call to the TSS selector (PVM #UD; arch #GP)")
INSN(sse_div_zero_unmasked, "SseDivZeroUnmasked", V(19), "unmasked SSE divide by zero: #XM")
INSN(x87_div_zero_unmasked, "X87DivZeroUnmasked", V(16), "unmasked x87 divide by zero: #MF")
INSN(idiv_overflow, "IdivOverflow", V(0), "INT64_MIN / -1: #DE")
ROW(vmcall, .fn = "VmcallSite",
    .what = "vmcall at CPL3 (PVM #GP; VMX: rax = -EPERM; SVM #UD); code never patched",
    .want = FAULT_(V(13) | V(6) | V(14)), .alt = OK_, .check = check_vmcall)
ROW(vmmcall, .fn = "VmmcallSite",
    .what = "vmmcall at CPL3 (AMD: rax = -EPERM; Intel #UD, or #PF where KVM may patch it); "
            "code never patched",
    .want = OK_, .alt = FAULT_(V(6) | V(13) | V(14)), .check = check_vmmcall)
ROW(alignment_check, .fn = "AlignmentCheck",
    .what = "RFLAGS.AC + misaligned load (PVM #AC; arch: nothing, CR0.AM clear)",
    .want = FAULT_(V(17)), .alt = OK_)
ROW(mov_ds_tss_rpl3, .fn = "MovDsTss",
    .what = "mov 0x2b to %ds (PVM: the host's user data selector; arch #GP)", .want = OK_,
    .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(mov_ds_tss_rpl0, .fn = "MovDsTss28",
    .what = "mov the TSS selector 0x28 to %ds (PVM: host GDT slot 5; arch #GP)", .want = OK_,
    .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(mov_gs_tss_rpl3, .fn = "MovGsTss", .what = "mov 0x2b to %gs (as above)", .want = OK_,
    .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(mov_fs_user_data, .fn = "MovFsUserData",
    .what = "mov 0x2b to %fs (PVM: accepted; arch #GP, no such descriptor)", .want = OK_,
    .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(mov_es_user_data, .fn = "MovEsUserData", .what = "mov 0x2b to %es (as above)", .want = OK_,
    .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(wrfsbase, .fn = "FsBaseSwap", A_U64(0x1234),
    .what = "wrfsbase (PVM allows it; arch #UD, CR4.FSGSBASE clear)", .want = OK_,
    .alt = FAULT_(V(6)), .check_ret = true, .ret = 0, .check = check_fs_base)
ROW(wrgsbase, .fn = "GsBaseSwap", A_U64(0x1234), .what = "wrgsbase (as above)", .want = OK_,
    .alt = FAULT_(V(6)), .check_ret = true, .ret = 0, .check = check_gs_base)

/* Stack and exception path: faults with a hostile rsp are still delivered (IST1). */
ROW(rsp_into_guard_push, .fn = "RspIntoGuardPush", .what = "push with rsp at the stack guard",
    .want = FAULT_(V(14)))
ROW(rsp_exception_stack_push, .fn = "RspExceptionStackPush",
    .what = "push with rsp in the exception stack", .want = FAULT_(V(14)), .check_addr = true,
    .addr = GLINT_ABI_XSTACK_ADDR + GLINT_ABI_XSTACK_SIZE - 8)
ROW(rsp_non_canonical_push, .fn = "RspNonCanonicalPush", .what = "push with a non-canonical rsp",
    .want = FAULT_(V(12)))
ROW(rsp_unmapped_then_ud2, .fn = "RspUnmappedThenUd2",
    .what = "fault with rsp in an unmapped guard (no frame room on the user stack)",
    .want = FAULT_(V(6)))
ROW(rsp_zero_then_page_fault, .fn = "RspZeroThenPageFault",
    .what = "rsp 0, then a #PF (would be #DF without IST)", .want = FAULT_(V(14)),
    .alt = {.set = true, .err = GLINT_EFAULT, .kind = GLINT_FAIL_TRIPLE_FAULT, .poisoned = true})
ROW(rsp_page_tables_then_int3, .fn = "RspPageTablesThenInt3",
    .what = "rsp in the page tables, then int3", .want = FAULT_(V(3) | V(13)))
ROW(rsp_non_canonical_then_ud2, .fn = "RspNonCanonicalThenUd2",
    .what = "non-canonical rsp, then #UD", .want = FAULT_(V(6)))
ROW(stack_overflow, .fn = "StackOverflow", .what = "unbounded recursion", .want = FAULT_(V(14)))

/* Heap. */
ROW(heap_exhaustion, .fn = "HeapExhaust", .what = "malloc until NULL, absurd sizes", .want = OK_)
ROW(heap_double_free, .fn = "HeapDoubleFree", .what = "double free",
    .want = ABORT_("heap corruption"), .check_code = true, .code = -2)
ROW(heap_free_wild, .fn = "HeapFreeWild", .what = "free of a pointer malloc never returned",
    .want = ABORT_("pointer not from malloc"), .check_code = true, .code = -2)
ROW(heap_overflow_then_free, .fn = "HeapOverflowThenFree", .what = "heap overflow, then free",
    .want = ABORT_("heap corruption"), .check_code = true, .code = -2)

/* Spinning. */
ROW(spin_timeout, .fn = "Spin", .what = "spin forever, 100 ms timeout", .want = TIMEOUT_,
    .timeout_ms = 100, .min_ms = 90, .max_ms = 1500)
ROW(spin_pause_timeout, .fn = "SpinPause", .what = "spin with pause, 100 ms timeout",
    .want = TIMEOUT_, .timeout_ms = 100, .min_ms = 90, .max_ms = 1500)
ROW(spin_no_timeout_interrupted, .fn = "Spin",
    .what = "spin forever without timeout, interrupted after 50 ms", .want = INTR_,
    .timeout_ms = NO_TIMEOUT, .interrupt_ms = 50, .min_ms = 40, .max_ms = 1500)

/* ---- summary --------------------------------------------------------------------------------- */

Test(hostile, summary)
{
    size_t faults = 0, proto = 0, other = 0;
    for (size_t i = 0; i < nrows; i++) {
        glint_failure_kind k = all_rows[i]->want.kind;
        faults += k == GLINT_FAIL_FAULT;
        proto += k == GLINT_FAIL_PROTOCOL;
        other += k != GLINT_FAIL_FAULT && k != GLINT_FAIL_PROTOCOL;
    }
    printf("hostile-guest suite: %zu behaviours covered (%zu CPU faults, %zu protocol "
           "violations, %zu aborts/errors/timeouts/successes), plus the entry-state hygiene "
           "test\n",
           nrows, faults, proto, other);
    const char *list = getenv("HOSTILE_LIST");
    for (size_t i = 0; list && strcmp(list, "1") == 0 && i < nrows; i++)
        printf("  %-36s %-28s %s\n", all_rows[i]->id, all_rows[i]->fn, all_rows[i]->what);
    fflush(stdout);
    cr_assert_geq(nrows, 50, "only %zu hostile behaviours", nrows);
    for (size_t i = 0; i < nrows; i++)
        for (size_t j = i + 1; j < nrows; j++)
            cr_assert_str_neq(all_rows[i]->id, all_rows[j]->id);
}

/* ---- what the guest sees at entry
 * ---------------------------------------------------------------- */

static bool host_user_ptr(uint64_t v)
{
    return (v >> 40) == 0x7f;
}

static void vendor(const uint32_t r[4], uint32_t a, uint32_t b, uint32_t c, char out[13])
{
    memcpy(out, &r[a], 4);
    memcpy(out + 4, &r[b], 4);
    memcpy(out + 8, &r[c], 4);
    out[12] = 0;
    for (int i = 0; i < 12; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
            out[i] = '.';
}

Test(hostile, entry_state_hygiene)
{
    vm_require_kvm();
    vm_capture_init(&cap);
    glint_host_fns *fns = image_fns();
    glint_image *img = vm_load_test("hostile", NULL, fns);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    struct entry_dump d;
    vm_watchdog_start(WATCHDOG_MS, "DumpEntryState");
    get_dump(sb, &d, "new sandbox");
    vm_watchdog_stop();

    char line[512];
    int k = 0;
    for (int i = 0; i < 16; i++)
        k += snprintf(line + k, sizeof line - (size_t)k, "%s=%" PRIx64 "%s", gpr_names[i], d.gpr[i],
                      i % 4 == 3 ? "\n    " : " ");
    printf("entry state seen by the guest (fresh sandbox, first call):\n    %s", line);
    printf("rflags=%" PRIx64 " cs=%#x ss=%#x ds=%#x es=%#x fs=%#x gs=%#x mxcsr=%#x fcw=%#x\n",
           d.rflags, d.sel[0], d.sel[1], d.sel[2], d.sel[3], d.sel[4], d.sel[5], d.mxcsr, d.fcw);
    int nz_xmm = 0;
    for (int i = 0; i < 16; i++)
        nz_xmm += d.xmm[i][0] || d.xmm[i][1];
    printf("    xmm registers non-zero: %d of 16\n", nz_xmm);
    static const uint32_t leaves[7] = {0, 1, 7, 0x80000000u, 0x80000001u, 0x40000000u, 0x40000001u};
    for (int i = 0; i < 7; i++)
        printf("    cpuid %#010x: eax=%08x ebx=%08x ecx=%08x edx=%08x\n", leaves[i], d.cpuid[i][0],
               d.cpuid[i][1], d.cpuid[i][2], d.cpuid[i][3]);
    char v0[13], vh[13];
    vendor(d.cpuid[0], 1, 3, 2, v0);
    vendor(d.cpuid[5], 1, 2, 3, vh);
    bool vmx = d.cpuid[1][2] & (1u << 5), svm = d.cpuid[4][2] & (1u << 2);
    bool hv = d.cpuid[1][2] & (1u << 31);
    printf("    vendor '%s', hypervisor bit %d, hypervisor leaf '%s', VMX %d, SVM %d\n", v0, hv, vh,
           vmx, svm);
    printf("    memory scan: %" PRIu64 " pages, %" PRIu64 " qwords: %" PRIu64
           " host-user-looking (0x7f..), %" PRIu64 " kernel-looking values\n",
           d.pages_scanned, d.words_scanned, d.user_ptr_count, d.kernel_ptr_count);
    for (uint64_t i = 0; i < d.user_ptr_count && i < DUMP_HITS; i++)
        printf("      user-looking 0x%016" PRIx64 " at 0x%" PRIx64 "\n", d.user_hits[i].value,
               d.user_hits[i].addr);
    for (uint64_t i = 0; i < d.kernel_ptr_count && i < DUMP_HITS; i++)
        printf("      kernel-looking 0x%016" PRIx64 " at 0x%" PRIx64 "\n", d.kernel_hits[i].value,
               d.kernel_hits[i].addr);
    printf("    heap: %" PRIu64 " non-zero bytes of %" PRIu64 " (first at +%" PRId64
           ", last at +%" PRId64 ")\n",
           d.heap_nonzero, d.heap_size, (int64_t)d.heap_first_nz, (int64_t)d.heap_last_nz);
    printf("    non-zero bytes: input after CALL %" PRIu64 ", output after message %" PRIu64
           ", stack below rsp-4K %" PRIu64 ", boot page after boot info %" PRIu64 "\n",
           d.input_nonzero_after_msg, d.output_nonzero_after_msg, d.stack_nonzero_below,
           d.boot_nonzero_after);
    printf("    (VMX/SVM in the CPUID table glint gives KVM: not observable from the guest on PVM, "
           "not asserted here)\n");
    if (vmx || svm)
        printf("    NOTE: %s visible to CPL3 cpuid: documented PVM limit (cpuid at CPL3 returns "
               "the host's CPUID; glint removes VMX/SVM from the table given to KVM, which the "
               "guest cannot observe here). The features stay unusable without CPL0.\n",
               vmx ? "VMX" : "SVM");
    fflush(stdout);

    /* No host pointers anywhere the guest can read, registers included. */
    for (int i = 0; i < 16; i++)
        cr_assert(!host_user_ptr(d.gpr[i]), "%s = 0x%" PRIx64 " looks like a host pointer",
                  gpr_names[i], d.gpr[i]);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 2; j++)
            cr_assert(!host_user_ptr(d.xmm[i][j]), "xmm%d looks like a host pointer", i);
    cr_assert_eq(d.user_ptr_count, 0, "host-pointer-looking value 0x%" PRIx64 " at 0x%" PRIx64,
                 d.user_hits[0].value, d.user_hits[0].addr);
    cr_assert_eq(d.kernel_ptr_count, 0, "kernel-pointer-looking value 0x%" PRIx64 " at 0x%" PRIx64,
                 d.kernel_hits[0].value, d.kernel_hits[0].addr);
    /* Registers point only into guest memory. */
    for (int i = 0; i < 16; i++)
        cr_assert(d.gpr[i] < 0x100000000ull || d.gpr[i] > 0xffff000000000000ull,
                  "%s = 0x%" PRIx64 " outside guest memory", gpr_names[i], d.gpr[i]);
    /* CPL3, interrupts off, no IOPL, no TF/AC. */
    cr_assert_eq(d.sel[0] & 3, 3, "CS RPL %u", d.sel[0] & 3);
    cr_assert_eq(d.sel[1] & 3, 3, "SS RPL %u", d.sel[1] & 3);
    cr_assert_eq(d.rflags & 0x3000, 0, "IOPL %u", (unsigned)(d.rflags >> 12) & 3);
    cr_assert_eq(d.rflags & (0x100 | 0x40000), 0, "TF or AC set: 0x%" PRIx64, d.rflags);
    cr_assert_eq(d.mxcsr & 0xffc0, 0x1f80, "MXCSR 0x%x", d.mxcsr);
    /* Nothing but the allocator's own bookkeeping in the heap at init (first/last 64 bytes). */
    cr_assert(d.heap_nonzero <= 128, "%" PRIu64 " non-zero heap bytes", d.heap_nonzero);
    if (d.heap_nonzero) {
        cr_assert_lt(d.heap_first_nz, 64);
        cr_assert_geq(d.heap_last_nz, d.heap_size - 64);
    }
    /* Buffers hold exactly the current messages, the boot page exactly the boot info. */
    cr_assert_eq(d.input_nonzero_after_msg, 0, "stale bytes in the input buffer");
    cr_assert_eq(d.output_nonzero_after_msg, 0, "stale bytes in the output buffer");
    cr_assert_eq(d.boot_nonzero_after, 0, "stale bytes in the boot page");

    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

/* What sgdt/sidt/str/sldt/smsw reveal at CPL3 (no CR4.UMIP in glint's CR4). */
Test(hostile, descriptor_table_registers)
{
    vm_require_kvm();
    vm_capture_init(&cap);
    glint_host_fns *fns = image_fns();
    glint_image *img = vm_load_test("hostile", NULL, fns);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value r;
    int rc = glint_sandbox_call(sb, "DescriptorTables", NULL, 0, &r);
    glint_failure f;
    glint_sandbox_last_failure(sb, &f);
    if (rc == 0) {
        uint8_t b[48];
        cr_assert_eq(r.as.bytes.len, sizeof b);
        memcpy(b, r.as.bytes.ptr, sizeof b);
        uint16_t gl, il, ldt, tr, msw;
        uint64_t gb, ib;
        memcpy(&gl, b, 2);
        memcpy(&gb, b + 2, 8);
        memcpy(&il, b + 16, 2);
        memcpy(&ib, b + 18, 8);
        memcpy(&ldt, b + 32, 2);
        memcpy(&tr, b + 34, 2);
        memcpy(&msw, b + 36, 2);
        printf("CPL3 sees: gdtr %#" PRIx64 "/%#x idtr %#" PRIx64 "/%#x ldtr %#x tr %#x msw %#x\n",
               gb, gl, ib, il, ldt, tr, msw);
        fflush(stdout);
        bool guest_tables = gb == GLINT_ABI_GDT_ADDR && ib == GLINT_ABI_IDT_ADDR;
        if (!guest_tables)
            cr_log_warn("sgdt/sidt at CPL3 return 0x%" PRIx64 "/0x%" PRIx64
                        ", not glint's tables (hypervisor's or host's values)",
                        gb, ib);
        cr_assert(!host_user_ptr(gb) && !host_user_ptr(ib));
    } else {
        printf("CPL3 sgdt/sidt: %s (%s)\n", glint_strerror(rc), f.message);
        fflush(stdout);
        cr_assert_eq(rc, GLINT_EFAULT, "%s", f.message);
    }
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}
