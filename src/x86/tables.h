/* x86-64 system structures built by the host in guest memory: page tables, GDT, IDT, TSS, stubs. */
#ifndef GLINT_X86_TABLES_H
#define GLINT_X86_TABLES_H

#include <stdint.h>

#include "load/elf.h"
#include "mem/layout.h"

/* GDT selectors. */
#define GLINT__SEL_KCODE 0x08
#define GLINT__SEL_KDATA 0x10
#define GLINT__SEL_UDATA 0x18 /* used with RPL 3 */
#define GLINT__SEL_UCODE 0x20 /* used with RPL 3 */
#define GLINT__SEL_TSS   0x28
#define GLINT__GDT_LIMIT (0x38 - 1)

/* TSS: 104-byte 64-bit TSS, then the I/O permission bitmap for ports
 * 0..255, then the 0xff terminator byte the CPU may read (SDM Vol. 1 19.5.2). */
#define GLINT__TSS_IOPB_OFFSET 104
#define GLINT__TSS_LIMIT       (GLINT__TSS_IOPB_OFFSET + 32 + 1 - 1)

#define GLINT__STUB_SIZE 16 /* bytes per exception vector stub */

/* Control register and EFER values for the guest (SDM Vol. 3A 2.5, 9.8.5). */
#define GLINT__CR0         0x80010033ull /* PG | WP | NE | ET | MP | PE */
#define GLINT__CR4         0x620ull      /* OSXMMEXCPT | OSFXSR | PAE */
#define GLINT__EFER        0xd00ull      /* NXE | LMA | LME; SCE clear: no syscall */
#define GLINT__CR4_OSXSAVE (1ull << 18)  /* added when the vCPU offers XSAVE */

/* XCR0 components (SDM Vol. 1 13.1) glint may enable: x87, SSE, AVX and the
 * three AVX-512 ones (opmask, ZMM_Hi256, Hi16_ZMM). Not MPX, PKRU or AMX. */
#define GLINT__XCR0_X87    0x1ull
#define GLINT__XCR0_SSE    0x2ull
#define GLINT__XCR0_AVX    0x4ull
#define GLINT__XCR0_AVX512 0xe0ull
#define GLINT__XCR0_WANTED                                                                         \
    (GLINT__XCR0_X87 | GLINT__XCR0_SSE | GLINT__XCR0_AVX | GLINT__XCR0_AVX512)

/* CPUID feature bits glint edits in the vCPU's table (SDM Vol. 2A, CPUID). */
#define GLINT__CPUID1_ECX_VMX     (1u << 5)
#define GLINT__CPUID1_ECX_XSAVE   (1u << 26)
#define GLINT__CPUID1_ECX_OSXSAVE (1u << 27)
#define GLINT__CPUID7_ECX_RDPID   (1u << 22)
#define GLINT__CPUID81_ECX_SVM    (1u << 2)
#define GLINT__CPUID81_EDX_RDTSCP (1u << 27)

/* Write page tables, GDT, IDT, TSS, exception stubs and the boot page into
 * guest memory `mem` (mem_size bytes, zeroed) for the given layout. Page
 * permissions: system structures supervisor-only, ELF segments per their
 * flags (W^X), heap/stack/buffers user RW NX, guards and null area absent. */
void glint__x86_build(uint8_t *mem, const struct glint__layout *l, const struct glint__elf *elf,
                      uint64_t seed);

/* Does this vector push an error code? */
int glint__x86_has_error_code(uint32_t vector);

/* Effective rights of a page, from glint__x86_page_perms. */
enum {
    GLINT__PAGE_PRESENT = 1, /* mapped at every level */
    GLINT__PAGE_WRITE = 2,   /* RW at every level */
    GLINT__PAGE_USER = 4,    /* U/S at every level: CPL3 may access */
    GLINT__PAGE_EXEC = 8,    /* NX clear at every level */
};

/* Walk the 4-level page tables rooted at cr3 in guest memory mem[0, mem_size)
 * (guest physical == host offset) for addr, as the CPU would (4 KiB, 2 MiB
 * and 1 GiB pages). Returns the GLINT__PAGE_* bits (0 if not mapped or addr
 * is non-canonical), or -1 if a table the walk needs lies outside guest
 * memory. Reads only; every table address is bounds-checked, since the
 * tables are guest memory and could hold anything. */
int glint__x86_page_perms(const uint8_t *mem, uint64_t mem_size, uint64_t cr3, uint64_t addr);

#endif
