/* x86-64 system structures built by the host in guest memory: page tables, GDT, IDT, TSS, stubs. */
#ifndef GLINT_X86_TABLES_H
#define GLINT_X86_TABLES_H

#include <stdint.h>

#include "mem/layout.h"
#include "mem/regions.h"
#include "x86/cpu.h"
#include "x86/descriptors.h"

#define GLINT__STUB_SIZE 16 /* bytes per exception vector stub */

/* A page-directory entry with PS=1 maps this much (SDM Vol. 3A 4.5.4). */
#define GLINT__LARGE_PAGE (2ull << 20)

/* Control register and EFER values for the guest (SDM Vol. 3A 2.5, 9.8.5):
 * paging with write protection, SSE, long mode, NX; EFER.SCE clear (no syscall). */
#define GLINT__CR0                                                                                 \
    (GLINT__CR0_PG | GLINT__CR0_WP | GLINT__CR0_NE | GLINT__CR0_ET | GLINT__CR0_MP | GLINT__CR0_PE)
#define GLINT__CR4  (GLINT__CR4_OSXMMEXCPT | GLINT__CR4_OSFXSR | GLINT__CR4_PAE)
#define GLINT__EFER (GLINT__EFER_NXE | GLINT__EFER_LMA | GLINT__EFER_LME)

/* XCR0 components glint may enable: x87, SSE, AVX and the three AVX-512 ones.
 * Not MPX, PKRU or AMX. */
#define GLINT__XCR0_WANTED                                                                         \
    (GLINT__XCR0_X87 | GLINT__XCR0_SSE | GLINT__XCR0_AVX | GLINT__XCR0_AVX512)

/* Write page tables, GDT, IDT, TSS, exception stubs and the boot page into
 * guest memory `mem` (l->mem_size bytes, zeroed) for layout l and its region
 * table m (from glint__mem_regions_build). The page tables map exactly the
 * regions of m with their rights, nothing else, identity mapped: a 2 MiB
 * chunk wholly inside one mapped region as one 2 MiB page, every other chunk
 * with 4 KiB pages. The GDT is encoded from the descriptor table
 * (x86/descriptors.h). */
void glint__x86_build(uint8_t *mem, const struct glint__regions *m, const struct glint__layout *l,
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
 * tables are guest memory and could hold anything. Used to check built
 * tables against the memory map (tests/unit/test_page_walk.c); fault
 * messages come from the region table itself (mem/regions.h). */
int glint__x86_page_perms(const uint8_t *mem, uint64_t mem_size, uint64_t cr3, uint64_t addr);

/* The same walk, also giving the physical address addr translates to and the
 * size of the page that maps it (4 KiB, 2 MiB or 1 GiB), when mapped (either
 * pointer may be NULL). */
int glint__x86_page_walk(const uint8_t *mem, uint64_t mem_size, uint64_t cr3, uint64_t addr,
                         uint64_t *phys, uint64_t *page_size);

#endif
