/* glint host<->guest ABI: memory map, ports, call encoding; freestanding, shared by both sides. */
#ifndef GLINT_ABI_H
#define GLINT_ABI_H

#include <stddef.h>
#include <stdint.h>

/*
 * GLINT_ABI_VERSION is carried by every guest in an ELF note and checked by
 * the host before anything is loaded.
 * Bump rule: any change to a layout, field offset, address, port, type code,
 * message kind or encoding rule in this file bumps the version (the
 * sizeof/offsetof asserts below fail on an accidental layout change); the
 * host accepts exactly its own version. Comments and new names for the same
 * bytes do not bump it. A new region or a new initial register value that a
 * guest may rely on (version 2: the TLS page and FS.base) also bumps it, so a
 * guest that relies on it is refused by an older host instead of faulting.
 *
 * History: 1 = the first ABI; 2 = the TLS page at GLINT_ABI_TLS_ADDR with a
 * glibc-shaped TCB, FS.base pointing at it.
 */
#define GLINT_ABI_VERSION 2u

/*
 * Direction of every field, written next to it:
 *   IN   host -> guest: written by the host, read (and trusted) by the guest;
 *   OUT  guest -> host: written by the guest or its build, read by the host,
 *        which validates it as hostile input;
 *   IN/OUT  written by whichever side sends the message (see its kind).
 */

/* ---- ELF note ---------------------------------------------------------- */

#define GLINT_ABI_NOTE_NAME "glint"     /* n_name, NUL included: namesz 6 */
#define GLINT_ABI_NOTE_TYPE 0x676c6e31u /* "gln1" */

/* The note descriptor: OUT, written by the guest build; the host reads it
 * from the file, never from guest memory. */
struct glint_abi_note {
    uint32_t abi_version;  /* OUT: GLINT_ABI_VERSION the guest was built for */
    uint32_t export_size;  /* OUT: sizeof(struct glint_abi_export) */
    uint64_t exports_addr; /* OUT: guest address of the first export record */
    uint64_t exports_end;  /* OUT: guest address one past the last record */
};
_Static_assert(sizeof(struct glint_abi_note) == 24, "note size");
_Static_assert(offsetof(struct glint_abi_note, abi_version) == 0, "note.abi_version");
_Static_assert(offsetof(struct glint_abi_note, export_size) == 4, "note.export_size");
_Static_assert(offsetof(struct glint_abi_note, exports_addr) == 8, "note.exports_addr");
_Static_assert(offsetof(struct glint_abi_note, exports_end) == 16, "note.exports_end");

/*
 * The defaults note (optional, at most one; name GLINT_ABI_NOTE_NAME, type
 * GLINT_ABI_NOTE_DEFAULTS_TYPE): OUT, written by the guest build
 * (GLINT_GUEST_DEFAULTS in guest.h), read by the host from the file and
 * validated as hostile input. Sizes the guest needs by default: a size the
 * caller's config leaves 0 takes the guest's value, else glint's default.
 * Each size is 0 (no preference) or a multiple of GLINT_ABI_PAGE_SIZE in the
 * config field's range (GLINT_*_SIZE_MIN..MAX in glint.h). Added without a
 * version bump: an older host ignores notes of other types, and a guest
 * without the note is as before.
 */
#define GLINT_ABI_NOTE_DEFAULTS_TYPE 0x676c6e32u /* "gln2" */
/* flags: the guest enforces glint_abi_boot.budget (the host refuses a budget
 * for a guest without it rather than ignore it silently). */
#define GLINT_ABI_DEFAULTS_BUDGET 1u
#define GLINT_ABI_DEFAULTS_FLAGS  GLINT_ABI_DEFAULTS_BUDGET /* every defined flag */
struct glint_abi_defaults {
    uint64_t heap_size;   /* OUT: 0 or bytes */
    uint64_t stack_size;  /* OUT: 0 or bytes */
    uint64_t input_size;  /* OUT: 0 or bytes */
    uint64_t output_size; /* OUT: 0 or bytes */
    uint32_t flags;       /* OUT: GLINT_ABI_DEFAULTS_* */
    uint32_t reserved;    /* OUT: zero */
};
_Static_assert(sizeof(struct glint_abi_defaults) == 40, "defaults size");
_Static_assert(offsetof(struct glint_abi_defaults, heap_size) == 0, "defaults.heap_size");
_Static_assert(offsetof(struct glint_abi_defaults, stack_size) == 8, "defaults.stack_size");
_Static_assert(offsetof(struct glint_abi_defaults, input_size) == 16, "defaults.input_size");
_Static_assert(offsetof(struct glint_abi_defaults, output_size) == 24, "defaults.output_size");
_Static_assert(offsetof(struct glint_abi_defaults, flags) == 32, "defaults.flags");
_Static_assert(offsetof(struct glint_abi_defaults, reserved) == 36, "defaults.reserved");

/*
 * The features note (optional, at most one; name GLINT_ABI_NOTE_NAME, type
 * GLINT_ABI_NOTE_FEATURES_TYPE): OUT, written by the guest runtime's build
 * (guest/runtime.c emits it in every guest), read by the host from the file
 * and validated as hostile input: what the guest's runtime can do beyond the
 * base protocol. Added without a version bump: an older host ignores it, and
 * a guest without it (built with an older runtime) is refused hot mode with a
 * reason instead of being hung by it.
 */
#define GLINT_ABI_NOTE_FEATURES_TYPE 0x676c6e33u /* "gln3" */
/* flags: the guest serves calls through the hot mailbox (GLINT_ABI_HOT_ADDR). */
#define GLINT_ABI_FEATURE_HOT   1u
#define GLINT_ABI_FEATURE_FLAGS GLINT_ABI_FEATURE_HOT /* every defined flag */
struct glint_abi_features {
    uint32_t flags;    /* OUT: GLINT_ABI_FEATURE_* */
    uint32_t reserved; /* OUT: zero */
};
_Static_assert(sizeof(struct glint_abi_features) == 8, "features size");
_Static_assert(offsetof(struct glint_abi_features, flags) == 0, "features.flags");
_Static_assert(offsetof(struct glint_abi_features, reserved) == 4, "features.reserved");

/* ---- guest memory map (guest physical == guest virtual) ---------------- */

#define GLINT_ABI_PAGE_SIZE      0x1000u
#define GLINT_ABI_NULL_GUARD_END 0x10000u /* [0, 64 KiB) is never mapped */
#define GLINT_ABI_BOOT_ADDR      0x10000u /* boot info, user read-only */
#define GLINT_ABI_GDT_ADDR       0x11000u /* supervisor read-only */
#define GLINT_ABI_IDT_ADDR       0x12000u /* supervisor read-only */
#define GLINT_ABI_TSS_ADDR       0x13000u /* supervisor read-only */
#define GLINT_ABI_STUBS_ADDR     0x14000u /* exception stubs, supervisor RX */
/* 0x15000 guard (not present) */
#define GLINT_ABI_XSTACK_ADDR 0x16000u /* exception stack, supervisor RW */
#define GLINT_ABI_XSTACK_SIZE 0x2000u
/* 0x18000 guard (not present) */
#define GLINT_ABI_PT_ADDR 0x19000u /* page tables: never mapped */
/*
 * The TLS page: user RW, never executable. The host writes a glibc-shaped
 * thread control block at its start before the guest runs and sets FS.base to
 * GLINT_ABI_TLS_ADDR in the vCPU's initial state (never wrfsbase, which
 * hardware KVM refuses at CPL3 while CR4.FSGSBASE is clear), so that code built
 * with -fstack-protector (Debian's archives are) finds its canary at %fs:0x28.
 * It lies above the largest page-table area (GLINT_ABI_MEMORY_LIMIT) and below
 * the image, with unmapped pages on both sides. The rest of the page is
 * zero and the guest's to use.
 */
#define GLINT_ABI_TLS_ADDR 0x1fe000u

/*
 * The hot mailbox page (docs/abi.md, "Hot mode"): user RW, never executable,
 * right above the largest page-table area, with an unmapped page between it
 * and the TLS page. Zero (hot mode off) unless the host turned hot mode on;
 * the guest finds it through glint_abi_boot.hot_addr (0 from an older host:
 * then the guest never touches it). Authoritative state is the host's own:
 * the host treats everything the guest can write here as hostile input.
 */
#define GLINT_ABI_HOT_ADDR  0x1fc000u
#define GLINT_ABI_HOT_MAGIC 0x746f6867u /* "ghot" */
/* flags: park right after publishing each result (isolated calls: the host
 * then restores the sandbox before the next request). */
#define GLINT_ABI_HOT_PARK_AFTER_RESULT 1u
struct glint_abi_hot {
    uint32_t magic;      /* IN: GLINT_ABI_HOT_MAGIC while hot mode is on; else 0 (the guest
                            then parks, and a resumed guest serves exit-mode calls) */
    uint32_t flags;      /* IN: GLINT_ABI_HOT_* */
    uint64_t window_tsc; /* IN: spin at most this many TSC ticks without a request, then park
                            (`out` on GLINT_ABI_PORT_DONE); 0: park right after each result */
    uint64_t req_seq;    /* IN: sequence number of the newest request; the CALL message is in
                            the input buffer before it changes (release order) */
    uint64_t call_seq;   /* IN: for each exit-mode call (with the CALL in the input buffer) the
                            host writes call_seen + 1: a guest resumed at an `out` with hot
                            mode off runs a call only if call_seq != call_seen, else it parks
                            again */
    uint8_t pad0[32];    /* IN: zero; IN fields and the OUT field lie on separate cache lines */
    uint64_t done_seq;   /* OUT: req_seq of the request whose RESULT is in the output buffer
                            (written after the result, release order); the host sets it equal
                            to req_seq while the guest is stopped when it arms hot mode */
    uint64_t call_seen;  /* OUT: the call_seq of the last exit-mode call the guest took (it
                            lives here, not in a register, so that the page alone holds the
                            state: an image that drops the page keeps both zero) */
    uint8_t pad1[48];    /* OUT: zero */
};
_Static_assert(sizeof(struct glint_abi_hot) == 128, "hot size");
_Static_assert(offsetof(struct glint_abi_hot, magic) == 0, "hot.magic");
_Static_assert(offsetof(struct glint_abi_hot, flags) == 4, "hot.flags");
_Static_assert(offsetof(struct glint_abi_hot, window_tsc) == 8, "hot.window_tsc");
_Static_assert(offsetof(struct glint_abi_hot, req_seq) == 16, "hot.req_seq");
_Static_assert(offsetof(struct glint_abi_hot, call_seq) == 24, "hot.call_seq");
_Static_assert(offsetof(struct glint_abi_hot, done_seq) == 64, "hot.done_seq");
_Static_assert(offsetof(struct glint_abi_hot, call_seen) == 72, "hot.call_seen");
_Static_assert(GLINT_ABI_HOT_ADDR + 2 * GLINT_ABI_PAGE_SIZE == GLINT_ABI_TLS_ADDR,
               "one unmapped page between the hot mailbox and the TLS page");

/* The TCB at GLINT_ABI_TLS_ADDR: IN, written by the host at image load (then
 * the guest's, like any RW page). The offsets are glibc's x86-64 tcbhead_t. */
struct glint_abi_tcb {
    uint64_t self;          /* IN: GLINT_ABI_TLS_ADDR (%fs:0, glibc's tcb and self) */
    uint64_t reserved0[4];  /* IN: zero (glibc: dtv, self, multiple_threads, gscope) */
    uint64_t stack_guard;   /* IN: the canary (%fs:0x28): non-zero, low byte zero, from the seed */
    uint64_t pointer_guard; /* IN: glibc's pointer guard (%fs:0x30), from the seed */
};
_Static_assert(sizeof(struct glint_abi_tcb) == 56, "tcb size");
_Static_assert(offsetof(struct glint_abi_tcb, self) == 0, "tcb.self");
_Static_assert(offsetof(struct glint_abi_tcb, stack_guard) == 0x28, "tcb.stack_guard");
_Static_assert(offsetof(struct glint_abi_tcb, pointer_guard) == 0x30, "tcb.pointer_guard");

/* Guest ELF segments must lie in [IMAGE_BASE, IMAGE_LIMIT). */
#define GLINT_ABI_IMAGE_BASE  0x200000u
#define GLINT_ABI_IMAGE_LIMIT 0x10000000u /* 256 MiB */
/* Upper bound on all guest memory (page tables must fit below IMAGE_BASE). */
#define GLINT_ABI_MEMORY_LIMIT 0x3c000000u /* 960 MiB */
/* The largest page-table area (3 + one per 2 MiB) ends below the TLS page. */
_Static_assert(GLINT_ABI_PT_ADDR + (3u + GLINT_ABI_MEMORY_LIMIT / 0x200000u) * GLINT_ABI_PAGE_SIZE <
                   GLINT_ABI_TLS_ADDR,
               "page tables below the TLS page");
_Static_assert(GLINT_ABI_PT_ADDR +
                       (3u + GLINT_ABI_MEMORY_LIMIT / 0x200000u) * GLINT_ABI_PAGE_SIZE <=
                   GLINT_ABI_HOT_ADDR,
               "page tables below the hot mailbox");

/*
 * After the ELF image, page aligned, the host places in this order:
 *   heap | guard page (not present) | stack | input buffer | output buffer
 * and describes them in the boot info page.
 */
struct glint_abi_boot {
    uint32_t magic;       /* IN: GLINT_ABI_BOOT_MAGIC */
    uint32_t abi_version; /* IN: GLINT_ABI_VERSION of the host */
    uint64_t heap_addr;   /* IN: heap start, page aligned */
    uint64_t heap_size;   /* IN: heap bytes */
    uint64_t stack_addr;  /* IN: lowest stack address; the stack grows down from addr+size */
    uint64_t stack_size;  /* IN: stack bytes */
    uint64_t input_addr;  /* IN: input buffer (host -> guest messages) */
    uint64_t input_size;  /* IN: input buffer bytes */
    uint64_t output_addr; /* IN: output buffer (guest -> host messages and host replies) */
    uint64_t output_size; /* IN: output buffer bytes */
    uint64_t memory_size; /* IN: end of guest memory */
    uint64_t seed;        /* IN: random per image, for guest hash seeds */
    uint64_t budget;      /* IN: the running call's instruction budget, 0 = none;
                             written by the host before a call (only for a guest
                             whose defaults note sets GLINT_ABI_DEFAULTS_BUDGET;
                             else always 0). Units are the guest's (Lua: VM
                             instructions). Added at the end without a version
                             bump: an older host leaves it 0 (no budget). */
    uint64_t hot_addr;    /* IN: GLINT_ABI_HOT_ADDR, the hot mailbox; 0 from an older host
                             (no mailbox: the guest never looks for one). Added at the end
                             without a version bump, like budget. */
};
#define GLINT_ABI_BOOT_MAGIC 0x746e6c67u /* "glnt" */
_Static_assert(sizeof(struct glint_abi_boot) == 104, "boot size");
_Static_assert(offsetof(struct glint_abi_boot, magic) == 0, "boot.magic");
_Static_assert(offsetof(struct glint_abi_boot, abi_version) == 4, "boot.abi_version");
_Static_assert(offsetof(struct glint_abi_boot, heap_addr) == 8, "boot.heap_addr");
_Static_assert(offsetof(struct glint_abi_boot, heap_size) == 16, "boot.heap_size");
_Static_assert(offsetof(struct glint_abi_boot, stack_addr) == 24, "boot.stack_addr");
_Static_assert(offsetof(struct glint_abi_boot, stack_size) == 32, "boot.stack_size");
_Static_assert(offsetof(struct glint_abi_boot, input_addr) == 40, "boot.input_addr");
_Static_assert(offsetof(struct glint_abi_boot, input_size) == 48, "boot.input_size");
_Static_assert(offsetof(struct glint_abi_boot, output_addr) == 56, "boot.output_addr");
_Static_assert(offsetof(struct glint_abi_boot, output_size) == 64, "boot.output_size");
_Static_assert(offsetof(struct glint_abi_boot, memory_size) == 72, "boot.memory_size");
_Static_assert(offsetof(struct glint_abi_boot, seed) == 80, "boot.seed");
_Static_assert(offsetof(struct glint_abi_boot, budget) == 88, "boot.budget");
_Static_assert(offsetof(struct glint_abi_boot, hot_addr) == 96, "boot.hot_addr");

/* The ABORT code a guest sends when the call's budget is spent: the host
 * reports GLINT_FAIL_BUDGET / GLINT_EBUDGET instead of an abort. A guest can
 * only fail (and poison) its own call with it, as with any abort. */
#define GLINT_ABI_ABORT_BUDGET (-0x62756467) /* -"budg" */

/* ---- exits: `out %al, $port` from CPL3 ------------------------------------ */

/* The TSS I/O bitmap allows exactly these three ports to CPL3 code. */
#define GLINT_ABI_PORT_DONE     0xe0u /* init finished / call result ready */
#define GLINT_ABI_PORT_HOSTCALL 0xe1u /* host call request ready */
#define GLINT_ABI_PORT_ABORT    0xe2u /* abort message ready */
/* CPL0 exception stubs only (denied to CPL3): AL = vector. */
#define GLINT_ABI_PORT_FAULT 0xe3u

/* ---- value types ---------------------------------------------------------- */

enum glint_abi_type {
    GLINT_ABI_VOID = 0, /* return type only */
    GLINT_ABI_I32 = 1,
    GLINT_ABI_U32 = 2,
    GLINT_ABI_I64 = 3,
    GLINT_ABI_U64 = 4,
    GLINT_ABI_F32 = 5,
    GLINT_ABI_F64 = 6,
    GLINT_ABI_BOOL = 7,
    GLINT_ABI_STRING = 8, /* UTF-8, no NUL inside */
    GLINT_ABI_BYTES = 9,
};
#define GLINT_ABI_TYPE_MAX   9u
#define GLINT_ABI_MAX_PARAMS 16u
#define GLINT_ABI_NAME_MAX   64u /* bytes including the terminating NUL */

/* One exported guest function, in the guest's .glint_exports section: OUT,
 * written by the guest build; the host reads it from the file. */
struct glint_abi_export {
    char name[GLINT_ABI_NAME_MAX];        /* OUT: NUL-terminated, NUL-padded */
    uint64_t fn;                          /* OUT: guest entry (the host only checks it is code) */
    uint8_t ret_type;                     /* OUT: enum glint_abi_type */
    uint8_t nparams;                      /* OUT: <= GLINT_ABI_MAX_PARAMS */
    uint8_t params[GLINT_ABI_MAX_PARAMS]; /* OUT: types, zero beyond nparams */
    uint8_t reserved[6];                  /* OUT: zero */
};
_Static_assert(sizeof(struct glint_abi_export) == 96, "export size");
_Static_assert(offsetof(struct glint_abi_export, name) == 0, "export.name");
_Static_assert(offsetof(struct glint_abi_export, fn) == 64, "export.fn");
_Static_assert(offsetof(struct glint_abi_export, ret_type) == 72, "export.ret_type");
_Static_assert(offsetof(struct glint_abi_export, nparams) == 73, "export.nparams");
_Static_assert(offsetof(struct glint_abi_export, params) == 74, "export.params");
_Static_assert(offsetof(struct glint_abi_export, reserved) == 90, "export.reserved");

/* ---- messages in the shared buffers -------------------------------------- */
/*
 * A message is a header, then (HOSTCALL only) the NUL-terminated name padded
 * to 8 bytes, then `count` values. All integers little-endian. Every value is
 * an 8-byte value header and `len` payload bytes, padded with zeros to a
 * multiple of 8; a string's padding always holds at least one NUL.
 * Direction: CALL and HOSTRESULT are IN (host-written), RESULT, HOSTCALL and
 * ABORT are OUT (guest-written, decoded by the host as hostile); every field of
 * the header and of each value is written by the sender of the message.
 */
enum glint_abi_msg_kind {
    GLINT_ABI_MSG_CALL = 1,       /* host -> guest, input buffer */
    GLINT_ABI_MSG_RESULT = 2,     /* guest -> host, output buffer */
    GLINT_ABI_MSG_HOSTCALL = 3,   /* guest -> host, output buffer */
    GLINT_ABI_MSG_HOSTRESULT = 4, /* host -> guest, output buffer */
    GLINT_ABI_MSG_ABORT = 5,      /* guest -> host, output buffer */
};

struct glint_abi_msg {
    uint32_t size;     /* IN/OUT: total bytes, header included, multiple of 8 */
    uint8_t kind;      /* IN/OUT: enum glint_abi_msg_kind */
    uint8_t count;     /* IN/OUT: number of values that follow */
    uint8_t type;      /* IN/OUT: CALL (IN)/HOSTCALL (OUT): expected return type; else 0 */
    uint8_t reserved;  /* IN/OUT: zero */
    int32_t status;    /* IN/OUT: CALL: function index; RESULT/HOSTRESULT: 0 or error
                          code (then one STRING value: the message); ABORT: code */
    uint32_t name_len; /* IN/OUT: HOSTCALL (OUT): name length without NUL; else 0 */
};
_Static_assert(sizeof(struct glint_abi_msg) == 16, "msg size");
_Static_assert(offsetof(struct glint_abi_msg, size) == 0, "msg.size");
_Static_assert(offsetof(struct glint_abi_msg, kind) == 4, "msg.kind");
_Static_assert(offsetof(struct glint_abi_msg, count) == 5, "msg.count");
_Static_assert(offsetof(struct glint_abi_msg, type) == 6, "msg.type");
_Static_assert(offsetof(struct glint_abi_msg, reserved) == 7, "msg.reserved");
_Static_assert(offsetof(struct glint_abi_msg, status) == 8, "msg.status");
_Static_assert(offsetof(struct glint_abi_msg, name_len) == 12, "msg.name_len");

struct glint_abi_value {
    uint8_t type;        /* IN/OUT: enum glint_abi_type, never VOID */
    uint8_t reserved[3]; /* IN/OUT: zero */
    uint32_t len;        /* IN/OUT: payload bytes: 4 (i32,u32,f32), 8 (i64,u64,f64),
                            1 (bool: 0 or 1), n (string, bytes) */
};
_Static_assert(sizeof(struct glint_abi_value) == 8, "value size");
_Static_assert(offsetof(struct glint_abi_value, type) == 0, "value.type");
_Static_assert(offsetof(struct glint_abi_value, reserved) == 1, "value.reserved");
_Static_assert(offsetof(struct glint_abi_value, len) == 4, "value.len");

#endif
