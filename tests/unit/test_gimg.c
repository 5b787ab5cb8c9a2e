/* Unit tests for the image-file parser (src/load/gimg.c): a synthetic file, truncated and
 * corrupted. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "gimg_builder.h"
#include "glint.h"
#include "load/gimg.h"
#include "runtime/error.h"

static struct gimgb b;

static void setup(void)
{
    cr_assert_eq(gimgb_build(&b), 0);
}

static void teardown(void)
{
    gimgb_free(&b);
}

TestSuite(gimg, .init = setup, .fini = teardown);

static void expect_at(const uint8_t *data, size_t len, int code, const char *needle, int line)
{
    struct glint__gimg g;
    glint__clear_error();
    int rc = glint__gimg_parse(data, len, &g);
    const char *msg = glint_errmsg();
    cr_assert_eq(rc, code, "line %d: rc %d (want %d), message \"%s\"", line, rc, code, msg);
    if (needle)
        cr_assert(strstr(msg, needle) != NULL, "line %d: message \"%s\" lacks \"%s\"", line, msg,
                  needle);
}
/* Parse b as it is now (after resealing it, so that the changed field's own check fires). */
#define expect_sealed(code, needle)                                                                \
    do {                                                                                           \
        gimgb_seal(b.data, b.len);                                                                 \
        expect_at(b.data, b.len, code, needle, __LINE__);                                          \
    } while (0)

Test(gimg, synthetic_file_is_accepted_with_every_record)
{
    struct glint__gimg g;
    cr_assert_eq(glint__gimg_parse(b.data, b.len, &g), 0, "%s", glint_errmsg());
    cr_assert_eq(g.nsegs, 2);
    cr_assert_eq(g.nexports, 2);
    cr_assert_str_eq(g.exports[1].name, "Add");
    cr_assert_eq(g.nhostfns, 1);
    cr_assert_str_eq(g.hostfns[0].name, "Log");
    cr_assert_eq(g.npages, GIMGB_PAGES);
    cr_assert_eq(g.pages[2], 0x3ff);
    cr_assert_eq(g.data_offset % 4096, 0);
    cr_assert_eq(g.config.mem_size, GIMGB_MEM_SIZE);
    cr_assert(glint__gimg_is_image(b.data, b.len));
}

Test(gimg, truncation_at_every_section_boundary_is_refused_as_truncated)
{
    for (uint32_t k = 1; k <= GLINT__GIMG_SECTIONS; k++) {
        const struct glint__gimg_section *s = gimgb_entry(&b, k);
        size_t cuts[] = {s->offset, s->offset + s->size / 2, s->offset + s->size - 1};
        for (size_t c = 0; c < 3; c++)
            expect_at(b.data, cuts[c], GLINT_EIMAGE, "truncated?", __LINE__);
    }
    expect_at(b.data, 100, GLINT_EIMAGE, "truncated?", __LINE__); /* inside the table */
    expect_at(b.data, 63, GLINT_EIMAGE, "too short for the 64-byte header", __LINE__);
    expect_at(b.data, 0, GLINT_EIMAGE, "too short", __LINE__);
}

Test(gimg, a_flipped_byte_in_any_section_is_a_checksum_error)
{
    for (uint32_t k = 1; k <= GLINT__GIMG_SECTIONS; k++) {
        const struct glint__gimg_section *s = gimgb_entry(&b, k);
        size_t at[] = {s->offset, s->offset + s->size - 1};
        for (size_t i = 0; i < 2; i++) {
            b.data[at[i]] ^= 0x01;
            expect_at(b.data, b.len, GLINT_EIMAGE, "header.checksum", __LINE__);
            b.data[at[i]] ^= 0x01;
        }
    }
    /* a flip in the section table or the header's reserved bytes too */
    b.data[sizeof(struct glint__gimg_header) + 30] ^= 0x80;
    expect_at(b.data, b.len, GLINT_EIMAGE, "(the file is corrupt)", __LINE__);
}

Test(gimg, another_format_version_or_abi_version_is_refused_by_name)
{
    gimgb_header(&b)->format_version = 2;
    expect_sealed(GLINT_EABI, "header.format_version 2, this library reads version 1");
    gimgb_header(&b)->format_version = GLINT__GIMG_FORMAT_VERSION;
    gimgb_header(&b)->abi_version = GLINT_ABI_VERSION + 1;
    expect_sealed(GLINT_EABI, "header.abi_version");
    gimgb_header(&b)->abi_version = GLINT_ABI_VERSION - 1;
    expect_sealed(GLINT_EABI, "guest ABI version");
}

Test(gimg, each_header_field_out_of_range_is_named)
{
    struct glint__gimg_header *h = gimgb_header(&b);
    h->magic[0] = 'X';
    expect_sealed(GLINT_EIMAGE, "header.magic");
    h->magic[0] = 'G';
    h->header_size = 65;
    expect_sealed(GLINT_EIMAGE, "header.header_size 65, want 64");
    h->header_size = 64;
    h->file_size = b.len + 1;
    expect_sealed(GLINT_EIMAGE, "header.file_size");
    h->file_size = b.len;
    h->flags = 1;
    expect_sealed(GLINT_EIMAGE, "header.flags 0x1");
    h->flags = 0;
    h->reserved[23] = 1;
    expect_sealed(GLINT_EIMAGE, "header.reserved");
    h->reserved[23] = 0;
    h->section_count = 8;
    expect_sealed(GLINT_EIMAGE, "header.section_count 8, want 7");
    h->section_count = GLINT__GIMG_SECTIONS;
    expect_sealed(0, NULL);
}

Test(gimg, overlapping_unaligned_misordered_or_outside_sections_are_refused)
{
    struct glint__gimg_section *s = gimgb_entry(&b, GLINT__GIMG_EXPORTS), keep = *s;
    s->offset += 4;
    expect_sealed(GLINT_EIMAGE, "section EXPORTS offset");
    *s = keep;
    s->offset -= 8; /* into SEGMENTS */
    expect_sealed(GLINT_EIMAGE, "section EXPORTS at");
    *s = keep;
    s->kind = GLINT__GIMG_HOSTFNS;
    expect_sealed(GLINT_EIMAGE, "section 2 has kind 4, want 3 (EXPORTS)");
    *s = keep;
    s->reserved = 1;
    expect_sealed(GLINT_EIMAGE, "section EXPORTS reserved");
    *s = keep;
    struct glint__gimg_section *d = gimgb_entry(&b, GLINT__GIMG_PAGE_DATA), dk = *d;
    d->offset += 8;
    expect_sealed(GLINT_EIMAGE, "section PAGE_DATA offset");
    *d = dk;
    d->size += 4096;
    expect_sealed(GLINT_EIMAGE, "extends past the end of the file");
    *d = dk;
    d->offset = UINT64_MAX & ~4095ull; /* offset + size would wrap */
    expect_sealed(GLINT_EIMAGE, "extends past the end");
    *d = dk;
    d->size -= 4096;
    expect_sealed(GLINT_EIMAGE, "bytes after the last section");
    *d = dk;
    expect_sealed(0, NULL);
}

Test(gimg, config_fields_out_of_range_are_named)
{
    struct glint__gimg_config *c = gimgb_section(&b, GLINT__GIMG_CONFIG), keep = *c;
    c->heap_size = 4097;
    expect_sealed(GLINT_EIMAGE, "config.heap_size 4097");
    *c = keep;
    c->stack_size = 4096;
    expect_sealed(GLINT_EIMAGE, "config.stack_size");
    *c = keep;
    c->output_size = 32ull << 20;
    expect_sealed(GLINT_EIMAGE, "config.output_size");
    *c = keep;
    c->mem_size = 2ull << 30;
    expect_sealed(GLINT_EIMAGE, "config.mem_size");
    *c = keep;
    c->guest_flags = 0x80;
    expect_sealed(GLINT_EIMAGE, "config.guest_flags");
    *c = keep;
    c->budget = 5;
    expect_sealed(GLINT_EIMAGE, "does not enforce budgets");
    *c = keep;
    memset(c->library, 'a', sizeof c->library);
    expect_sealed(GLINT_EIMAGE, "config.library is not NUL-terminated");
    *c = keep;
    c->library[30] = 'x';
    expect_sealed(GLINT_EIMAGE, "config.library padding");
    *c = keep;
    c->entry = 0x201000; /* the data segment */
    expect_sealed(GLINT_EIMAGE, "config.entry 0x201000 is not in a code segment");
    *c = keep;
    expect_sealed(0, NULL);
}

Test(gimg, segments_obey_the_elf_loaders_rules)
{
    struct glint__gimg_segment *s = gimgb_section(&b, GLINT__GIMG_SEGMENTS), k0 = s[0], k1 = s[1];
    s[1].flags = 7;
    expect_sealed(GLINT_EIMAGE, "segment 1 has bad flags 0x7");
    s[1] = k1;
    s[1].vaddr = 0x1000;
    expect_sealed(GLINT_EIMAGE, "outside guest image space");
    s[1] = k1;
    s[1].vaddr = 0x200800; /* shares the code segment's page */
    expect_sealed(GLINT_EIMAGE, "share a page");
    s[1] = k1;
    s[0].filesz = 0x2000;
    expect_sealed(GLINT_EIMAGE, "filesz exceeds memsz");
    s[0] = k0;
    s[1].memsz = UINT64_MAX - 0x1000; /* vaddr + memsz wraps */
    expect_sealed(GLINT_EIMAGE, "outside guest image space");
    s[1] = k1;
    struct glint__gimg_section *e = gimgb_entry(&b, GLINT__GIMG_SEGMENTS);
    e->size = 33;
    expect_sealed(GLINT_EIMAGE, "section SEGMENTS has 33 bytes");
}

Test(gimg, function_records_are_checked_like_elf_exports)
{
    struct glint__gimg_fn *x = gimgb_section(&b, GLINT__GIMG_EXPORTS), k0 = x[0], k1 = x[1];
    strcpy(x[1].name, "Echo");
    expect_sealed(GLINT_EIMAGE, "export 'Echo' appears twice");
    x[1] = k1;
    strcpy(x[0].name, "bad name");
    expect_sealed(GLINT_EIMAGE, "export 0 has an invalid name");
    x[0] = k0;
    x[0].name[60] = 'z';
    expect_sealed(GLINT_EIMAGE, "name padding");
    x[0] = k0;
    x[0].ret = 99;
    expect_sealed(GLINT_EIMAGE, "unknown return type 99");
    x[0] = k0;
    x[1].nparams = 17;
    expect_sealed(GLINT_EIMAGE, "has 17 parameters");
    x[1] = k1;
    x[1].params[5] = GLINT_ABI_I32; /* beyond nparams */
    expect_sealed(GLINT_EIMAGE, "parameter 5 has bad type");
    x[1] = k1;
    x[1].reserved[3] = 1;
    expect_sealed(GLINT_EIMAGE, "reserved bytes");
    x[1] = k1;
    struct glint__gimg_fn *h = gimgb_section(&b, GLINT__GIMG_HOSTFNS);
    h->params[0] = GLINT_ABI_VOID;
    expect_sealed(GLINT_EIMAGE, "host function 'Log' parameter 0 has bad type 0");
}

Test(gimg, vcpu_record_cannot_raise_privilege_or_mislabel_its_state)
{
    struct glint__gimg_vcpu *v = gimgb_section(&b, GLINT__GIMG_VCPU), keep = *v;
    v->regs[GLINT__GIMG_RFLAGS] |= 3ull << 12; /* IOPL 3 */
    expect_sealed(GLINT_EIMAGE, "rflags 0x3002 sets bits CPL3 code cannot");
    *v = keep;
    v->regs[GLINT__GIMG_RFLAGS] |= 1ull << 9; /* IF */
    expect_sealed(GLINT_EIMAGE, "rflags");
    *v = keep;
    v->regs[GLINT__GIMG_RFLAGS] |= 1ull << 17; /* VM */
    expect_sealed(GLINT_EIMAGE, "rflags");
    *v = keep;
    v->regs[GLINT__GIMG_RIP] = GIMGB_MEM_SIZE;
    expect_sealed(GLINT_EIMAGE, "vcpu rip 0x400000 is outside guest memory");
    *v = keep;
    v->fp_format = 3;
    expect_sealed(GLINT_EIMAGE, "vcpu.fp_format 3");
    *v = keep;
    v->fp_size = 511;
    expect_sealed(GLINT_EIMAGE, "vcpu.fp_size 511");
    *v = keep;
    v->xcr0 = 7;
    expect_sealed(GLINT_EIMAGE, "legacy FPU state");
    *v = keep;
    v->fp_format = GLINT__GIMG_FP_XSAVE; /* 512 bytes: no room for the XSAVE header */
    expect_sealed(GLINT_EIMAGE, "smaller than an XSAVE header needs");
    *v = keep;
    v->xsave_offsets[3] = 1000; /* component 5 not in xcr0 */
    expect_sealed(GLINT_EIMAGE, "vcpu.xsave_offsets[5]");
    *v = keep;
    expect_sealed(0, NULL);
}

Test(gimg, page_numbers_outside_guest_memory_or_unsorted_are_refused)
{
    uint32_t *p = gimgb_section(&b, GLINT__GIMG_PAGE_INDEX);
    p[2] = GIMGB_MEM_SIZE / 4096;
    expect_sealed(GLINT_EIMAGE, "page 1024 lies outside guest memory (1024 pages)");
    p[2] = UINT32_MAX;
    expect_sealed(GLINT_EIMAGE, "lies outside guest memory");
    p[2] = 0x201;
    expect_sealed(GLINT_EIMAGE, "not strictly ascending at entry 2");
    p[2] = 0x100;
    expect_sealed(GLINT_EIMAGE, "not strictly ascending");
    p[2] = 0x3ff;
    struct glint__gimg_section *e = gimgb_entry(&b, GLINT__GIMG_PAGE_INDEX);
    e->size = 8; /* index names 2 pages, data holds 3 */
    expect_sealed(GLINT_EIMAGE, "section PAGE_DATA has 12288 bytes, the index names 2 pages");
}

Test(gimg, misaligned_buffer_and_null_are_usage_errors)
{
    expect_at(NULL, 0, GLINT_EINVAL, "NULL", __LINE__);
    uint8_t *copy = malloc(b.len + 8);
    cr_assert_not_null(copy);
    memcpy(copy + 1, b.data, b.len);
    expect_at(copy + 1, b.len, GLINT_EINVAL, "aligned", __LINE__);
    free(copy);
}
