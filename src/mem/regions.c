/* THE memory map: one table of guest regions from which page tables, restore's writable set and
 * fault messages are all generated. */
#include "mem/regions.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/error.h"
#include "x86/cpu.h"

#define PAGE         GLINT_ABI_PAGE_SIZE
#define PAGE_DOWN(x) ((x) & ~(uint64_t)(PAGE - 1))
#define PAGE_UP(x)   (((x) + PAGE - 1) & ~(uint64_t)(PAGE - 1))

#define R  GLINT__MEM_READ
#define W  GLINT__MEM_WRITE
#define X  GLINT__MEM_EXEC
#define US GLINT__MEM_USER

static void add(struct glint__regions *m, uint64_t addr, uint64_t size, uint8_t perms,
                enum glint__region_kind kind, uint8_t segment)
{
    m->r[m->count++] = (struct glint__region){
        .addr = PAGE_DOWN(addr),
        .size = PAGE_UP(addr + size) - PAGE_DOWN(addr),
        .perms = perms,
        .kind = (uint8_t)kind,
        .segment = segment,
    };
}

static uint8_t segment_perms(uint32_t flags)
{
    return (uint8_t)(US | R | (flags & GLINT__SEG_W ? W : 0) | (flags & GLINT__SEG_X ? X : 0));
}

int glint__mem_regions_build(const struct glint__layout *l, const struct glint__elf *elf,
                             struct glint__regions *m)
{
    m->count = 0;
    m->mem_size = l->mem_size;
    /* The system area, fixed by the ABI (glint/abi.h). */
    add(m, 0, GLINT_ABI_NULL_GUARD_END, 0, GLINT__REGION_NULL_GUARD, 0);
    add(m, GLINT_ABI_BOOT_ADDR, PAGE, US | R, GLINT__REGION_BOOT, 0);
    add(m, GLINT_ABI_GDT_ADDR, PAGE, R, GLINT__REGION_GDT, 0);
    add(m, GLINT_ABI_IDT_ADDR, PAGE, R, GLINT__REGION_IDT, 0);
    add(m, GLINT_ABI_TSS_ADDR, PAGE, R, GLINT__REGION_TSS, 0);
    add(m, GLINT_ABI_STUBS_ADDR, PAGE, R | X, GLINT__REGION_STUBS, 0);
    add(m, GLINT_ABI_STUBS_ADDR + PAGE, GLINT_ABI_XSTACK_ADDR - (GLINT_ABI_STUBS_ADDR + PAGE), 0,
        GLINT__REGION_GUARD, 0);
    add(m, GLINT_ABI_XSTACK_ADDR, GLINT_ABI_XSTACK_SIZE, R | W, GLINT__REGION_XSTACK, 0);
    add(m, GLINT_ABI_XSTACK_ADDR + GLINT_ABI_XSTACK_SIZE,
        GLINT_ABI_PT_ADDR - (GLINT_ABI_XSTACK_ADDR + GLINT_ABI_XSTACK_SIZE), 0, GLINT__REGION_GUARD,
        0);
    add(m, GLINT_ABI_PT_ADDR, (uint64_t)l->pt_pages * PAGE, 0, GLINT__REGION_PAGE_TABLES, 0);
    add(m, GLINT_ABI_HOT_ADDR, PAGE, US | R | W, GLINT__REGION_HOT, 0);
    add(m, GLINT_ABI_TLS_ADDR, PAGE, US | R | W, GLINT__REGION_TLS, 0);
    /* The image, then what the layout placed after it. */
    for (uint32_t i = 0; i < elf->nsegs; i++)
        add(m, elf->segs[i].vaddr, elf->segs[i].memsz, segment_perms(elf->segs[i].flags),
            GLINT__REGION_SEGMENT, (uint8_t)i);
    add(m, l->heap_addr, l->heap_size, US | R | W, GLINT__REGION_HEAP, 0);
    add(m, l->guard_addr, PAGE, 0, GLINT__REGION_STACK_GUARD, 0);
    add(m, l->stack_addr, l->stack_size, US | R | W, GLINT__REGION_STACK, 0);
    add(m, l->input_addr, l->input_size, US | R | W, GLINT__REGION_INPUT, 0);
    add(m, l->output_addr, l->output_size, US | R | W, GLINT__REGION_OUTPUT, 0);
    /* Defence in depth: what the parser and the layout promise. */
    for (uint32_t i = 0; i < m->count; i++) {
        const struct glint__region *r = &m->r[i];
        bool overlaps = i > 0 && r->addr < m->r[i - 1].addr + m->r[i - 1].size;
        if (r->size == 0 || overlaps || r->addr + r->size > m->mem_size)
            return glint__fail(GLINT_EINVAL,
                               "memory map: region %u at 0x%llx (+0x%llx) is empty, overlaps "
                               "the one below or leaves guest memory",
                               i, (unsigned long long)r->addr, (unsigned long long)r->size);
    }
    return 0;
}

const struct glint__region *glint__mem_region_at(const struct glint__regions *m, uint64_t addr)
{
    for (uint32_t i = 0; i < m->count; i++)
        if (addr >= m->r[i].addr && addr - m->r[i].addr < m->r[i].size)
            return &m->r[i];
    return NULL;
}

int glint__mem_region_changes(const struct glint__region *r)
{
    return (r->perms & W) || r->kind == GLINT__REGION_PAGE_TABLES;
}

int glint__mem_region_built_by_host(const struct glint__region *r)
{
    switch (r->kind) {
    case GLINT__REGION_BOOT:
    case GLINT__REGION_TLS:
    case GLINT__REGION_GDT:
    case GLINT__REGION_IDT:
    case GLINT__REGION_TSS:
    case GLINT__REGION_STUBS:
    case GLINT__REGION_PAGE_TABLES:
        return 1;
    default:
        return 0;
    }
}

int glint__mem_writable_bitmap(const struct glint__regions *m, uint64_t **bitmap, size_t *words)
{
    size_t n = (size_t)((m->mem_size / PAGE + 63) / 64);
    uint64_t *bm = calloc(n, sizeof *bm);
    if (!bm)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < m->count; i++) {
        const struct glint__region *r = &m->r[i];
        if (!glint__mem_region_changes(r))
            continue;
        for (uint64_t p = r->addr / PAGE; p < (r->addr + r->size) / PAGE; p++)
            bm[p / 64] |= 1ull << (p % 64);
    }
    *bitmap = bm;
    *words = n;
    return 0;
}

void glint__mem_region_name(const struct glint__region *r, char *buf, size_t n)
{
    static const char *const names[] = {
        [GLINT__REGION_NULL_GUARD] = "the null guard",
        [GLINT__REGION_BOOT] = "the boot page",
        [GLINT__REGION_GDT] = "the GDT",
        [GLINT__REGION_IDT] = "the IDT",
        [GLINT__REGION_TSS] = "the TSS",
        [GLINT__REGION_STUBS] = "the exception stubs",
        [GLINT__REGION_GUARD] = "a guard page",
        [GLINT__REGION_XSTACK] = "the exception stack",
        [GLINT__REGION_PAGE_TABLES] = "the page tables",
        [GLINT__REGION_SEGMENT] = "ELF segment",
        [GLINT__REGION_HEAP] = "the heap",
        [GLINT__REGION_STACK_GUARD] = "the stack guard page",
        [GLINT__REGION_STACK] = "the stack",
        [GLINT__REGION_INPUT] = "the input buffer",
        [GLINT__REGION_OUTPUT] = "the output buffer",
        [GLINT__REGION_TLS] = "the TLS page",
        [GLINT__REGION_HOT] = "the hot mailbox",
    };
    if (r->kind != GLINT__REGION_SEGMENT) {
        snprintf(buf, n, "%s", names[r->kind]);
        return;
    }
    const char *what = (r->perms & X) ? "code" : (r->perms & W) ? "data" : "read-only data";
    snprintf(buf, n, "ELF segment %u (%s)", r->segment, what);
}

/* The access a #PF error code describes, as a row of `causes`. */
enum { FETCH, WRITE, READ };

void glint__mem_describe_fault(char *buf, size_t n, const struct glint__regions *m, uint64_t addr,
                               uint64_t err)
{
    const struct glint__region *r = glint__mem_region_at(m, addr);
    if (r && r->kind == GLINT__REGION_NULL_GUARD) {
        snprintf(buf, n, "null pointer dereference");
        return;
    }
    if (r && r->kind == GLINT__REGION_STACK_GUARD) {
        snprintf(buf, n, "stack overflow into the guard page");
        return;
    }
    if (err & GLINT__PF_RSVD) {
        snprintf(buf, n, "reserved bit set in a page-table entry");
        return;
    }
    static const char *const causes[3][4] = {
        /* unmapped, supervisor-only, read-only, non-executable */
        [FETCH] = {"instruction fetch from unmapped memory",
                   "instruction fetch from supervisor-only memory", NULL,
                   "instruction fetch from non-executable memory"},
        [WRITE] = {"write to unmapped memory", "write to supervisor-only memory",
                   "write to read-only memory", NULL},
        [READ] = {"read of unmapped memory", "read of supervisor-only memory", NULL, NULL},
    };
    int row = (err & GLINT__PF_I) ? FETCH : (err & GLINT__PF_W) ? WRITE : READ;
    uint8_t perms = r ? r->perms : 0;
    const char *cause;
    if (!(perms & R))
        cause = causes[row][0];
    else if ((err & GLINT__PF_U) && !(perms & US))
        cause = causes[row][1];
    else if (row == WRITE && !(perms & W))
        cause = causes[row][2];
    else if (row == FETCH && !(perms & X))
        cause = causes[row][3];
    else /* the tables allow the access: e.g. a hypervisor-side write (KVM patching code) */
        cause = "fault on a page the page tables allow (not caused by its permissions)";
    if (!r) {
        snprintf(buf, n, "%s", cause);
        return;
    }
    char name[48];
    glint__mem_region_name(r, name, sizeof name);
    snprintf(buf, n, "%s in %s", cause, name);
}
