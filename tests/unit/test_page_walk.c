/* Unit tests: the page-table walker on hand-built and hostile tables, and the built tables walked
 * region by region against the memory map (src/mem/regions.h). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "mem/regions.h"
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

/* ---- the built tables against the memory map ------------------------------------ */

/* A guest of three segments (code, read-only data, data with bss), with a gap of unmapped
 * pages between the second and third, the given heap and the smallest stack and buffers. */
static void guest_with_heap(struct glint__elf *elf, struct glint__layout *l,
                            struct glint__regions *m, uint64_t heap)
{
    memset(elf, 0, sizeof *elf);
    elf->nsegs = 3;
    elf->segs[0] = (struct glint__segment){.vaddr = 0x200000, .memsz = 0x1800, .flags = 5};
    elf->segs[1] = (struct glint__segment){.vaddr = 0x202000, .memsz = 0x10, .flags = 4};
    elf->segs[2] = (struct glint__segment){.vaddr = 0x205000, .memsz = 0x2001, .flags = 6};
    elf->image_end = 0x208000;
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = heap;
    cfg.stack_size = 8192;
    cfg.input_size = cfg.output_size = 4096;
    cr_assert_eq(glint__layout_compute(elf, &cfg, l), 0);
    cr_assert_eq(glint__mem_regions_build(l, elf, m), 0, "%s", glint_errmsg());
}

static void small_guest(struct glint__elf *elf, struct glint__layout *l, struct glint__regions *m)
{
    guest_with_heap(elf, l, m, 4096);
}

/* The page-walk rights a region's pages must have. */
static int expected_perms(uint8_t perms)
{
    if (!(perms & GLINT__MEM_READ))
        return 0;
    return GLINT__PAGE_PRESENT | (perms & GLINT__MEM_WRITE ? GLINT__PAGE_WRITE : 0) |
           (perms & GLINT__MEM_USER ? GLINT__PAGE_USER : 0) |
           (perms & GLINT__MEM_EXEC ? GLINT__PAGE_EXEC : 0);
}

/* Build the tables for (l, m) and walk every page of every region and every page outside
 * them: exactly the region's rights, identity mapped. Returns the number of 4 KiB pages
 * that 2 MiB pages map; each such page lies in a 2 MiB chunk of one mapped region. */
static uint64_t check_tables(const struct glint__layout *l, const struct glint__regions *m,
                             uint8_t **out)
{
    uint8_t *g = calloc(1, l->mem_size);
    cr_assert_not_null(g);
    glint__x86_build(g, m, l, 0);
    uint64_t covered = 0, large = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        const struct glint__region *r = &m->r[i];
        char name[64];
        glint__mem_region_name(r, name, sizeof name);
        cr_assert(r->addr % PAGE == 0 && r->size % PAGE == 0 && r->size > 0, "%s", name);
        for (uint64_t a = r->addr; a < r->addr + r->size; a += PAGE) {
            uint64_t phys = ~0ull, size = 0;
            int got =
                glint__x86_page_walk(g, l->mem_size, GLINT_ABI_PT_ADDR, a + 0x123, &phys, &size);
            cr_assert_eq(got, expected_perms(r->perms), "%s: page 0x%llx has rights %d, want %d",
                         name, (unsigned long long)a, got, expected_perms(r->perms));
            if (!got)
                continue;
            cr_assert_eq(phys, a + 0x123, "%s: 0x%llx maps to 0x%llx", name, (unsigned long long)a,
                         (unsigned long long)phys);
            cr_assert(size == PAGE || size == GLINT__LARGE_PAGE, "%s: page size %llu", name,
                      (unsigned long long)size);
            if (size == GLINT__LARGE_PAGE) {
                uint64_t chunk = a & ~(GLINT__LARGE_PAGE - 1);
                cr_assert(chunk >= r->addr && chunk + GLINT__LARGE_PAGE <= r->addr + r->size,
                          "%s: 0x%llx is in a 2 MiB page reaching outside the region", name,
                          (unsigned long long)a);
                large++;
            }
        }
        covered += r->size;
    }
    /* Everything the page tables can map and no region holds is unmapped. */
    uint64_t reach = (uint64_t)(l->pt_pages - 3) * 512 * PAGE;
    uint64_t outside = 0;
    for (uint64_t a = 0; a < reach; a += PAGE) {
        if (glint__mem_region_at(m, a))
            continue;
        outside++;
        cr_assert_eq(glint__x86_page_perms(g, l->mem_size, GLINT_ABI_PT_ADDR, a), 0,
                     "page 0x%llx is in no region but mapped", (unsigned long long)a);
    }
    cr_assert_gt(outside, 0, "the test guest has gaps");
    cr_assert_leq(covered, l->mem_size);
    if (out)
        *out = g;
    else
        free(g);
    return large;
}

Test(memory_map, every_page_has_exactly_its_regions_rights)
{
    struct glint__elf elf;
    struct glint__layout l;
    struct glint__regions m;
    small_guest(&elf, &l, &m);
    cr_assert_eq(check_tables(&l, &m, NULL), 0, "no region of this guest holds a 2 MiB chunk");
}

/* A 9 MiB heap: its 2 MiB-aligned interior is mapped with 2 MiB pages, so its page tables
 * stay zero (not stored in the image, not copied by sandboxes); its ends, the stack guard
 * after it and everything else keep 4 KiB pages with exactly their rights. */
Test(memory_map, large_heap_interior_uses_2mib_pages)
{
    struct glint__elf elf;
    struct glint__layout l;
    struct glint__regions m;
    guest_with_heap(&elf, &l, &m, 9ull << 20);
    uint8_t *g;
    uint64_t large = check_tables(&l, &m, &g);
    uint64_t lo = (l.heap_addr + GLINT__LARGE_PAGE - 1) & ~(GLINT__LARGE_PAGE - 1);
    uint64_t hi = (l.heap_addr + l.heap_size) & ~(GLINT__LARGE_PAGE - 1);
    cr_assert_gt(hi, lo);
    cr_assert_eq(large, (hi - lo) / PAGE,
                 "2 MiB pages map %llu pages, want the heap interior's %llu",
                 (unsigned long long)large, (unsigned long long)((hi - lo) / PAGE));
    uint64_t size = 0;
    cr_assert_gt(glint__x86_page_walk(g, l.mem_size, GLINT_ABI_PT_ADDR, l.heap_addr, NULL, &size),
                 0);
    if (l.heap_addr % GLINT__LARGE_PAGE)
        cr_assert_eq(size, PAGE, "the heap's unaligned start is a 4 KiB page");
    cr_assert_eq(glint__x86_page_perms(g, l.mem_size, GLINT_ABI_PT_ADDR, l.guard_addr), 0);
    /* The page table a 2 MiB chunk does not use is all zero. */
    uint64_t pt = GLINT_ABI_PT_ADDR + 3 * PAGE;
    for (uint64_t c = lo; c < hi; c += GLINT__LARGE_PAGE)
        for (uint64_t b = 0; b < PAGE; b++)
            cr_assert_eq(g[pt + c / GLINT__LARGE_PAGE * PAGE + b], 0,
                         "page table of chunk 0x%llx is not zero", (unsigned long long)c);
    free(g);
}

Test(memory_map, regions_cover_the_layout_in_order)
{
    struct glint__elf elf;
    struct glint__layout l;
    struct glint__regions m;
    small_guest(&elf, &l, &m);
    for (uint32_t i = 1; i < m.count; i++)
        cr_assert_geq(m.r[i].addr, m.r[i - 1].addr + m.r[i - 1].size, "region %u overlaps", i);
    const struct glint__region *r = glint__mem_region_at(&m, 0x202008);
    cr_assert(r && r->kind == GLINT__REGION_SEGMENT && r->segment == 1);
    cr_assert_eq(r->perms, GLINT__MEM_USER | GLINT__MEM_READ);
    r = glint__mem_region_at(&m, 0x206fff); /* the bss page of segment 2 */
    cr_assert(r && r->kind == GLINT__REGION_SEGMENT && r->segment == 2);
    cr_assert_eq(glint__mem_region_at(&m, l.guard_addr)->kind, GLINT__REGION_STACK_GUARD);
    cr_assert_eq(glint__mem_region_at(&m, l.output_addr)->kind, GLINT__REGION_OUTPUT);
    cr_assert_eq(glint__mem_region_at(&m, GLINT_ABI_PT_ADDR)->kind, GLINT__REGION_PAGE_TABLES);
    cr_assert_null(glint__mem_region_at(&m, 0x203000)); /* the gap between segments */
    cr_assert_null(glint__mem_region_at(&m, l.mem_size));
}

/* Restore's fallback set: exactly the writable regions and the page tables. */
Test(memory_map, writable_bitmap_is_the_writable_regions_and_page_tables)
{
    struct glint__elf elf;
    struct glint__layout l;
    struct glint__regions m;
    small_guest(&elf, &l, &m);
    uint64_t *bm;
    size_t words;
    cr_assert_eq(glint__mem_writable_bitmap(&m, &bm, &words), 0);
    cr_assert_eq(words, (l.mem_size / PAGE + 63) / 64);
    for (uint64_t a = 0; a < l.mem_size; a += PAGE) {
        const struct glint__region *r = glint__mem_region_at(&m, a);
        bool want = r && ((r->perms & GLINT__MEM_WRITE) || r->kind == GLINT__REGION_PAGE_TABLES);
        bool got = (bm[a / PAGE / 64] >> (a / PAGE % 64)) & 1;
        cr_assert_eq(got, want, "page 0x%llx: in the writable set %d, want %d",
                     (unsigned long long)a, got, want);
    }
    free(bm);
}

static void expect_fault(const struct glint__regions *m, uint64_t addr, uint64_t err,
                         const char *want)
{
    char buf[160];
    glint__mem_describe_fault(buf, sizeof buf, m, addr, err);
    cr_assert_str_eq(buf, want, "0x%llx err 0x%llx", (unsigned long long)addr,
                     (unsigned long long)err);
}

/* Error code bits: P 1, W 2, U 4, RSVD 8, I 0x10. */
Test(memory_map, fault_messages_name_the_cause_and_the_region)
{
    struct glint__elf elf;
    struct glint__layout l;
    struct glint__regions m;
    small_guest(&elf, &l, &m);
    expect_fault(&m, 0x8, 0x6, "null pointer dereference");
    expect_fault(&m, l.guard_addr + 8, 0x6, "stack overflow into the guard page");
    expect_fault(&m, 0x202000, 0x7, "write to read-only memory in ELF segment 1 (read-only data)");
    expect_fault(&m, 0x200010, 0x7, "write to read-only memory in ELF segment 0 (code)");
    expect_fault(&m, 0x205000, 0x15,
                 "instruction fetch from non-executable memory in ELF segment 2 (data)");
    expect_fault(&m, GLINT_ABI_XSTACK_ADDR, 0x7,
                 "write to supervisor-only memory in the exception stack");
    expect_fault(&m, GLINT_ABI_STUBS_ADDR, 0x15,
                 "instruction fetch from supervisor-only memory in the exception stubs");
    expect_fault(&m, GLINT_ABI_PT_ADDR, 0x6, "write to unmapped memory in the page tables");
    expect_fault(&m, 0x15000, 0x14, "instruction fetch from unmapped memory in a guard page");
    expect_fault(&m, 0x203000, 0x4, "read of unmapped memory");
    expect_fault(&m, l.heap_addr, 0x15, "instruction fetch from non-executable memory in the heap");
    expect_fault(&m, l.heap_addr, 0xf, "reserved bit set in a page-table entry");
    expect_fault(&m, l.heap_addr, 0x7,
                 "fault on a page the page tables allow (not caused by its permissions) in the "
                 "heap");
}
