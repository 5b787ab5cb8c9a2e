/* Unit tests: the GDT bytes decode to exactly the descriptor table the vCPU's segments come from.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "glint/abi.h"
#include "x86/cpu.h"
#include "x86/descriptors.h"

/* Decode the descriptor at selector sel of gdt, as the CPU loads it (SDM Vol. 3A 3.4.5). */
static struct glint__x86_segment decode(const uint8_t *gdt, uint16_t sel)
{
    uint64_t lo, hi = 0;
    memcpy(&lo, gdt + (sel & ~7u), 8);
    struct glint__x86_segment s = {
        .selector = sel,
        .type = (uint8_t)((lo >> 40) & 0xf),
        .s = (uint8_t)((lo >> 44) & 1),
        .dpl = (uint8_t)((lo >> 45) & 3),
        .present = (uint8_t)((lo >> 47) & 1),
        .avl = (uint8_t)((lo >> 52) & 1),
        .l = (uint8_t)((lo >> 53) & 1),
        .db = (uint8_t)((lo >> 54) & 1),
        .g = (uint8_t)((lo >> 55) & 1),
    };
    uint32_t lim = (uint32_t)((lo & 0xffff) | ((lo >> 32) & 0xf0000));
    s.limit = s.g ? (lim << 12) | 0xfff : lim;
    if (!s.s) /* 16-byte system descriptor */
        memcpy(&hi, gdt + (sel & ~7u) + 8, 8);
    s.base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | (hi & 0xffffffff) << 32;
    return s;
}

Test(descriptors, gdt_bytes_decode_to_the_table)
{
    uint8_t gdt[GLINT__GDT_SIZE];
    memset(gdt, 0xa5, sizeof gdt);
    glint__x86_gdt_encode(gdt);
    uint64_t null;
    memcpy(&null, gdt, 8);
    cr_assert_eq(null, 0, "entry 0 is the null descriptor");
    for (int id = 0; id < GLINT__SEG_COUNT; id++) {
        const struct glint__x86_segment *want = glint__x86_segment(id);
        struct glint__x86_segment got = decode(gdt, want->selector);
        got.selector = want->selector;
        cr_assert_eq(memcmp(&got, want, sizeof got), 0,
                     "row %d (selector 0x%x): GDT has base 0x%llx limit 0x%x type %u s %u dpl %u "
                     "p %u l %u db %u g %u",
                     id, want->selector, (unsigned long long)got.base, got.limit, got.type, got.s,
                     got.dpl, got.present, got.l, got.db, got.g);
    }
}

/* What the rest of glint relies on: CPL3 flat 64-bit code and data, a busy 64-bit TSS at the ABI
 * address, and the privilege level in each selector's RPL. */
Test(descriptors, the_table_is_the_abi)
{
    const struct glint__x86_segment *cs = glint__x86_segment(GLINT__SEG_UCODE);
    const struct glint__x86_segment *ds = glint__x86_segment(GLINT__SEG_UDATA);
    const struct glint__x86_segment *kcs = glint__x86_segment(GLINT__SEG_KCODE);
    const struct glint__x86_segment *tr = glint__x86_segment(GLINT__SEG_TSS);
    cr_assert(cs->dpl == 3 && (cs->selector & 3) == 3 && cs->l && !cs->db && cs->s);
    cr_assert(ds->dpl == 3 && (ds->selector & 3) == 3 && ds->db && !ds->l && ds->s);
    cr_assert(kcs->dpl == 0 && kcs->selector == GLINT__SEL_KCODE && kcs->l);
    cr_assert_eq(tr->base, GLINT_ABI_TSS_ADDR);
    cr_assert_eq(tr->limit, GLINT__TSS_LIMIT);
    cr_assert(tr->type == GLINT__SEG_TYPE_TSS64_BUSY && !tr->s && tr->present);
    for (int id = 0; id < GLINT__SEG_COUNT; id++)
        cr_assert_lt(glint__x86_segment(id)->selector & ~7u, GLINT__GDT_SIZE);
}

/* The bytes glint has always written (accessed bits preset, the TSS busy). */
Test(descriptors, gdt_bytes_unchanged)
{
    uint8_t gdt[GLINT__GDT_SIZE];
    glint__x86_gdt_encode(gdt);
    static const uint64_t want[7] = {0,
                                     0x00af9b000000ffffull,
                                     0x00cf93000000ffffull,
                                     0x00cff3000000ffffull,
                                     0x00affb000000ffffull,
                                     0x00008b0130000088ull,
                                     0};
    for (int i = 0; i < 7; i++) {
        uint64_t got;
        memcpy(&got, gdt + 8 * i, 8);
        cr_assert_eq(got, want[i], "GDT entry %d: 0x%016llx, want 0x%016llx", i,
                     (unsigned long long)got, (unsigned long long)want[i]);
    }
}
