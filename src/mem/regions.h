/* THE memory map: one table of guest regions from which page tables, restore's writable set and
 * fault messages are all generated. */
#ifndef GLINT_MEM_REGIONS_H
#define GLINT_MEM_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#include "load/elf.h"
#include "mem/layout.h"

/*
 * A region is a page-aligned range of guest memory with one set of rights.
 * Every page of a region has exactly its rights in the page tables
 * (x86/tables.c maps the table, nothing else); every page outside all
 * regions is unmapped. Rights of 0 mean "never mapped" (guards, page tables).
 */
enum glint__region_kind {
    GLINT__REGION_NULL_GUARD, /* [0, GLINT_ABI_NULL_GUARD_END): never mapped */
    GLINT__REGION_BOOT,       /* struct glint_abi_boot */
    GLINT__REGION_GDT,        /* GDT, IDT, TSS: supervisor read-only */
    GLINT__REGION_IDT,
    GLINT__REGION_TSS,
    GLINT__REGION_STUBS,       /* exception stubs: supervisor RX */
    GLINT__REGION_GUARD,       /* a never-mapped page between system structures */
    GLINT__REGION_XSTACK,      /* exception stack: supervisor RW */
    GLINT__REGION_PAGE_TABLES, /* never mapped; the CPU sets accessed/dirty bits */
    GLINT__REGION_SEGMENT,     /* an ELF segment: user, R+X, R or RW */
    GLINT__REGION_HEAP,
    GLINT__REGION_STACK_GUARD, /* never mapped, under the stack */
    GLINT__REGION_STACK,
    GLINT__REGION_INPUT,
    GLINT__REGION_OUTPUT,
    GLINT__REGION_TLS, /* the TCB (glint/abi.h), FS.base: user RW, between the page tables
                          and the image */
    GLINT__REGION_HOT, /* the hot mailbox (glint/abi.h): user RW, zero unless the host turns
                          hot mode on, below the TLS page */
};

/* Rights of a region's pages. Mapped pages are always readable (x86 has no
 * present-but-unreadable page), so READ is set iff the region is mapped. */
enum {
    GLINT__MEM_READ = 1,
    GLINT__MEM_WRITE = 2,
    GLINT__MEM_EXEC = 4,
    GLINT__MEM_USER = 8, /* CPL3 may access; else supervisor-only */
};

struct glint__region {
    uint64_t addr, size; /* page aligned, size > 0 */
    uint8_t perms;       /* GLINT__MEM_* (0: never mapped) */
    uint8_t kind;        /* enum glint__region_kind */
    uint8_t segment;     /* SEGMENT: index in the ELF's segment list */
};

/* 17 fixed regions plus one per ELF segment. */
#define GLINT__MAX_REGIONS (17 + GLINT__ELF_MAX_SEGMENTS)

struct glint__regions {
    uint32_t count;
    uint64_t mem_size;                          /* guest memory [0, mem_size) */
    struct glint__region r[GLINT__MAX_REGIONS]; /* ascending, disjoint */
};

/* Build the table for a computed layout and the ELF it was computed from.
 * Returns 0, or GLINT_EINVAL if regions would overlap or leave guest memory
 * (which glint__elf_parse and glint__layout_compute already rule out). */
int glint__mem_regions_build(const struct glint__layout *l, const struct glint__elf *elf,
                             struct glint__regions *m);

/* The region holding addr, or NULL. */
const struct glint__region *glint__mem_region_at(const struct glint__regions *m, uint64_t addr);

/* Can the guest or the CPU change this region's pages while the guest runs?
 * Writable regions, and the page tables (accessed and dirty bits). */
int glint__mem_region_changes(const struct glint__region *r);

/* Does the host write this region's contents when it builds an image (the
 * system structures, the page tables, the boot and TLS pages)? An ELF
 * segment's file bytes are written too, which only the ELF can say; every
 * other region starts as zeros. */
int glint__mem_region_built_by_host(const struct glint__region *r);

/* The pages that can change while a guest runs, as a malloc'd bitmap (one bit
 * per 4 KiB page, *words 64-bit words): what restore copies back when the
 * hypervisor cannot track writes. GLINT_ENOMEM if out of memory. */
int glint__mem_writable_bitmap(const struct glint__regions *m, uint64_t **bitmap, size_t *words);

/* Name a region for messages: "the heap", "ELF segment 2 (read-only data)". */
void glint__mem_region_name(const struct glint__region *r, char *buf, size_t n);

/* Describe a page fault at addr with x86 error code err from the table alone
 * (the page tables are generated from it and CPL3 cannot change them), e.g.
 * "write to read-only memory in ELF segment 2 (read-only data)". Writes a
 * NUL-terminated string of at most n bytes into buf. */
void glint__mem_describe_fault(char *buf, size_t n, const struct glint__regions *m, uint64_t addr,
                               uint64_t err);

#endif
