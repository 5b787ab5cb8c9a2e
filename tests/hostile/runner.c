/* The hostile suite's row runner: the checks every row makes, the host functions, the summary. */
#include "hostile.h"

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- registry of rows (filled by constructors, for the summary) ---------------------------- */

static const struct row *all_rows[512];
static size_t nrows;

void hostile_add_row(const struct row *r)
{
    if (nrows < sizeof all_rows / sizeof all_rows[0])
        all_rows[nrows++] = r;
}

/* ---- host side: registry, print capture, reentry ------------------------------------------- */

struct vm_capture hostile_cap;
struct hostile_reentry hostile_reentry;

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
        hostile_reentry.peer_rc = glint_sandbox_call(hostile_reentry.peer, "Benign", &a, 1, &r);
        ret->as.i32 = hostile_reentry.peer_rc ? hostile_reentry.peer_rc : (int32_t)r.as.i64;
        return 0;
    case 1:
    case 3: {
        hostile_reentry.call_rc = glint_sandbox_call(hostile_reentry.sb, "Benign", &a, 1, &r);
        hostile_reentry.restore_rc = glint_sandbox_restore(hostile_reentry.sb, NULL);
        glint_snapshot *snap = NULL;
        hostile_reentry.snapshot_rc = glint_sandbox_snapshot(hostile_reentry.sb, &snap);
        glint_snapshot_destroy(snap);
        ret->as.i32 = hostile_reentry.call_rc;
        return 0;
    }
    case 2: {
        glint_value m = glint_i32(3);
        hostile_reentry.peer_rc =
            glint_sandbox_call(hostile_reentry.peer, "CallReenter", &m, 1, &r);
        hostile_reentry.peer_ret = r.as.i32;
        ret->as.i32 = hostile_reentry.peer_rc ? hostile_reentry.peer_rc : r.as.i32;
        return 0;
    }
    default:
        return -1;
    }
}

glint_host_fns *hostile_image_fns(void)
{
    glint_host_fns *fns = vm_host_fns(&hostile_cap);
    static const glint_type u[] = {GLINT_U32}, i[] = {GLINT_I32};
    cr_assert_eq(glint_host_fns_add(fns, "HostBig", GLINT_STRING, u, 1, host_big, NULL), 0);
    cr_assert_eq(glint_host_fns_add(fns, "Reenter", GLINT_I32, i, 1, host_reenter, NULL), 0);
    return fns;
}

static glint_host_fns *print_only_fns(void)
{
    glint_host_fns *fns = NULL;
    cr_assert_eq(glint_host_fns_create(&fns), 0);
    cr_assert_eq(glint_host_fns_set_print(fns, vm_capture_print, &hostile_cap), 0);
    return fns;
}

/* Print a note in the test output (Criterion hides cr_log_info by default). */
void hostile_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("hostile: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

/* ---- helpers ------------------------------------------------------------------------------- */

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

bool hostile_host_user_ptr(uint64_t v)
{
    return (v >> 40) == 0x7f;
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

int64_t hostile_call_i64(glint_sandbox *s, const char *fn, const glint_value *args, size_t n)
{
    glint_value r;
    int rc = glint_sandbox_call(s, fn, args, n, &r);
    cr_assert_eq(rc, 0, "%s: %s (%s)", fn, glint_strerror(rc), glint_errmsg());
    return r.as.i64;
}

bool hostile_printable(const char *s)
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

const char *const hostile_gpr_names[16] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
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

void hostile_get_dump(glint_sandbox *s, struct entry_dump *d, const char *who)
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
    hostile_get_dump(fresh, &ref, "new sandbox");
    glint_sandbox_destroy(fresh);
    hostile_get_dump(s, &got, who);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(got.gpr[i], ref.gpr[i],
                     "%s: %s = 0x%" PRIx64 " at entry, a new sandbox has 0x%" PRIx64, who,
                     hostile_gpr_names[i], got.gpr[i], ref.gpr[i]);
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

/* ---- the row runner ------------------------------------------------------------------------ */

void hostile_run_row(const struct row *row)
{
    vm_require_kvm();
    vm_capture_init(&hostile_cap);
    glint_host_fns *fns = hostile_image_fns();
    glint_host_fns *print_only = print_only_fns();
    struct run r = {.row = row};
    r.img = vm_load_test("hostile", NULL, fns);
    int fds0 = count_fds();

    r.bystander = vm_sandbox(r.img, NULL);
    r.sb = vm_sandbox(r.img, row->fns == FNS_PRINT_ONLY ? print_only : NULL);
    if (row->peer)
        r.peer = vm_sandbox(r.img, NULL);
    hostile_reentry.sb = r.sb;
    hostile_reentry.peer = r.peer;
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
        cr_assert(hostile_printable(r.f.message), "%s: unsanitised message '%s'", row->id,
                  r.f.message);
    if (row->min_ms)
        cr_assert(r.ms >= row->min_ms, "%s: returned after %.1f ms (< %.0f)", row->id, r.ms,
                  row->min_ms);
    if (row->max_ms)
        cr_assert(r.ms <= row->max_ms, "%s: took %.1f ms (> %.0f)", row->id, r.ms, row->max_ms);
    cr_assert_eq(glint_sandbox_poisoned(r.sb), m->poisoned, "%s: poisoned %d, expected %d", row->id,
                 glint_sandbox_poisoned(r.sb), m->poisoned);
    if (m != &row->want)
        hostile_note("%s: alternative outcome %s/%s (vector %u)", row->id, glint_strerror(r.rc),
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

void hostile_fini(void)
{
    vm_watchdog_stop();
}
/* ---- summary: how many behaviours the families cover -------------------------------------- */

TestSuite(hostile_table);

Test(hostile_table, rows_are_many_and_uniquely_named)
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
        printf("  hostile_%s/%-56s %-28s %s\n", all_rows[i]->family, all_rows[i]->id,
               all_rows[i]->fn, all_rows[i]->what);
    fflush(stdout);
    cr_assert_geq(nrows, 50, "only %zu hostile behaviours", nrows);
    for (size_t i = 0; i < nrows; i++)
        for (size_t j = i + 1; j < nrows; j++)
            cr_assert(strcmp(all_rows[i]->family, all_rows[j]->family) != 0 ||
                          strcmp(all_rows[i]->id, all_rows[j]->id) != 0,
                      "two rows named hostile_%s/%s", all_rows[i]->family, all_rows[i]->id);
}
