/* glint host<->guest ABI: memory map, ports, call encoding; freestanding, shared by both sides. */
#ifndef GLINT_ABI_H
#define GLINT_ABI_H

#include <stdint.h>

/*
 * GLINT_ABI_VERSION is carried by every guest in an ELF note and checked by
 * the host before anything is loaded. Bump rule: any change to a layout,
 * address, port, type code or encoding rule in this file bumps the version;
 * the host accepts exactly its own version.
 */
#define GLINT_ABI_VERSION 1u

/* ---- ELF note ---------------------------------------------------------- */

#define GLINT_ABI_NOTE_NAME "glint"     /* n_name, NUL included: namesz 6 */
#define GLINT_ABI_NOTE_TYPE 0x676c6e31u /* "gln1" */

/* The note descriptor. IN to host (read from the file, never from memory). */
struct glint_abi_note {
    uint32_t abi_version;  /* GLINT_ABI_VERSION the guest was built for */
    uint32_t export_size;  /* sizeof(struct glint_abi_export) */
    uint64_t exports_addr; /* guest address of the first export record */
    uint64_t exports_end;  /* guest address one past the last record */
};
_Static_assert(sizeof(struct glint_abi_note) == 24, "note size");

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
/* Guest ELF segments must lie in [IMAGE_BASE, IMAGE_LIMIT). */
#define GLINT_ABI_IMAGE_BASE  0x200000u
#define GLINT_ABI_IMAGE_LIMIT 0x10000000u /* 256 MiB */
/* Upper bound on all guest memory (page tables must fit below IMAGE_BASE). */
#define GLINT_ABI_MEMORY_LIMIT 0x3c000000u /* 960 MiB */

/*
 * After the ELF image, page aligned, the host places in this order:
 *   heap | guard page (not present) | stack | input buffer | output buffer
 * and describes them in the boot info page.
 */
struct glint_abi_boot {
    uint32_t magic; /* GLINT_ABI_BOOT_MAGIC */
    uint32_t abi_version;
    uint64_t heap_addr, heap_size;
    uint64_t stack_addr, stack_size;   /* stack grows down from addr+size */
    uint64_t input_addr, input_size;   /* host -> guest messages */
    uint64_t output_addr, output_size; /* guest -> host messages */
    uint64_t memory_size;              /* end of guest memory */
    uint64_t seed;                     /* random per image, for guest hash seeds */
};
#define GLINT_ABI_BOOT_MAGIC 0x746e6c67u /* "glnt" */
_Static_assert(sizeof(struct glint_abi_boot) == 88, "boot size");

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

/* One exported guest function, in the guest's .glint_exports section. */
struct glint_abi_export {
    char name[GLINT_ABI_NAME_MAX]; /* NUL-terminated, NUL-padded */
    uint64_t fn;                   /* guest entry (used by the guest only) */
    uint8_t ret_type;
    uint8_t nparams;
    uint8_t params[GLINT_ABI_MAX_PARAMS];
    uint8_t reserved[6];
};
_Static_assert(sizeof(struct glint_abi_export) == 96, "export size");

/* ---- messages in the shared buffers -------------------------------------- */
/*
 * A message is a header, then (HOSTCALL only) the NUL-terminated name padded
 * to 8 bytes, then `count` values. All integers little-endian. Every value is
 * an 8-byte value header and `len` payload bytes, padded with zeros to a
 * multiple of 8; a string's padding always holds at least one NUL.
 */
enum glint_abi_msg_kind {
    GLINT_ABI_MSG_CALL = 1,       /* host -> guest, input buffer */
    GLINT_ABI_MSG_RESULT = 2,     /* guest -> host, output buffer */
    GLINT_ABI_MSG_HOSTCALL = 3,   /* guest -> host, output buffer */
    GLINT_ABI_MSG_HOSTRESULT = 4, /* host -> guest, output buffer */
    GLINT_ABI_MSG_ABORT = 5,      /* guest -> host, output buffer */
};

struct glint_abi_msg {
    uint32_t size; /* total bytes, header included, multiple of 8 */
    uint8_t kind;  /* enum glint_abi_msg_kind */
    uint8_t count; /* number of values that follow */
    uint8_t type;  /* CALL/HOSTCALL: expected return type */
    uint8_t reserved;
    int32_t status;    /* CALL: function index; RESULT/HOSTRESULT: 0 or error
                          code (then one STRING value: the message); ABORT: code */
    uint32_t name_len; /* HOSTCALL: name length without NUL; else 0 */
};
_Static_assert(sizeof(struct glint_abi_msg) == 16, "msg size");

struct glint_abi_value {
    uint8_t type; /* enum glint_abi_type, never VOID */
    uint8_t reserved[3];
    uint32_t len; /* payload bytes: 4 (i32,u32,f32), 8 (i64,u64,f64),
                     1 (bool: 0 or 1), n (string, bytes) */
};
_Static_assert(sizeof(struct glint_abi_value) == 8, "value size");

#endif
