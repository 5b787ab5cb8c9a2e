/* Writes the malformed-image-file corpus (one file per defect) and its MANIFEST into argv[1]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/gimg_builder.h"

/*
 * Every case starts from the synthetic valid image file of tests/unit/gimg_builder.c and breaks
 * exactly one thing; the parser must reject it with the listed code and a message containing
 * the listed text. Cases that change a field recompute the checksum, so that the field's own
 * check is what fires; the checksum cases flip a byte and keep the old checksum. The output
 * depends on nothing but this file and the builder, so regenerating is byte-identical.
 *
 * MANIFEST: one line per file, "<file> <EIMAGE|EABI> <message substring>". A file without the
 * magic is not an image file at all (readers take it for an ELF), so no case breaks the magic
 * (tests/unit/test_gimg.c checks the parser's own magic check).
 */

struct change {
    uint32_t kind; /* section (0: the header), offset of `bytes` inside it */
    uint64_t at;
    uint64_t value;
    uint32_t width; /* bytes of value written (1, 4 or 8) */
};

struct gen_case {
    const char *file, *code, *msg;
    struct change c;
    int keep_crc;     /* 1: do not recompute the checksum */
    int64_t truncate; /* > 0: keep only this many bytes; < 0: drop this many */
};

#define H(field)  0, offsetof(struct glint__gimg_header, field)
#define C(field)  GLINT__GIMG_CONFIG, offsetof(struct glint__gimg_config, field)
#define V(field)  GLINT__GIMG_VCPU, offsetof(struct glint__gimg_vcpu, field)
#define T(k, fld) (GLINT__GIMG_SECTIONS + 1 + (k)), offsetof(struct glint__gimg_section, fld)
#define SEG(i, f)                                                                                  \
    GLINT__GIMG_SEGMENTS,                                                                          \
        (i) * sizeof(struct glint__gimg_segment) + offsetof(struct glint__gimg_segment, f)
#define FN(s, i, f) s, (i) * sizeof(struct glint__gimg_fn) + offsetof(struct glint__gimg_fn, f)

static const struct gen_case cases[] = {
    /* versions: refused by name, before the checksum is even looked at */
    {"version-format-2.gimg",
     "EABI",
     "header.format_version 2, this library reads version 1",
     {H(format_version), 2, 4},
     1,
     0},
    {"version-format-0.gimg", "EABI", "header.format_version 0", {H(format_version), 0, 4}, 1, 0},
    {"version-abi-next.gimg",
     "EABI",
     "header.abi_version",
     {H(abi_version), GLINT_ABI_VERSION + 1, 4},
     1,
     0},
    {"version-abi-1.gimg", "EABI", "header.abi_version 1", {H(abi_version), 1, 4}, 1, 0},
    /* truncation: at every section boundary and inside the header */
    {"trunc-0063.gimg", "EIMAGE", "too short for the 64-byte header", {0, 0, 0, 0}, 0, 63},
    {"trunc-0064-table.gimg", "EIMAGE", "truncated?", {0, 0, 0, 0}, 0, 64},
    {"trunc-0100-in-table.gimg", "EIMAGE", "truncated?", {0, 0, 0, 0}, 0, 100},
    {"trunc-last-byte.gimg", "EIMAGE", "truncated?", {0, 0, 0, 0}, 0, -1},
    {"trunc-last-page.gimg", "EIMAGE", "truncated?", {0, 0, 0, 0}, 0, -4096},
    /* the checksum: a flipped byte anywhere */
    {"flip-config.gimg", "EIMAGE", "header.checksum", {C(heap_size), 0x20001, 8}, 1, 0},
    {"flip-exports.gimg",
     "EIMAGE",
     "(the file is corrupt)",
     {FN(GLINT__GIMG_EXPORTS, 0, name), 'F', 1},
     1,
     0},
    {"flip-page-data.gimg",
     "EIMAGE",
     "header.checksum",
     {GLINT__GIMG_PAGE_DATA, 4097, 0x33, 1},
     1,
     0},
    {"flip-table.gimg", "EIMAGE", "header.checksum", {T(2, size), 0xc1, 1}, 1, 0},
    /* each header field */
    {"hdr-header-size.gimg",
     "EIMAGE",
     "header.header_size 128, want 64",
     {H(header_size), 128, 4},
     0,
     0},
    {"hdr-file-size.gimg", "EIMAGE", "header.file_size", {H(file_size), 1ull << 40, 8}, 0, 0},
    {"hdr-flags.gimg", "EIMAGE", "header.flags 0x4", {H(flags), 4, 4}, 0, 0},
    {"hdr-reserved.gimg",
     "EIMAGE",
     "header.reserved bytes are not zero",
     {H(reserved), 1, 1},
     0,
     0},
    {"hdr-section-count.gimg",
     "EIMAGE",
     "header.section_count 6, want 7",
     {H(section_count), 6, 4},
     0,
     0},
    /* the section table */
    {"sec-kind.gimg", "EIMAGE", "section 0 has kind 2, want 1 (CONFIG)", {T(0, kind), 2, 4}, 0, 0},
    {"sec-reserved.gimg",
     "EIMAGE",
     "section VCPU reserved field not zero",
     {T(4, reserved), 9, 4},
     0,
     0},
    {"sec-unaligned.gimg", "EIMAGE", "section SEGMENTS offset", {T(1, offset), 0x101, 8}, 0, 0},
    {"sec-data-unaligned.gimg",
     "EIMAGE",
     "section PAGE_DATA offset 0x808 is not 4096-byte",
     {T(6, offset), 0x808, 8},
     0,
     0},
    {"sec-overlap.gimg",
     "EIMAGE",
     "section SEGMENTS at 0x100 overlaps",
     {T(1, offset), 0x100, 8},
     0,
     0},
    {"sec-into-table.gimg",
     "EIMAGE",
     "section CONFIG at 0x40 overlaps",
     {T(0, offset), 0x40, 8},
     0,
     0},
    {"sec-past-end.gimg", "EIMAGE", "section PAGE_DATA", {T(6, size), 1ull << 20, 8}, 0, 0},
    {"sec-size-wraps.gimg",
     "EIMAGE",
     "extends past the end of the file",
     {T(5, size), ~0ull - 7, 8},
     0,
     0},
    /* CONFIG */
    {"cfg-heap-unaligned.gimg",
     "EIMAGE",
     "config.heap_size 131073",
     {C(heap_size), 131073, 8},
     0,
     0},
    {"cfg-heap-huge.gimg", "EIMAGE", "config.heap_size", {C(heap_size), 1ull << 30, 8}, 0, 0},
    {"cfg-stack-small.gimg", "EIMAGE", "config.stack_size 4096", {C(stack_size), 4096, 8}, 0, 0},
    {"cfg-input-zero.gimg", "EIMAGE", "config.input_size 0", {C(input_size), 0, 8}, 0, 0},
    {"cfg-mem-huge.gimg", "EIMAGE", "config.mem_size", {C(mem_size), 1ull << 31, 8}, 0, 0},
    {"cfg-flags.gimg",
     "EIMAGE",
     "config.guest_flags has unknown bits",
     {C(guest_flags), 0x100, 4},
     0,
     0},
    {"cfg-features.gimg",
     "EIMAGE",
     "config.guest_features has unknown bits",
     {C(guest_features), 0x80, 4},
     0,
     0},
    {"cfg-budget.gimg", "EIMAGE", "does not enforce budgets", {C(budget), 1000, 8}, 0, 0},
    {"cfg-library.gimg",
     "EIMAGE",
     "config.library padding is not zero",
     {GLINT__GIMG_CONFIG, offsetof(struct glint__gimg_config, library) + 30, 'x', 1},
     0,
     0},
    {"cfg-entry-data.gimg",
     "EIMAGE",
     "config.entry 0x201000 is not in a code segment",
     {C(entry), 0x201000, 8},
     0,
     0},
    /* SEGMENTS */
    {"seg-wx.gimg", "EIMAGE", "segment 1 has bad flags 0x7", {SEG(1, flags), 7, 4}, 0, 0},
    {"seg-no-rights.gimg", "EIMAGE", "segment 0 has bad flags 0x0", {SEG(0, flags), 0, 4}, 0, 0},
    {"seg-low.gimg", "EIMAGE", "outside guest image space", {SEG(0, vaddr), 0x1000, 8}, 0, 0},
    {"seg-wraps.gimg",
     "EIMAGE",
     "outside guest image space",
     {SEG(1, memsz), ~0ull - 0xfff, 8},
     0,
     0},
    {"seg-shared-page.gimg", "EIMAGE", "share a page", {SEG(1, vaddr), 0x200800, 8}, 0, 0},
    {"seg-filesz.gimg",
     "EIMAGE",
     "segment 0 filesz exceeds memsz",
     {SEG(0, filesz), 0x1001, 8},
     0,
     0},
    /* EXPORTS and HOSTFNS */
    {"fn-name.gimg",
     "EIMAGE",
     "export 1 has an invalid name",
     {FN(GLINT__GIMG_EXPORTS, 1, name), '-', 1},
     0,
     0},
    {"fn-type.gimg",
     "EIMAGE",
     "export 'Echo' has unknown return type 42",
     {FN(GLINT__GIMG_EXPORTS, 0, ret), 42, 1},
     0,
     0},
    {"fn-nparams.gimg",
     "EIMAGE",
     "export 'Add' has 200 parameters",
     {FN(GLINT__GIMG_EXPORTS, 1, nparams), 200, 1},
     0,
     0},
    {"fn-reserved.gimg",
     "EIMAGE",
     "host function 'Log' reserved bytes are not zero",
     {FN(GLINT__GIMG_HOSTFNS, 0, reserved), 1, 1},
     0,
     0},
    /* VCPU */
    {"vcpu-iopl.gimg",
     "EIMAGE",
     "rflags 0x3002 sets bits CPL3 code cannot",
     {GLINT__GIMG_VCPU, 8 * GLINT__GIMG_RFLAGS, 0x3002, 8},
     0,
     0},
    {"vcpu-if.gimg",
     "EIMAGE",
     "rflags 0x202",
     {GLINT__GIMG_VCPU, 8 * GLINT__GIMG_RFLAGS, 0x202, 8},
     0,
     0},
    {"vcpu-rip.gimg",
     "EIMAGE",
     "vcpu rip 0xffffffff80000000 is outside guest memory",
     {GLINT__GIMG_VCPU, 8 * GLINT__GIMG_RIP, 0xffffffff80000000ull, 8},
     0,
     0},
    {"vcpu-format.gimg", "EIMAGE", "vcpu.fp_format 7 unknown", {V(fp_format), 7, 4}, 0, 0},
    {"vcpu-fp-size.gimg", "EIMAGE", "vcpu.fp_size 4096 does not fit", {V(fp_size), 4096, 4}, 0, 0},
    /* pages */
    {"page-outside.gimg",
     "EIMAGE",
     "page 1024 lies outside guest memory (1024 pages)",
     {GLINT__GIMG_PAGE_INDEX, 8, 1024, 4},
     0,
     0},
    {"page-huge.gimg",
     "EIMAGE",
     "page 4294967295 lies outside",
     {GLINT__GIMG_PAGE_INDEX, 8, 0xffffffffu, 4},
     0,
     0},
    {"page-unsorted.gimg",
     "EIMAGE",
     "not strictly ascending at entry 1",
     {GLINT__GIMG_PAGE_INDEX, 4, 0x200, 4},
     0,
     0},
};

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen-malformed-gimg DIR\n");
        return 2;
    }
    char manifest[4096];
    snprintf(manifest, sizeof manifest, "%s/MANIFEST", argv[1]);
    FILE *m = fopen(manifest, "w");
    if (!m) {
        perror(manifest);
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct gen_case *k = &cases[i];
        struct gimgb b;
        if (gimgb_build(&b) != 0)
            return 1;
        if (k->c.width) {
            uint8_t *at;
            if (k->c.kind == 0)
                at = b.data + k->c.at;
            else if (k->c.kind > GLINT__GIMG_SECTIONS)
                at = (uint8_t *)gimgb_entry(&b, k->c.kind - GLINT__GIMG_SECTIONS) + k->c.at;
            else
                at = (uint8_t *)gimgb_section(&b, k->c.kind) + k->c.at;
            memcpy(at, &k->c.value, k->c.width); /* little-endian: the low bytes */
        }
        size_t len = b.len;
        if (k->truncate > 0)
            len = (size_t)k->truncate;
        else if (k->truncate < 0)
            len = (size_t)-k->truncate >= len ? 0 : len - (size_t)-k->truncate;
        if (!k->keep_crc && len == b.len)
            gimgb_seal(b.data, b.len);
        write_file(argv[1], k->file, b.data, len);
        fprintf(m, "%s %s %s\n", k->file, k->code, k->msg);
        gimgb_free(&b);
    }
    if (fclose(m) != 0) {
        perror(manifest);
        return 1;
    }
    printf("gen-malformed-gimg: %zu cases\n", sizeof cases / sizeof cases[0]);
    return 0;
}
