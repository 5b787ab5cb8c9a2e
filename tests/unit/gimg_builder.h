/* Test helper: a valid synthetic image file (.gimg) in memory, and re-sealing after a change. */
#ifndef GLINT_TEST_GIMG_BUILDER_H
#define GLINT_TEST_GIMG_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "load/gimg.h"

/* Layout: header, table, CONFIG, SEGMENTS (code, data), EXPORTS (Echo, Add),
 * HOSTFNS (Log), VCPU (legacy FPU, 512 bytes), PAGE_INDEX (3 pages), then
 * PAGE_DATA at a page boundary. mem_size is GIMGB_MEM_SIZE. */
#define GIMGB_MEM_SIZE (4ull << 20)
#define GIMGB_PAGES    3u

struct gimgb {
    uint8_t *data; /* 4 KiB aligned */
    size_t len;
    struct glint__gimg_section sec[GLINT__GIMG_SECTIONS];
};

int gimgb_build(struct gimgb *b);
void gimgb_free(struct gimgb *b);

/* The header, the section table entry for kind, the start of section kind's bytes. */
struct glint__gimg_header *gimgb_header(struct gimgb *b);
struct glint__gimg_section *gimgb_entry(struct gimgb *b, uint32_t kind);
void *gimgb_section(struct gimgb *b, uint32_t kind);

/* Recompute the checksum after changing bytes (so a field's own check fires). */
void gimgb_seal(uint8_t *data, size_t len);

#endif
