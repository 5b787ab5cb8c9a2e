/* x86-64 system structures built by the host in guest memory: page tables, GDT, IDT, TSS, stubs. */
#include "x86/tables.h"

#include <string.h>

#define PAGE GLINT_ABI_PAGE_SIZE

#define PTE_P    GLINT__PTE_P
#define PTE_RW   GLINT__PTE_RW
#define PTE_US   GLINT__PTE_US
#define PTE_NX   GLINT__PTE_NX
#define PTE_PS   GLINT__PTE_PS
#define PTE_ADDR GLINT__PTE_ADDR

static void put64(uint8_t *mem, uint64_t addr, uint64_t v)
{
    memcpy(mem + addr, &v, sizeof v);
}

/* The leaf entry bits for a region's rights. */
static uint64_t pte_flags(uint8_t perms)
{
    return PTE_P | (perms & GLINT__MEM_WRITE ? PTE_RW : 0) |
           (perms & GLINT__MEM_USER ? PTE_US : 0) | (perms & GLINT__MEM_EXEC ? 0 : PTE_NX);
}

/* The mapped region holding all of the 2 MiB chunk at addr, or NULL: such a
 * chunk has one set of rights and is mapped by one PS=1 page-directory entry
 * (SDM Vol. 3A 4.5.4, table 4-17), not by a page table of 512 entries. */
static const struct glint__region *whole_chunk(const struct glint__regions *m, uint64_t addr)
{
    const struct glint__region *r = glint__mem_region_at(m, addr);
    if (!r || !(r->perms & GLINT__MEM_READ) || r->addr + r->size - addr < GLINT__LARGE_PAGE)
        return NULL;
    return r;
}

/* PML4 -> PDPT -> PD -> up to l->pt_pages - 3 page tables, identity mapping
 * the mapped regions of m. A 2 MiB chunk wholly inside one mapped region (the
 * interior of a large heap, say) is one 2 MiB page; every other chunk, with a
 * region boundary, a guard or a gap in it, has its page table of 4 KiB pages.
 * The page table of a 2 MiB chunk stays zero, so the image does not store it
 * and no sandbox copies it (8 bytes per 4 KiB page otherwise). */
static void build_page_tables(uint8_t *mem, const struct glint__regions *m,
                              const struct glint__layout *l)
{
    uint64_t pml4 = GLINT_ABI_PT_ADDR, pdpt = pml4 + PAGE, pd = pdpt + PAGE, pt = pd + PAGE;
    /* Upper levels allow everything; the leaf entries decide. */
    put64(mem, pml4, pdpt | PTE_P | PTE_RW | PTE_US);
    put64(mem, pdpt, pd | PTE_P | PTE_RW | PTE_US);
    for (uint32_t i = 0; i < l->pt_pages - 3; i++) {
        uint64_t chunk = (uint64_t)i * GLINT__LARGE_PAGE;
        const struct glint__region *r = whole_chunk(m, chunk);
        if (r)
            put64(mem, pd + 8ull * i, chunk | pte_flags(r->perms) | PTE_PS);
        else
            put64(mem, pd + 8ull * i, (pt + (uint64_t)i * PAGE) | PTE_P | PTE_RW | PTE_US);
    }
    for (uint32_t i = 0; i < m->count; i++) {
        const struct glint__region *r = &m->r[i];
        if (!(r->perms & GLINT__MEM_READ))
            continue; /* never mapped */
        for (uint64_t a = r->addr; a < r->addr + r->size; a += PAGE) {
            /* A chunk wholly inside r starts inside r: skip it at its start. */
            if (a % GLINT__LARGE_PAGE == 0 && whole_chunk(m, a)) {
                a += GLINT__LARGE_PAGE - PAGE;
                continue;
            }
            put64(mem, pt + (a / PAGE) * 8, a | pte_flags(r->perms));
        }
    }
}

int glint__x86_has_error_code(uint32_t v)
{
    /* SDM Vol. 3A 6.13 and table 6-1; #VC and #SX from the AMD APM Vol. 2 8.2. */
    return v == GLINT__VEC_DF || (v >= GLINT__VEC_TS && v <= GLINT__VEC_PF) || v == GLINT__VEC_AC ||
           v == GLINT__VEC_CP || v == GLINT__VEC_VC || v == GLINT__VEC_SX;
}

/* Each vector's CPL0 stub: [push $0;] mov $vector,%al; out %al,$FAULT; hlt; jmp .
 * The host reads the frame (error code, rip, cs, rflags, rsp, ss) from the
 * exception stack and CR2 from the vCPU. */
static void build_idt_and_stubs(uint8_t *mem)
{
    for (uint32_t v = 0; v < 256; v++) {
        uint64_t stub = GLINT_ABI_STUBS_ADDR + (uint64_t)v * GLINT__STUB_SIZE;
        uint8_t *p = mem + stub;
        if (!glint__x86_has_error_code(v)) {
            *p++ = 0x6a; /* push $0 */
            *p++ = 0x00;
        }
        *p++ = 0xb0; /* mov $v, %al */
        *p++ = (uint8_t)v;
        *p++ = 0xe6; /* out %al, $port */
        *p++ = GLINT_ABI_PORT_FAULT;
        *p++ = 0xf4; /* hlt */
        *p++ = 0xeb; /* jmp . */
        *p++ = 0xfe;
        /* Interrupt gate, present, DPL 0, IST 1 (SDM Vol. 3A 6.14.1, figure 6-8). */
        uint64_t lo = (stub & 0xffff) | ((uint64_t)GLINT__SEL_KCODE << 16) | (1ull << 32) |
                      ((uint64_t)GLINT__GATE_TYPE_INT64 << GLINT__DESC_TYPE_SHIFT) | GLINT__DESC_P |
                      (((stub >> 16) & 0xffff) << 48);
        put64(mem, GLINT_ABI_IDT_ADDR + 16ull * v, lo);
        put64(mem, GLINT_ABI_IDT_ADDR + 16ull * v + 8, stub >> 32);
    }
}

static void build_tss(uint8_t *mem)
{
    uint64_t tss = GLINT_ABI_TSS_ADDR;
    uint64_t top = GLINT_ABI_XSTACK_ADDR + GLINT_ABI_XSTACK_SIZE;
    put64(mem, tss + GLINT__TSS_RSP0_OFFSET, top);
    put64(mem, tss + GLINT__TSS_IST1_OFFSET, top);
    uint16_t iopb = GLINT__TSS_IOPB_OFFSET;
    memcpy(mem + tss + GLINT__TSS_IOPB_FIELD, &iopb, sizeof iopb);
    /* Deny every port ... */
    memset(mem + tss + GLINT__TSS_IOPB_OFFSET, 0xff, 33);
    /* ... but glint's three guest ports. */
    static const uint8_t ports[] = {GLINT_ABI_PORT_DONE, GLINT_ABI_PORT_HOSTCALL,
                                    GLINT_ABI_PORT_ABORT};
    for (size_t i = 0; i < sizeof ports; i++)
        mem[tss + GLINT__TSS_IOPB_OFFSET + ports[i] / 8] &= (uint8_t) ~(1u << (ports[i] % 8));
}

static void build_boot(uint8_t *mem, const struct glint__layout *l, uint64_t seed)
{
    struct glint_abi_boot b = {
        .magic = GLINT_ABI_BOOT_MAGIC,
        .abi_version = GLINT_ABI_VERSION,
        .heap_addr = l->heap_addr,
        .heap_size = l->heap_size,
        .stack_addr = l->stack_addr,
        .stack_size = l->stack_size,
        .input_addr = l->input_addr,
        .input_size = l->input_size,
        .output_addr = l->output_addr,
        .output_size = l->output_size,
        .memory_size = l->mem_size,
        .seed = seed,
        .hot_addr = GLINT_ABI_HOT_ADDR,
    };
    memcpy(mem + GLINT_ABI_BOOT_ADDR, &b, sizeof b);
}

/* splitmix64: spreads the image's seed into independent words. */
static uint64_t mix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The TCB (glint/abi.h) at the start of the TLS page; FS.base points at it. The canary's low
 * byte is zero like glibc's, so a string overflow cannot copy it out; never zero as a whole. */
static void build_tcb(uint8_t *mem, uint64_t seed)
{
    uint64_t state = seed;
    struct glint_abi_tcb t = {.self = GLINT_ABI_TLS_ADDR};
    t.stack_guard = mix(&state) & ~0xffull;
    if (t.stack_guard == 0)
        t.stack_guard = 0x676c696e74000000ull; /* "glint": a 2^-56 chance */
    t.pointer_guard = mix(&state);
    memcpy(mem + GLINT_ABI_TLS_ADDR, &t, sizeof t);
}

void glint__x86_build(uint8_t *mem, const struct glint__regions *m, const struct glint__layout *l,
                      uint64_t seed)
{
    build_page_tables(mem, m, l);
    glint__x86_gdt_encode(mem + GLINT_ABI_GDT_ADDR);
    build_idt_and_stubs(mem);
    build_tss(mem);
    build_boot(mem, l, seed);
    build_tcb(mem, seed);
}

int glint__x86_page_walk(const uint8_t *mem, uint64_t mem_size, uint64_t cr3, uint64_t addr,
                         uint64_t *phys, uint64_t *page_size)
{
    /* Canonical: bits 63:47 all equal (48-bit linear addresses). */
    uint64_t top = addr >> 47;
    if (top != 0 && top != 0x1ffff)
        return 0;
    int perms = GLINT__PAGE_PRESENT | GLINT__PAGE_WRITE | GLINT__PAGE_USER | GLINT__PAGE_EXEC;
    uint64_t table = cr3 & PTE_ADDR;
    for (int level = 3; level >= 0; level--) {
        /* The 4 KiB table must lie wholly inside guest memory. */
        if (mem_size < PAGE || table > mem_size - PAGE)
            return -1;
        uint64_t index = (addr >> (12 + 9 * level)) & 511;
        uint64_t e;
        memcpy(&e, mem + table + index * 8, sizeof e);
        if (!(e & PTE_P))
            return 0;
        if (!(e & PTE_RW))
            perms &= ~GLINT__PAGE_WRITE;
        if (!(e & PTE_US))
            perms &= ~GLINT__PAGE_USER;
        if (e & PTE_NX)
            perms &= ~GLINT__PAGE_EXEC;
        /* PS in a PDPT (1 GiB) or PD (2 MiB) entry maps the page itself; its
         * frame address starts at bit 30 or 21 (bit 12 is PAT there). */
        if (level == 0 || ((level == 1 || level == 2) && (e & PTE_PS))) {
            uint64_t size = 1ull << (12 + 9 * level);
            if (phys)
                *phys = (e & PTE_ADDR & ~(size - 1)) | (addr & (size - 1));
            if (page_size)
                *page_size = size;
            return perms;
        }
        table = e & PTE_ADDR;
    }
    return perms; /* not reached */
}

int glint__x86_page_perms(const uint8_t *mem, uint64_t mem_size, uint64_t cr3, uint64_t addr)
{
    return glint__x86_page_walk(mem, mem_size, cr3, addr, NULL, NULL);
}
