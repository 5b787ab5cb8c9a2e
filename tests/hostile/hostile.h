/* The hostile-guest suite's row type and the checks every row makes (tests/hostile/runner.c). */
#ifndef GLINT_TESTS_HOSTILE_H
#define GLINT_TESTS_HOSTILE_H

#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdint.h>

#include "glint.h"
#include "glint/abi.h"
#include "helpers.h"
#include "integrity.h"

/*
 * Every row names one export of tests/guests/hostile.c (one hostile behaviour), its arguments
 * and the outcome the host must produce: error code, failure kind, vector or message, and
 * whether the sandbox is poisoned. A row is named after the property it proves and runs as its
 * own Criterion test in its family's suite (hostile_results, hostile_exits,
 * hostile_instructions, hostile_memory, hostile_hostcalls). For every row, run_row():
 *
 *   1. loads the image, creates an untouched bystander sandbox, then a fresh sandbox;
 *   2. makes the hostile call (2 s timeout unless the row says otherwise) under a watchdog,
 *      with the result initialised to a sentinel;
 *   3. checks the outcome; on failure the sentinel must be untouched (no fabricated result);
 *   4. checks poisoning; a poisoned sandbox answers EPOISONED, then glint_sandbox_restore()
 *      must make it indistinguishable from a new sandbox (registers at function entry and
 *      memory statistics, via DumpEntryState) and answer a benign call correctly; a sandbox
 *      that is not poisoned answers the benign call directly, and again after a restore;
 *   5. the bystander and a brand new sandbox still answer correctly, no descriptor leaked;
 *   6. throughout (after the hostile call, after restore, in the bystander) every code and
 *      system page of guest memory is byte-identical to the image's
 *      (tests/whitebox/integrity.h).
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
    const char *family; /* suite: hostile_<family> */
    const char *id;     /* test name: the property the row proves */
    const char *fn;     /* guest export */
    const char *what;   /* the behaviour, for the summary */
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

/* Record a row for the summary (called by the constructor ROW generates). */
void hostile_add_row(const struct row *r);

/* Run one row: steps 1 to 6 above. */
void hostile_run_row(const struct row *row);

/* Suite teardown: stops a watchdog a failed row left running. */
void hostile_fini(void);

/*
 * ROW(id, fields...): one row of the including file's family (HOSTILE_FAMILY, defined before
 * the first row), registered for the summary and run as Test(hostile_<family>, id).
 */
#define ROW(id_, ...)                   HOSTILE_ROW_(HOSTILE_FAMILY, id_, __VA_ARGS__)
#define HOSTILE_ROW_(family_, id_, ...) HOSTILE_ROW__(family_, id_, __VA_ARGS__)
#define HOSTILE_ROW__(family_, id_, ...)                                                           \
    static const struct row row_##id_ = {.family = #family_, .id = #id_, __VA_ARGS__};             \
    __attribute__((constructor)) static void register_##id_(void)                                  \
    {                                                                                              \
        hostile_add_row(&row_##id_);                                                               \
    }                                                                                              \
    Test(hostile_##family_, id_)                                                                   \
    {                                                                                              \
        hostile_run_row(&row_##id_);                                                               \
    }

/* ---- host side shared with the rows' extra checks ------------------------------------------ */

/* Guest prints of the running row (the image's host functions print into it). */
extern struct vm_capture hostile_cap;

/* What the Reenter host function saw: its calls into the calling sandbox `sb` and the `peer`. */
struct hostile_reentry {
    glint_sandbox *sb, *peer;
    int call_rc, restore_rc, snapshot_rc, peer_rc;
    int32_t peer_ret;
};
extern struct hostile_reentry hostile_reentry;

/* The image's host functions: vm_host_fns() plus HostBig(u32) -> string and Reenter(i32) -> i32,
 * print into hostile_cap. Asserts success; destroy with glint_host_fns_destroy. */
glint_host_fns *hostile_image_fns(void);

/* Print a note in the test output (Criterion hides cr_log_info by default). */
void hostile_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Call fn, assert success, return the result's 64 bits. */
int64_t hostile_call_i64(glint_sandbox *s, const char *fn, const glint_value *args, size_t n);

/* True if s is printable ASCII only. */
bool hostile_printable(const char *s);

/* True if v looks like a host user-space pointer (0x7f...). */
bool hostile_host_user_ptr(uint64_t v);

/* ---- what the guest sees at function entry (DumpEntryState) -------------------------------- */

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

extern const char *const hostile_gpr_names[16];

/* The entry state the guest reports from a call of DumpEntryState; asserts success. */
void hostile_get_dump(glint_sandbox *s, struct entry_dump *d, const char *who);

#endif
