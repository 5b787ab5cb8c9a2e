/* The one descriptor table: the segments glint defines, as GDT bytes and as loaded registers. */
#include "x86/descriptors.h"

#include <string.h>

#include "glint/abi.h"
#include "x86/cpu.h"

/* Flat 4 GiB segments (ignored in 64-bit mode but for DPL, L and D/B), and
 * the TSS. Accessed bits are preset: the GDT page is read-only even to CPL0,
 * so the CPU must never need to set them; the TSS is marked busy, as loading
 * TR would. */
static const struct glint__x86_segment table[GLINT__SEG_COUNT] = {
    [GLINT__SEG_KCODE] = {.limit = 0xffffffff,
                          .selector = GLINT__SEL_KCODE,
                          .type = GLINT__SEG_TYPE_CODE_RX_A,
                          .s = 1,
                          .dpl = 0,
                          .present = 1,
                          .l = 1,
                          .g = 1},
    [GLINT__SEG_KDATA] = {.limit = 0xffffffff,
                          .selector = GLINT__SEL_KDATA,
                          .type = GLINT__SEG_TYPE_DATA_RW_A,
                          .s = 1,
                          .dpl = 0,
                          .present = 1,
                          .db = 1,
                          .g = 1},
    [GLINT__SEG_UDATA] = {.limit = 0xffffffff,
                          .selector = GLINT__SEL_UDATA | 3,
                          .type = GLINT__SEG_TYPE_DATA_RW_A,
                          .s = 1,
                          .dpl = 3,
                          .present = 1,
                          .db = 1,
                          .g = 1},
    [GLINT__SEG_UCODE] = {.limit = 0xffffffff,
                          .selector = GLINT__SEL_UCODE | 3,
                          .type = GLINT__SEG_TYPE_CODE_RX_A,
                          .s = 1,
                          .dpl = 3,
                          .present = 1,
                          .l = 1,
                          .g = 1},
    [GLINT__SEG_TSS] = {.base = GLINT_ABI_TSS_ADDR,
                        .limit = GLINT__TSS_LIMIT,
                        .selector = GLINT__SEL_TSS,
                        .type = GLINT__SEG_TYPE_TSS64_BUSY,
                        .s = 0,
                        .dpl = 0,
                        .present = 1},
};

const struct glint__x86_segment *glint__x86_segment(enum glint__x86_seg_id id)
{
    return &table[id];
}

/* The 8-byte descriptor of s (SDM Vol. 3A 3.4.5, figure 3-8); for a system
 * descriptor in IA-32e mode, its low half (figure 8-4). */
static uint64_t descriptor(const struct glint__x86_segment *s)
{
    uint64_t lim = s->g ? s->limit >> 12 : s->limit; /* 20 bits */
    return (lim & 0xffff) | ((s->base & 0xffffff) << 16) |
           ((uint64_t)(s->type & 0xf) << GLINT__DESC_TYPE_SHIFT) | (s->s ? GLINT__DESC_S : 0) |
           ((uint64_t)(s->dpl & 3) << GLINT__DESC_DPL_SHIFT) | (s->present ? GLINT__DESC_P : 0) |
           (((lim >> 16) & 0xf) << 48) | (s->avl ? GLINT__DESC_AVL : 0) |
           (s->l ? GLINT__DESC_L : 0) | (s->db ? GLINT__DESC_DB : 0) | (s->g ? GLINT__DESC_G : 0) |
           (((s->base >> 24) & 0xff) << 56);
}

void glint__x86_gdt_encode(uint8_t *gdt)
{
    memset(gdt, 0, GLINT__GDT_SIZE); /* entry 0: the null descriptor */
    for (int i = 0; i < GLINT__SEG_COUNT; i++) {
        const struct glint__x86_segment *s = &table[i];
        uint64_t off = s->selector & ~7u, lo = descriptor(s);
        memcpy(gdt + off, &lo, sizeof lo);
        if (!s->s) { /* 16-byte system descriptor: base 63:32 above */
            uint64_t hi = s->base >> 32;
            memcpy(gdt + off + 8, &hi, sizeof hi);
        }
    }
}
