/* Image files: check an untrusted .gimg (header, checksum, sections, records) without KVM. */
#include "load/gimg.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "ident.h"
#include "load/elf.h"
#include "runtime/error.h"

#define PAGE ((uint64_t)GLINT_ABI_PAGE_SIZE)

static const char *const section_names[GLINT__GIMG_SECTIONS + 1] = {
    "?", "CONFIG", "SEGMENTS", "EXPORTS", "HOSTFNS", "VCPU", "PAGE_INDEX", "PAGE_DATA"};

#define bad(...) glint__fail(GLINT_EIMAGE, __VA_ARGS__)
#define ULL(x)   ((unsigned long long)(x))

int glint__gimg_is_image(const void *data, size_t len)
{
    return data && len >= 8 && memcmp(data, GLINT__GIMG_MAGIC, 8) == 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* CRC-32 of the file with the header's checksum field read as zero. */
static uint32_t file_crc(const uint8_t *b, size_t len)
{
    static const uint8_t zero[4];
    const size_t at = offsetof(struct glint__gimg_header, checksum);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, b, (uInt)at);
    crc = crc32(crc, zero, sizeof zero);
    size_t off = at + 4;
    while (off < len) { /* crc32 takes uInt lengths */
        size_t n = len - off > (1u << 30) ? (1u << 30) : len - off;
        crc = crc32(crc, b + off, (uInt)n);
        off += n;
    }
    return (uint32_t)crc;
}

static int check_header(const uint8_t *b, size_t len, struct glint__gimg_header *h)
{
    if (len < sizeof *h)
        return bad("image file: %llu bytes, too short for the %llu-byte header", ULL(len),
                   ULL(sizeof *h));
    memcpy(h, b, sizeof *h);
    if (memcmp(h->magic, GLINT__GIMG_MAGIC, 8) != 0)
        return glint__fail(GLINT_EIMAGE, "image file: header.magic is not \"%s\"",
                           GLINT__GIMG_MAGIC);
    if (h->format_version != GLINT__GIMG_FORMAT_VERSION)
        return glint__fail(GLINT_EABI,
                           "image file: header.format_version %u, this library reads version %u "
                           "(rebuild it with this glint: glint image build)",
                           h->format_version, GLINT__GIMG_FORMAT_VERSION);
    if (h->abi_version != GLINT_ABI_VERSION)
        return glint__fail(GLINT_EABI,
                           "image file: header.abi_version %u, this host supports guest ABI "
                           "version %u (rebuild it with this glint: glint image build)",
                           h->abi_version, GLINT_ABI_VERSION);
    if (h->header_size != sizeof *h)
        return bad("image file: header.header_size %llu, want %llu", ULL(h->header_size),
                   ULL(sizeof *h));
    if (h->file_size != len)
        return bad("image file: header.file_size %llu, but the file has %llu bytes (truncated?)",
                   ULL(h->file_size), ULL(len));
    uint32_t crc = file_crc(b, len);
    if (crc != h->checksum)
        return bad("image file: header.checksum 0x%08llx, but the file's CRC-32 is 0x%08llx "
                   "(the file is corrupt)",
                   ULL(h->checksum), ULL(crc));
    if (h->flags)
        return bad("image file: header.flags 0x%llx, want 0 (unknown flags)", ULL(h->flags));
    if (!all_zero(h->reserved, sizeof h->reserved))
        return glint__fail(GLINT_EIMAGE, "image file: header.reserved bytes are not zero");
    if (h->section_count != GLINT__GIMG_SECTIONS)
        return bad("image file: header.section_count %llu, want %llu", ULL(h->section_count),
                   ULL(GLINT__GIMG_SECTIONS));
    return 0;
}

/* The table: kinds in order, aligned, disjoint, ascending, inside the file. */
static int check_sections(const uint8_t *b, size_t len, struct glint__gimg_section *s)
{
    uint64_t end = sizeof(struct glint__gimg_header) + GLINT__GIMG_SECTIONS * sizeof *s;
    memcpy(s, b + sizeof(struct glint__gimg_header), GLINT__GIMG_SECTIONS * sizeof *s);
    for (uint32_t i = 0; i < GLINT__GIMG_SECTIONS; i++) {
        const char *name = section_names[i + 1];
        if (s[i].kind != i + 1)
            return glint__fail(GLINT_EIMAGE, "image file: section %u has kind %u, want %u (%s)", i,
                               s[i].kind, i + 1, name);
        if (s[i].reserved)
            return glint__fail(GLINT_EIMAGE, "image file: section %s reserved field not zero",
                               name);
        uint64_t align = s[i].kind == GLINT__GIMG_PAGE_DATA ? PAGE : 8;
        if (s[i].offset % align)
            return glint__fail(GLINT_EIMAGE,
                               "image file: section %s offset 0x%llx is not %llu-byte aligned",
                               name, (unsigned long long)s[i].offset, (unsigned long long)align);
        if (s[i].offset < end)
            return glint__fail(GLINT_EIMAGE,
                               "image file: section %s at 0x%llx overlaps what precedes it "
                               "(ends at 0x%llx)",
                               name, (unsigned long long)s[i].offset, (unsigned long long)end);
        if (s[i].offset > len || s[i].size > len - s[i].offset)
            return glint__fail(GLINT_EIMAGE,
                               "image file: section %s (0x%llx + 0x%llx bytes) extends past the "
                               "end of the file (0x%llx bytes)",
                               name, (unsigned long long)s[i].offset, (unsigned long long)s[i].size,
                               (unsigned long long)len);
        end = s[i].offset + s[i].size;
    }
    if (end != len)
        return bad("image file: %llu bytes after the last section (file size %llu)",
                   ULL((len - end)), ULL(len));
    return 0;
}

static int check_size(const char *what, uint64_t v, uint64_t min, uint64_t max)
{
    if (v % PAGE || v < min || v > max)
        return glint__fail(
            GLINT_EIMAGE, "image file: config.%s %llu is not a multiple of 4 KiB in %llu..%llu",
            what, (unsigned long long)v, (unsigned long long)min, (unsigned long long)max);
    return 0;
}

static int check_config(const struct glint__gimg_config *c)
{
    int rc;
    if ((rc = check_size("heap_size", c->heap_size, GLINT_HEAP_SIZE_MIN, GLINT_HEAP_SIZE_MAX)) ||
        (rc =
             check_size("stack_size", c->stack_size, GLINT_STACK_SIZE_MIN, GLINT_STACK_SIZE_MAX)) ||
        (rc = check_size("input_size", c->input_size, GLINT_BUFFER_SIZE_MIN,
                         GLINT_BUFFER_SIZE_MAX)) ||
        (rc = check_size("output_size", c->output_size, GLINT_BUFFER_SIZE_MIN,
                         GLINT_BUFFER_SIZE_MAX)) ||
        (rc = check_size("max_image_memory", c->max_image_memory, GLINT_IMAGE_MEMORY_MIN,
                         GLINT_IMAGE_MEMORY_MAX)) ||
        (rc = check_size("mem_size", c->mem_size, PAGE, GLINT_ABI_MEMORY_LIMIT)))
        return rc;
    if (c->guest_flags & ~GLINT_ABI_DEFAULTS_FLAGS)
        return bad("image file: config.guest_flags has unknown bits 0x%llx",
                   ULL(c->guest_flags & ~GLINT_ABI_DEFAULTS_FLAGS));
    if (c->guest_features & ~GLINT_ABI_FEATURE_FLAGS)
        return bad("image file: config.guest_features has unknown bits 0x%llx",
                   ULL(c->guest_features & ~GLINT_ABI_FEATURE_FLAGS));
    if (c->reserved)
        return bad("image file: config.reserved is 0x%llx, not zero", ULL(c->reserved));
    if (c->budget && !(c->guest_flags & GLINT_ABI_DEFAULTS_BUDGET))
        return bad("image file: config.budget %llu, but the guest does not enforce budgets",
                   ULL(c->budget));
    if (strnlen(c->library, sizeof c->library) == sizeof c->library)
        return glint__fail(GLINT_EIMAGE, "image file: config.library is not NUL-terminated");
    size_t n = strlen(c->library);
    if (!all_zero((const uint8_t *)c->library + n, sizeof c->library - n))
        return glint__fail(GLINT_EIMAGE, "image file: config.library padding is not zero");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c->library[i] < 0x20 || (unsigned char)c->library[i] > 0x7e)
            return glint__fail(GLINT_EIMAGE, "image file: config.library is not printable ASCII");
    return 0;
}

/* The segments obey the ELF loader's rules (load/elf.c): inside image space,
 * W^X, some rights, sorted, no two sharing a page; the entry is in code. */
static int check_segments(struct glint__gimg *g, const uint8_t *b,
                          const struct glint__gimg_section *s)
{
    if (s->size % sizeof g->segs[0] || s->size == 0 || s->size > sizeof g->segs)
        return bad("image file: section SEGMENTS has %llu bytes: want 1..16 records of %llu",
                   ULL(s->size), ULL(sizeof g->segs[0]));
    g->nsegs = (uint32_t)(s->size / sizeof g->segs[0]);
    memcpy(g->segs, b + s->offset, s->size);
    int entry_ok = 0;
    for (uint32_t i = 0; i < g->nsegs; i++) {
        const struct glint__gimg_segment *sg = &g->segs[i];
        if (sg->vaddr < GLINT_ABI_IMAGE_BASE || sg->vaddr >= GLINT_ABI_IMAGE_LIMIT ||
            sg->memsz == 0 || sg->memsz > GLINT_ABI_IMAGE_LIMIT - sg->vaddr)
            return glint__fail(GLINT_EIMAGE,
                               "image file: segment %u at 0x%llx+0x%llx is outside guest image "
                               "space [0x%x, 0x%x)",
                               i, (unsigned long long)sg->vaddr, (unsigned long long)sg->memsz,
                               GLINT_ABI_IMAGE_BASE, GLINT_ABI_IMAGE_LIMIT);
        if (sg->filesz > sg->memsz)
            return bad("image file: segment %llu filesz exceeds memsz", ULL(i));
        if (sg->flags & ~7u || !sg->flags ||
            ((sg->flags & GLINT__SEG_W) && (sg->flags & GLINT__SEG_X)))
            return bad("image file: segment %llu has bad flags 0x%llx (need rights, W^X)", ULL(i),
                       ULL(sg->flags));
        if (sg->reserved)
            return bad("image file: segment %llu reserved field not zero", ULL(i));
        if (i > 0) {
            const struct glint__gimg_segment *p = &g->segs[i - 1];
            if ((sg->vaddr & ~(PAGE - 1)) < ((p->vaddr + p->memsz + PAGE - 1) & ~(PAGE - 1)))
                return bad("image file: segments %llu and %llu are unsorted, overlap or share a "
                           "page",
                           ULL(i - 1), ULL(i));
        }
        if ((sg->flags & GLINT__SEG_X) && g->config.entry >= sg->vaddr &&
            g->config.entry - sg->vaddr < sg->memsz)
            entry_ok = 1;
    }
    if (!entry_ok)
        return bad("image file: config.entry 0x%llx is not in a code segment",
                   ULL(g->config.entry));
    return 0;
}

int glint__gimg_check_fn(const struct glint__gimg_fn *f, const char *what, uint32_t i)
{
    size_t n = strnlen(f->name, sizeof f->name);
    if (n == sizeof f->name || !glint__name_valid(f->name, n))
        return glint__fail(GLINT_EIMAGE, "image file: %s %u has an invalid name", what, i);
    if (!all_zero((const uint8_t *)f->name + n, sizeof f->name - n))
        return glint__fail(GLINT_EIMAGE, "image file: %s '%s' name padding is not zero", what,
                           f->name);
    if (f->ret > GLINT_ABI_TYPE_MAX)
        return glint__fail(GLINT_EIMAGE, "image file: %s '%s' has unknown return type %u", what,
                           f->name, f->ret);
    if (f->nparams > GLINT_ABI_MAX_PARAMS)
        return glint__fail(GLINT_EIMAGE, "image file: %s '%s' has %u parameters (max %u)", what,
                           f->name, f->nparams, GLINT_ABI_MAX_PARAMS);
    for (uint32_t k = 0; k < GLINT_ABI_MAX_PARAMS; k++) {
        uint8_t t = f->params[k];
        if (k < f->nparams ? (t == GLINT_ABI_VOID || t > GLINT_ABI_TYPE_MAX) : t != 0)
            return glint__fail(GLINT_EIMAGE, "image file: %s '%s' parameter %u has bad type %u",
                               what, f->name, k, t);
    }
    if (!all_zero(f->reserved, sizeof f->reserved))
        return glint__fail(GLINT_EIMAGE, "image file: %s '%s' reserved bytes are not zero", what,
                           f->name);
    return 0;
}

static int check_fns(const uint8_t *b, const struct glint__gimg_section *s, const char *what,
                     const struct glint__gimg_fn **out, uint32_t *count)
{
    const uint64_t rec = sizeof(struct glint__gimg_fn);
    if (s->size % rec || s->size / rec > GLINT__ELF_MAX_EXPORTS)
        return glint__fail(GLINT_EIMAGE,
                           "image file: section of %ss has %llu bytes: want at most %d records "
                           "of %llu",
                           what, (unsigned long long)s->size, GLINT__ELF_MAX_EXPORTS,
                           (unsigned long long)rec);
    const struct glint__gimg_fn *f = (const struct glint__gimg_fn *)(const void *)(b + s->offset);
    uint32_t n = (uint32_t)(s->size / rec);
    for (uint32_t i = 0; i < n; i++) {
        int rc = glint__gimg_check_fn(&f[i], what, i);
        if (rc)
            return rc;
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(f[k].name, f[i].name) == 0)
                return glint__fail(GLINT_EIMAGE, "image file: %s '%s' appears twice", what,
                                   f[i].name);
    }
    *out = f;
    *count = n;
    return 0;
}

/* Flags CPL3 code can change with popf; IF, IOPL, NT, RF, VM, VIF, VIP stay as the host set them.
 */
#define USER_RFLAGS                                                                                \
    ((1ull << 0) | (1ull << 2) | (1ull << 4) | (1ull << 6) | (1ull << 7) | (1ull << 8) |           \
     (1ull << 10) | (1ull << 11) | (1ull << 18) | (1ull << 21))

static int check_vcpu(struct glint__gimg *g, const uint8_t *b, const struct glint__gimg_section *s)
{
    struct glint__gimg_vcpu *v = &g->vcpu;
    if (s->size < sizeof *v)
        return bad("image file: section VCPU has %llu bytes, want at least %llu", ULL(s->size),
                   ULL(sizeof *v));
    memcpy(v, b + s->offset, sizeof *v);
    if (v->fp_format != GLINT__GIMG_FP_XSAVE && v->fp_format != GLINT__GIMG_FP_LEGACY)
        return bad("image file: vcpu.fp_format %llu unknown", ULL(v->fp_format));
    if (v->fp_size == 0 || v->fp_size > GLINT__GIMG_FP_MAX || v->fp_size != s->size - sizeof *v)
        return bad("image file: vcpu.fp_size %llu does not fit the section (%llu bytes)",
                   ULL(v->fp_size), ULL(s->size));
    if (v->fp_format == GLINT__GIMG_FP_XSAVE && v->fp_size < 512 + 64)
        return bad("image file: vcpu.fp_size %llu is smaller than an XSAVE header needs",
                   ULL(v->fp_size));
    if (v->fp_format == GLINT__GIMG_FP_LEGACY && v->xcr0)
        return bad("image file: vcpu.xcr0 0x%llx set for legacy FPU state", ULL(v->xcr0));
    for (uint32_t i = 0; i < GLINT__GIMG_XSAVE_COMPONENTS; i++) {
        int on = (v->xcr0 >> (i + 2)) & 1;
        if (on ? v->xsave_offsets[i] < 512 + 64 || v->xsave_offsets[i] >= v->fp_size
               : v->xsave_offsets[i] != 0)
            return bad("image file: vcpu.xsave_offsets[%llu] = %llu does not fit xcr0 and fp_size",
                       ULL(i + 2), ULL(v->xsave_offsets[i]));
    }
    uint64_t rflags = v->regs[GLINT__GIMG_RFLAGS];
    if ((rflags & ~USER_RFLAGS) != (1ull << 1))
        return bad("image file: vcpu rflags 0x%llx sets bits CPL3 code cannot (allowed 0x%llx)",
                   ULL(rflags), ULL(USER_RFLAGS | 2));
    if (v->regs[GLINT__GIMG_RIP] >= g->config.mem_size)
        return bad("image file: vcpu rip 0x%llx is outside guest memory (0x%llx bytes)",
                   ULL(v->regs[GLINT__GIMG_RIP]), ULL(g->config.mem_size));
    g->fp = b + s->offset + sizeof *v;
    return 0;
}

static int check_pages(struct glint__gimg *g, const uint8_t *b,
                       const struct glint__gimg_section *ix, const struct glint__gimg_section *data)
{
    uint64_t limit = g->config.mem_size / PAGE;
    if (ix->size % 4 || ix->size / 4 > limit)
        return bad("image file: section PAGE_INDEX has %llu bytes: want 4 per page, at most %llu "
                   "pages",
                   ULL(ix->size), ULL(limit));
    g->npages = (uint32_t)(ix->size / 4);
    g->pages = (const uint32_t *)(const void *)(b + ix->offset);
    if (data->size != (uint64_t)g->npages * PAGE)
        return bad("image file: section PAGE_DATA has %llu bytes, the index names %llu pages",
                   ULL(data->size), ULL(g->npages));
    for (uint32_t i = 0; i < g->npages; i++) {
        if (g->pages[i] >= limit)
            return bad("image file: page %llu lies outside guest memory (%llu pages)",
                       ULL(g->pages[i]), ULL(limit));
        if (i > 0 && g->pages[i] <= g->pages[i - 1])
            return bad("image file: page index not strictly ascending at entry %llu (page %llu)",
                       ULL(i), ULL(g->pages[i]));
    }
    g->data_offset = data->offset;
    return 0;
}

int glint__gimg_parse(const void *data, size_t len, struct glint__gimg *out)
{
    memset(out, 0, sizeof *out);
    const uint8_t *b = data;
    if (!b || (uintptr_t)b % 8)
        return glint__fail(GLINT_EINVAL, "glint__gimg_parse: data NULL or not 8-byte aligned");
    struct glint__gimg_section s[GLINT__GIMG_SECTIONS];
    int rc = check_header(b, len, &out->header);
    if (rc)
        return rc;
    if (len < sizeof out->header + sizeof s)
        return bad("image file: %llu bytes, too short for the section table (%llu)", ULL(len),
                   ULL(sizeof out->header + sizeof s));
    if ((rc = check_sections(b, len, s)))
        return rc;
    const struct glint__gimg_section *cfg = &s[GLINT__GIMG_CONFIG - 1];
    if (cfg->size != sizeof out->config)
        return bad("image file: section CONFIG has %llu bytes, want %llu", ULL(cfg->size),
                   ULL(sizeof out->config));
    memcpy(&out->config, b + cfg->offset, sizeof out->config);
    if ((rc = check_config(&out->config)) ||
        (rc = check_segments(out, b, &s[GLINT__GIMG_SEGMENTS - 1])) ||
        (rc = check_fns(b, &s[GLINT__GIMG_EXPORTS - 1], "export", &out->exports, &out->nexports)) ||
        (rc = check_fns(b, &s[GLINT__GIMG_HOSTFNS - 1], "host function", &out->hostfns,
                        &out->nhostfns)) ||
        (rc = check_vcpu(out, b, &s[GLINT__GIMG_VCPU - 1])) ||
        (rc = check_pages(out, b, &s[GLINT__GIMG_PAGE_INDEX - 1], &s[GLINT__GIMG_PAGE_DATA - 1])))
        return rc;
    return 0;
}
