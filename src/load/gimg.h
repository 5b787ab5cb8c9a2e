/* Image files (.gimg): the on-disk format, and the parser that checks one without KVM. */
#ifndef GLINT_LOAD_GIMG_H
#define GLINT_LOAD_GIMG_H

#include <stddef.h>
#include <stdint.h>

#include "glint/abi.h"

/*
 * An image file is an initialised image frozen to disk (docs/images.md):
 *
 *   header (64 bytes) | section table (GLINT__GIMG_SECTIONS entries) |
 *   CONFIG | SEGMENTS | EXPORTS | HOSTFNS | VCPU | PAGE_INDEX | ... | PAGE_DATA
 *
 * Little-endian x86-64, every structure naturally aligned. The sections come
 * in this order, each exactly once, 8-byte aligned, disjoint, inside the
 * file; PAGE_DATA is page aligned (so it can be mapped) and ends the file.
 * The CRC-32 in the header covers every byte of the file with the checksum
 * field read as zero. Everything here is hostile input.
 */
#define GLINT__GIMG_MAGIC          "GLINTIMG"
#define GLINT__GIMG_FORMAT_VERSION 1u
#define GLINT__GIMG_SECTIONS       7u
/* Largest file accepted: guest memory at most GLINT_ABI_MEMORY_LIMIT, plus metadata. */
#define GLINT__GIMG_MAX_FILE ((uint64_t)GLINT_ABI_MEMORY_LIMIT + (16u << 20))

enum glint__gimg_kind {
    GLINT__GIMG_CONFIG = 1,     /* struct glint__gimg_config */
    GLINT__GIMG_SEGMENTS = 2,   /* struct glint__gimg_segment[1..16] */
    GLINT__GIMG_EXPORTS = 3,    /* struct glint__gimg_fn[0..1024] */
    GLINT__GIMG_HOSTFNS = 4,    /* struct glint__gimg_fn[0..1024]: what the image expects */
    GLINT__GIMG_VCPU = 5,       /* struct glint__gimg_vcpu + fp_size bytes */
    GLINT__GIMG_PAGE_INDEX = 6, /* uint32_t page numbers, strictly ascending */
    GLINT__GIMG_PAGE_DATA = 7,  /* 4 KiB per indexed page, in index order */
};

struct glint__gimg_header {
    char magic[8];           /* GLINT__GIMG_MAGIC, no NUL */
    uint32_t format_version; /* GLINT__GIMG_FORMAT_VERSION */
    uint32_t abi_version;    /* GLINT_ABI_VERSION of the library that wrote it */
    uint32_t header_size;    /* sizeof(struct glint__gimg_header) */
    uint32_t section_count;  /* GLINT__GIMG_SECTIONS */
    uint64_t file_size;      /* bytes in the file */
    uint32_t checksum;       /* CRC-32 (zlib) of the file with this field zero */
    uint32_t flags;          /* zero */
    uint8_t reserved[24];    /* zero */
};
_Static_assert(sizeof(struct glint__gimg_header) == 64, "gimg header size");

struct glint__gimg_section {
    uint32_t kind; /* enum glint__gimg_kind: entry i has kind i + 1 */
    uint32_t reserved;
    uint64_t offset, size;
};
_Static_assert(sizeof(struct glint__gimg_section) == 24, "gimg section size");

/* The layout the image was built with: sizes resolved and page-rounded. */
struct glint__gimg_config {
    uint64_t heap_size, stack_size, input_size, output_size;
    uint64_t max_image_memory;
    uint64_t budget;         /* default per-call budget (0: none) */
    uint64_t mem_size;       /* guest memory the layout gives: [0, mem_size) */
    uint64_t entry;          /* the ELF's entry point */
    uint64_t seed;           /* the boot page's seed the guest was initialised with */
    uint32_t timeout_ms;     /* default per-call timeout */
    uint32_t guest_flags;    /* GLINT_ABI_DEFAULTS_* the guest declared */
    uint32_t guest_features; /* GLINT_ABI_FEATURE_* of the guest's features note (hot mode) */
    uint32_t reserved;       /* zero */
    char library[32];        /* "glint 0.1.0": informational, NUL-terminated and -padded */
};
_Static_assert(sizeof(struct glint__gimg_config) == 120, "gimg config size");

/* One ELF segment, as the loader placed it (its bytes are among the pages). */
struct glint__gimg_segment {
    uint64_t vaddr, memsz, filesz;
    uint32_t flags; /* GLINT__SEG_* (load/elf.h) */
    uint32_t reserved;
};
_Static_assert(sizeof(struct glint__gimg_segment) == 32, "gimg segment size");

/* A function signature: an export, or a host function the image expects. */
struct glint__gimg_fn {
    char name[GLINT_ABI_NAME_MAX]; /* NUL-terminated, NUL-padded */
    uint8_t ret, nparams;          /* enum glint_abi_type; <= GLINT_ABI_MAX_PARAMS */
    uint8_t params[GLINT_ABI_MAX_PARAMS];
    uint8_t reserved[14];
};
_Static_assert(sizeof(struct glint__gimg_fn) == 96, "gimg fn size");

/* vCPU state: general registers, and the FPU/vector state in the format of
 * the CPU that wrote it (which a loading host must share: docs/images.md). */
enum { GLINT__GIMG_FP_XSAVE = 1, GLINT__GIMG_FP_LEGACY = 2 };
#define GLINT__GIMG_XSAVE_COMPONENTS 16 /* XSAVE components 2..17 */
#define GLINT__GIMG_FP_MAX           (64u << 10)
struct glint__gimg_vcpu {
    uint64_t regs[18];  /* rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags */
    uint32_t fp_format; /* GLINT__GIMG_FP_* */
    uint32_t fp_size;   /* bytes of FPU state following this record */
    uint64_t xcr0;      /* XSAVE features enabled for the guest (0: legacy) */
    /* offset of XSAVE component 2 + i in the area (CPUID 0xD), 0 if not enabled */
    uint32_t xsave_offsets[GLINT__GIMG_XSAVE_COMPONENTS];
};
_Static_assert(sizeof(struct glint__gimg_vcpu) == 224, "gimg vcpu size");
#define GLINT__GIMG_RIP    16
#define GLINT__GIMG_RFLAGS 17

/* A checked file: copies of the fixed records, pointers into the file for the arrays. */
struct glint__gimg {
    struct glint__gimg_header header;
    struct glint__gimg_config config;
    uint32_t nsegs;
    struct glint__gimg_segment segs[16];
    uint32_t nexports, nhostfns, npages;
    const struct glint__gimg_fn *exports, *hostfns;
    struct glint__gimg_vcpu vcpu;
    const uint8_t *fp;     /* vcpu.fp_size bytes */
    const uint32_t *pages; /* npages page numbers, ascending, < mem_size / 4 KiB */
    uint64_t data_offset;  /* file offset of the first page's bytes (page aligned) */
};

/* Does data (len bytes) start with the image-file magic? */
int glint__gimg_is_image(const void *data, size_t len);

/*
 * Check an image file of len bytes at data (8-byte aligned) and fill *out.
 * Checks, in order: magic, format version, ABI version, header size, file
 * size, checksum, header flags and reserved bytes, the section table (kinds,
 * order, alignment, overlap, bounds), then each section's contents: config
 * ranges, segments (as the ELF loader would accept them), the entry point,
 * function records, the vCPU record, and the page index against mem_size.
 * Never reads outside [data, data+len). Returns 0, GLINT_EABI for another
 * format or ABI version, else GLINT_EIMAGE, glint_errmsg() naming the field.
 * Layout facts that need the memory map (mem_size equal to what the config
 * gives, pages inside regions that may hold data) are checked by the loader.
 */
int glint__gimg_parse(const void *data, size_t len, struct glint__gimg *out);

/* The function record's name: "export 'Echo'" etc. are built from it. */
int glint__gimg_check_fn(const struct glint__gimg_fn *f, const char *what, uint32_t i);

#endif
