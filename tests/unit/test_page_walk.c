/* Unit tests: the guest page-table walker (src/x86_tables.c) on hand-built and hostile tables. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "x86/tables.h"

#define P    (1ull << 0)
#define RW   (1ull << 1)
#define US   (1ull << 2)
#define PS   (1ull << 7)
#define NX   (1ull << 63)
#define PAGE 4096ull
#define MEM  (4ull << 20)

static uint8_t *mem;

static void put(uint64_t addr, uint64_t v)
{
    memcpy(mem + addr, &v, sizeof v);
}

/* cr3 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000 (covers [0, 2 MiB)). */
static void setup(void)
{
    mem = calloc(1, MEM);
    cr_assert_not_null(mem);
    put(0x1000, 0x2000 | P | RW | US);
    put(0x2000, 0x3000 | P | RW | US);
    put(0x3000, 0x4000 | P | RW | US);
    put(0x4000 + 8 * 0x10, 0x10000 | P | US | NX);      /* user read-only data */
    put(0x4000 + 8 * 0x11, 0x11000 | P | RW | NX);      /* supervisor RW */
    put(0x4000 + 8 * 0x12, 0x12000 | P | US | RW | NX); /* user RW */
    put(0x4000 + 8 * 0x13, 0x13000 | P | US);           /* user code */
    put(0x4000 + 8 * 0x14, 0x14000 | P);                /* supervisor code, read-only */
    put(0x4000 + 8 * 0x15, 0x15000 | RW | US);          /* not present */
}

static void teardown(void)
{
    free(mem);
}

TestSuite(page_walk, .init = setup, .fini = teardown);

static int perms(uint64_t addr)
{
    return glint__x86_page_perms(mem, MEM, 0x1000, addr);
}

Test(page_walk, leaf_permissions)
{
    cr_assert_eq(perms(0x10008), GLINT__PAGE_PRESENT | GLINT__PAGE_USER);
    cr_assert_eq(perms(0x11000), GLINT__PAGE_PRESENT | GLINT__PAGE_WRITE);
    cr_assert_eq(perms(0x12fff), GLINT__PAGE_PRESENT | GLINT__PAGE_USER | GLINT__PAGE_WRITE);
    cr_assert_eq(perms(0x13000), GLINT__PAGE_PRESENT | GLINT__PAGE_USER | GLINT__PAGE_EXEC);
    cr_assert_eq(perms(0x14000), GLINT__PAGE_PRESENT | GLINT__PAGE_EXEC);
    cr_assert_eq(perms(0x15000), 0);
    cr_assert_eq(perms(0x16000), 0); /* zero entry */
}

/* Effective rights: RW and US are ANDed over the levels, NX ORed. */
Test(page_walk, upper_levels_restrict)
{
    put(0x3000, 0x4000 | P | US); /* PD entry read-only */
    cr_assert_eq(perms(0x12000), GLINT__PAGE_PRESENT | GLINT__PAGE_USER);
    put(0x2000, 0x3000 | P | RW); /* PDPT entry supervisor */
    cr_assert_eq(perms(0x12000), GLINT__PAGE_PRESENT);
    put(0x1000, 0x2000 | P | RW | US | NX); /* PML4 entry NX */
    cr_assert_eq(perms(0x13000), GLINT__PAGE_PRESENT);
    put(0x1000, 0x2000 | RW | US); /* PML4 entry not present */
    cr_assert_eq(perms(0x13000), 0);
}

Test(page_walk, large_pages)
{
    put(0x3000 + 8, 0x200000 | P | RW | US | PS | NX); /* 2 MiB page at 2 MiB */
    cr_assert_eq(perms(0x200000), GLINT__PAGE_PRESENT | GLINT__PAGE_USER | GLINT__PAGE_WRITE);
    cr_assert_eq(perms(0x3fffff), GLINT__PAGE_PRESENT | GLINT__PAGE_USER | GLINT__PAGE_WRITE);
    put(0x2000 + 8, 0x40000000 | P | US | PS); /* 1 GiB page at 1 GiB */
    cr_assert_eq(perms(0x40001234), GLINT__PAGE_PRESENT | GLINT__PAGE_USER | GLINT__PAGE_EXEC);
}

/* Tables are guest memory: any entry may point anywhere. The walk never reads outside
 * [0, mem_size) and says so. */
Test(page_walk, hostile_tables_are_bounds_checked)
{
    put(0x3000, 0x7ffffffff000ull | P | RW | US); /* PT far outside memory */
    cr_assert_eq(perms(0x12000), -1);
    put(0x3000, (MEM - PAGE) | P | RW | US); /* last page: inside */
    cr_assert_eq(perms(0x12000), 0);
    put(0x3000, MEM | P | RW | US); /* one page past the end */
    cr_assert_eq(perms(0x12000), -1);
    put(0x3000, 0x000ffffffffff000ull | P | RW | US); /* every address bit set */
    cr_assert_eq(perms(0x12000), -1);
    /* cr3 itself outside, or not page aligned within the last page. */
    cr_assert_eq(glint__x86_page_perms(mem, MEM, MEM, 0x12000), -1);
    cr_assert_eq(glint__x86_page_perms(mem, MEM, 1ull << 51, 0x12000), -1);
    cr_assert_eq(glint__x86_page_perms(mem, 0, 0, 0x12000), -1);
    cr_assert_eq(glint__x86_page_perms(mem, MEM - 1, MEM - PAGE, 0x12000), -1);
}

Test(page_walk, non_canonical_is_unmapped)
{
    cr_assert_eq(perms(0x0000800000000000ull), 0);
    cr_assert_eq(perms(0x8000000000000000ull), 0);
    /* The canonical upper half walks through PML4 entry 511 (zero here). */
    cr_assert_eq(perms(0xffffffffffff0000ull), 0);
}
