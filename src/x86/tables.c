/* x86-64 system structures built by the host in guest memory: page tables, GDT, IDT, TSS, stubs. */
#include "x86/tables.h"

#include <string.h>

#define PAGE GLINT_ABI_PAGE_SIZE

/* Page-table entry bits (SDM Vol. 3A 4.5). */
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_NX (1ull << 63)

static void put64(uint8_t *mem, uint64_t addr, uint64_t v)
{
    memcpy(mem + addr, &v, sizeof v);
}

static void map_range(uint8_t *mem, uint64_t addr, uint64_t size, uint64_t flags)
{
    uint64_t pt_base = GLINT_ABI_PT_ADDR + 3 * PAGE;
    for (uint64_t a = addr & ~(uint64_t)(PAGE - 1); a < addr + size; a += PAGE)
        put64(mem, pt_base + (a / PAGE) * 8, a | PTE_P | flags);
}

static void build_page_tables(uint8_t *mem, const struct glint__layout *l,
                              const struct glint__elf *elf)
{
    uint64_t pml4 = GLINT_ABI_PT_ADDR, pdpt = pml4 + PAGE, pd = pdpt + PAGE, pt = pd + PAGE;
    /* Upper levels allow everything; the leaf entries decide. */
    put64(mem, pml4, pdpt | PTE_P | PTE_RW | PTE_US);
    put64(mem, pdpt, pd | PTE_P | PTE_RW | PTE_US);
    for (uint32_t i = 0; i < l->pt_pages - 3; i++)
        put64(mem, pd + 8ull * i, (pt + (uint64_t)i * PAGE) | PTE_P | PTE_RW | PTE_US);

    map_range(mem, GLINT_ABI_BOOT_ADDR, PAGE, PTE_US | PTE_NX);
    map_range(mem, GLINT_ABI_GDT_ADDR, 3 * PAGE, PTE_NX); /* GDT, IDT, TSS */
    map_range(mem, GLINT_ABI_STUBS_ADDR, PAGE, 0);
    map_range(mem, GLINT_ABI_XSTACK_ADDR, GLINT_ABI_XSTACK_SIZE, PTE_RW | PTE_NX);
    for (uint32_t i = 0; i < elf->nsegs; i++) {
        const struct glint__segment *s = &elf->segs[i];
        uint64_t f = PTE_US;
        if (s->flags & GLINT__SEG_W)
            f |= PTE_RW;
        if (!(s->flags & GLINT__SEG_X))
            f |= PTE_NX;
        map_range(mem, s->vaddr, s->memsz, f);
    }
    map_range(mem, l->heap_addr, l->heap_size, PTE_US | PTE_RW | PTE_NX);
    map_range(mem, l->stack_addr, l->mem_size - l->stack_addr, PTE_US | PTE_RW | PTE_NX);
}

static void build_gdt(uint8_t *mem)
{
    /* Accessed bits preset: the GDT page is read-only even to CPL0. */
    put64(mem, GLINT_ABI_GDT_ADDR + GLINT__SEL_KCODE, 0x00af9b000000ffffull);
    put64(mem, GLINT_ABI_GDT_ADDR + GLINT__SEL_KDATA, 0x00cf93000000ffffull);
    put64(mem, GLINT_ABI_GDT_ADDR + GLINT__SEL_UDATA, 0x00cff3000000ffffull);
    put64(mem, GLINT_ABI_GDT_ADDR + GLINT__SEL_UCODE, 0x00affb000000ffffull);
    /* 64-bit TSS descriptor, 16 bytes, type 0xb (busy) (SDM Vol. 3A 8.2.3). */
    uint64_t base = GLINT_ABI_TSS_ADDR, lim = GLINT__TSS_LIMIT;
    uint64_t lo = (lim & 0xffff) | ((base & 0xffffff) << 16) | (0x8bull << 40) |
                  (((lim >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    put64(mem, GLINT_ABI_GDT_ADDR + GLINT__SEL_TSS, lo);
    put64(mem, GLINT_ABI_GDT_ADDR + GLINT__SEL_TSS + 8, base >> 32);
}

int glint__x86_has_error_code(uint32_t v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
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
        /* Interrupt gate, DPL 0, IST 1 (SDM Vol. 3A 6.14.1). */
        uint64_t lo = (stub & 0xffff) | ((uint64_t)GLINT__SEL_KCODE << 16) | (1ull << 32) |
                      (0x8eull << 40) | (((stub >> 16) & 0xffff) << 48);
        put64(mem, GLINT_ABI_IDT_ADDR + 16ull * v, lo);
        put64(mem, GLINT_ABI_IDT_ADDR + 16ull * v + 8, stub >> 32);
    }
}

static void build_tss(uint8_t *mem)
{
    uint64_t tss = GLINT_ABI_TSS_ADDR;
    uint64_t top = GLINT_ABI_XSTACK_ADDR + GLINT_ABI_XSTACK_SIZE;
    put64(mem, tss + 4, top);    /* RSP0 */
    put64(mem, tss + 0x24, top); /* IST1 */
    uint16_t iopb = GLINT__TSS_IOPB_OFFSET;
    memcpy(mem + tss + 0x66, &iopb, sizeof iopb);
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
    };
    memcpy(mem + GLINT_ABI_BOOT_ADDR, &b, sizeof b);
}

void glint__x86_build(uint8_t *mem, const struct glint__layout *l, const struct glint__elf *elf,
                      uint64_t seed)
{
    build_page_tables(mem, l, elf);
    build_gdt(mem);
    build_idt_and_stubs(mem);
    build_tss(mem);
    build_boot(mem, l, seed);
}

/* Page-walk entry bits beyond those above (SDM Vol. 3A 4.5, table 4-15..4-20). */
#define PTE_PS   (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull /* bits 51:12 */

int glint__x86_page_perms(const uint8_t *mem, uint64_t mem_size, uint64_t cr3, uint64_t addr)
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
        /* PS in a PDPT (1 GiB) or PD (2 MiB) entry maps the page itself. */
        if (level == 0 || ((level == 1 || level == 2) && (e & PTE_PS)))
            return perms;
        table = e & PTE_ADDR;
    }
    return perms; /* not reached */
}
