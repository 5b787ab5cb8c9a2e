/* Test helper: build a valid synthetic image file in memory (see gimg_builder.h). */
#include "gimg_builder.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PAGE 4096u

struct glint__gimg_header *gimgb_header(struct gimgb *b)
{
    return (struct glint__gimg_header *)(void *)b->data;
}

struct glint__gimg_section *gimgb_entry(struct gimgb *b, uint32_t kind)
{
    return (struct glint__gimg_section *)(void *)(b->data + sizeof(struct glint__gimg_header)) +
           (kind - 1);
}

void *gimgb_section(struct gimgb *b, uint32_t kind)
{
    return b->data + gimgb_entry(b, kind)->offset;
}

void gimgb_seal(uint8_t *data, size_t len)
{
    const size_t at = offsetof(struct glint__gimg_header, checksum);
    memset(data + at, 0, 4);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
    memcpy(data + at, &crc, 4);
}

static void fn(struct glint__gimg_fn *f, const char *name, uint8_t ret, uint8_t n, uint8_t p0,
               uint8_t p1)
{
    memset(f, 0, sizeof *f);
    strcpy(f->name, name);
    f->ret = ret;
    f->nparams = n;
    f->params[0] = p0;
    f->params[1] = p1;
}

int gimgb_build(struct gimgb *b)
{
    const uint64_t sizes[GLINT__GIMG_SECTIONS] = {sizeof(struct glint__gimg_config),
                                                  2 * sizeof(struct glint__gimg_segment),
                                                  2 * sizeof(struct glint__gimg_fn),
                                                  sizeof(struct glint__gimg_fn),
                                                  sizeof(struct glint__gimg_vcpu) + 512,
                                                  GIMGB_PAGES * 4,
                                                  GIMGB_PAGES * PAGE};
    uint64_t off = sizeof(struct glint__gimg_header) + sizeof b->sec;
    for (uint32_t i = 0; i < GLINT__GIMG_SECTIONS; i++) {
        off = (off + 7) / 8 * 8;
        if (i == GLINT__GIMG_SECTIONS - 1)
            off = (off + PAGE - 1) / PAGE * PAGE;
        b->sec[i] = (struct glint__gimg_section){.kind = i + 1, .offset = off, .size = sizes[i]};
        off += sizes[i];
    }
    b->len = off;
    if (posix_memalign((void **)&b->data, PAGE, b->len))
        return -1;
    memset(b->data, 0, b->len);
    struct glint__gimg_header h = {.format_version = GLINT__GIMG_FORMAT_VERSION,
                                   .abi_version = GLINT_ABI_VERSION,
                                   .header_size = sizeof h,
                                   .section_count = GLINT__GIMG_SECTIONS,
                                   .file_size = b->len};
    memcpy(h.magic, GLINT__GIMG_MAGIC, 8);
    memcpy(b->data, &h, sizeof h);
    memcpy(b->data + sizeof h, b->sec, sizeof b->sec);
    struct glint__gimg_config c = {.heap_size = 128 << 10,
                                   .stack_size = 64 << 10,
                                   .input_size = 16 << 10,
                                   .output_size = 16 << 10,
                                   .max_image_memory = 16 << 20,
                                   .mem_size = GIMGB_MEM_SIZE,
                                   .entry = 0x200010,
                                   .seed = 42,
                                   .timeout_ms = 1000};
    strcpy(c.library, "glint test");
    memcpy(gimgb_section(b, GLINT__GIMG_CONFIG), &c, sizeof c);
    struct glint__gimg_segment s[2] = {
        {.vaddr = 0x200000, .memsz = 0x1000, .filesz = 0x1000, .flags = 5},
        {.vaddr = 0x201000, .memsz = 0x3000, .filesz = 0x20, .flags = 6}};
    memcpy(gimgb_section(b, GLINT__GIMG_SEGMENTS), s, sizeof s);
    struct glint__gimg_fn *x = gimgb_section(b, GLINT__GIMG_EXPORTS);
    fn(&x[0], "Echo", GLINT_ABI_STRING, 1, GLINT_ABI_STRING, 0);
    fn(&x[1], "Add", GLINT_ABI_I32, 2, GLINT_ABI_I32, GLINT_ABI_I32);
    fn(gimgb_section(b, GLINT__GIMG_HOSTFNS), "Log", GLINT_ABI_VOID, 1, GLINT_ABI_STRING, 0);
    struct glint__gimg_vcpu v = {.fp_format = GLINT__GIMG_FP_LEGACY, .fp_size = 512};
    v.regs[GLINT__GIMG_RIP] = 0x200020;
    v.regs[GLINT__GIMG_RFLAGS] = 2;
    memcpy(gimgb_section(b, GLINT__GIMG_VCPU), &v, sizeof v);
    const uint32_t pages[GIMGB_PAGES] = {0x200, 0x201, 0x3ff};
    memcpy(gimgb_section(b, GLINT__GIMG_PAGE_INDEX), pages, sizeof pages);
    memset(gimgb_section(b, GLINT__GIMG_PAGE_DATA), 0xcc, GIMGB_PAGES * PAGE);
    gimgb_seal(b->data, b->len);
    return 0;
}

void gimgb_free(struct gimgb *b)
{
    free(b->data);
    b->data = NULL;
}
