/* The one descriptor table: the segments glint defines, as GDT bytes and as loaded registers. */
#ifndef GLINT_X86_DESCRIPTORS_H
#define GLINT_X86_DESCRIPTORS_H

#include <stdint.h>

/*
 * Every segment glint uses is one row of a table (descriptors.c). The GDT the
 * host writes into guest memory is encoded from it (glint__x86_gdt_encode) and
 * the segment registers a backend loads are read from it (glint__x86_segment),
 * so the two cannot disagree. Hypervisor-neutral: the KVM backend converts a
 * row to its struct kvm_segment.
 */

/* A segment as the CPU holds it in a segment register (SDM Vol. 3A 3.4.3):
 * limit in bytes (already scaled by g), selector with its RPL. */
struct glint__x86_segment {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint8_t type;    /* GLINT__SEG_TYPE_* (cpu.h) */
    uint8_t s;       /* 1: code/data, 0: system */
    uint8_t dpl;     /* descriptor privilege level 0..3 */
    uint8_t present; /* P */
    uint8_t avl, l, db, g;
};

/* The rows of the table, in GDT order. */
enum glint__x86_seg_id {
    GLINT__SEG_KCODE, /* CPL0 64-bit code: the exception stubs */
    GLINT__SEG_KDATA, /* CPL0 data */
    GLINT__SEG_UDATA, /* CPL3 data: SS, DS, ES, FS, GS at entry */
    GLINT__SEG_UCODE, /* CPL3 64-bit code: CS at entry */
    GLINT__SEG_TSS,   /* the 64-bit TSS: TR (a 16-byte system descriptor) */
    GLINT__SEG_COUNT
};

/* GDT selectors (index * 8; the user ones are loaded with RPL 3). */
#define GLINT__SEL_KCODE 0x08
#define GLINT__SEL_KDATA 0x10
#define GLINT__SEL_UDATA 0x18
#define GLINT__SEL_UCODE 0x20
#define GLINT__SEL_TSS   0x28
#define GLINT__GDT_SIZE  0x38 /* null descriptor, four 8-byte rows, one 16-byte TSS row */
#define GLINT__GDT_LIMIT (GLINT__GDT_SIZE - 1)

/* TSS: 104-byte 64-bit TSS, then the I/O permission bitmap for ports
 * 0..255, then the 0xff terminator byte the CPU may read (SDM Vol. 1 19.5.2). */
#define GLINT__TSS_IOPB_OFFSET 104
#define GLINT__TSS_LIMIT       (GLINT__TSS_IOPB_OFFSET + 32 + 1 - 1)

/* The row for id (id < GLINT__SEG_COUNT). */
const struct glint__x86_segment *glint__x86_segment(enum glint__x86_seg_id id);

/* Write the GDT (GLINT__GDT_SIZE bytes) encoded from the table into gdt. */
void glint__x86_gdt_encode(uint8_t *gdt);

#endif
