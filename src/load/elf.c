/* Guest ELF parser and validator: bytes in, checked segments and exports out; no KVM. */
#include "load/elf.h"

#include <linux/elf.h> /* the kernel UAPI ELF types */
#include <stdlib.h>
#include <string.h>

#include "glint.h"
#include "ident.h"
#include "runtime/error.h"

#define PAGE         GLINT_ABI_PAGE_SIZE
#define PAGE_DOWN(x) ((x) & ~(uint64_t)(PAGE - 1))
#define PAGE_UP(x)   (((x) + PAGE - 1) & ~(uint64_t)(PAGE - 1))

static int bad(const char *what, unsigned long long a, unsigned long long b)
{
    return glint__fail(GLINT_EELF, "guest ELF: %s (%llu, %llu)", what, a, b);
}

/* [off, off+n) inside [0, len), without overflow. */
static int in_file(uint64_t off, uint64_t n, uint64_t len)
{
    return off <= len && n <= len - off;
}

static int check_header(const Elf64_Ehdr *eh, size_t len)
{
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return glint__fail(GLINT_EELF, "guest ELF: bad magic (not an ELF file)");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return glint__fail(GLINT_EELF, "guest ELF: not a 64-bit ELF (class %u)",
                           eh->e_ident[EI_CLASS]);
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return glint__fail(GLINT_EELF, "guest ELF: not little-endian (data %u)",
                           eh->e_ident[EI_DATA]);
    if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
        return glint__fail(GLINT_EELF, "guest ELF: unknown ELF version");
    if (eh->e_type != ET_EXEC)
        return glint__fail(GLINT_EELF,
                           "guest ELF: type %u is not a static executable (ET_EXEC); "
                           "link with the glint linker script",
                           eh->e_type);
    if (eh->e_machine != EM_X86_64)
        return glint__fail(GLINT_EELF, "guest ELF: machine %u is not x86-64", eh->e_machine);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return bad("program header entry size is wrong", eh->e_phentsize, sizeof(Elf64_Phdr));
    if (eh->e_phnum == 0 || eh->e_phnum > 64)
        return bad("program header count out of range 1..64", eh->e_phnum, 64);
    if (!in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len))
        return bad("program headers extend past end of file (offset, file size)", eh->e_phoff, len);
    return 0;
}

static int add_load(struct glint__elf *out, const Elf64_Phdr *ph, unsigned idx, size_t len)
{
    if (ph->p_filesz > ph->p_memsz)
        return glint__fail(GLINT_EELF, "guest ELF: segment %u file size exceeds memory size", idx);
    if (ph->p_memsz == 0)
        return 0; /* empty: occupies nothing */
    if (out->nsegs == GLINT__ELF_MAX_SEGMENTS)
        return bad("too many PT_LOAD segments (index, max)", idx, GLINT__ELF_MAX_SEGMENTS);
    if (!in_file(ph->p_offset, ph->p_filesz, len))
        return glint__fail(GLINT_EELF, "guest ELF: segment %u extends past end of file", idx);
    if (ph->p_vaddr < GLINT_ABI_IMAGE_BASE || ph->p_vaddr >= GLINT_ABI_IMAGE_LIMIT ||
        ph->p_memsz > GLINT_ABI_IMAGE_LIMIT - ph->p_vaddr)
        return glint__fail(GLINT_EELF,
                           "guest ELF: segment %u at 0x%llx+0x%llx is outside guest image "
                           "space [0x%x, 0x%x)",
                           idx, (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_memsz,
                           GLINT_ABI_IMAGE_BASE, GLINT_ABI_IMAGE_LIMIT);
    if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
        return glint__fail(GLINT_EELF, "guest ELF: segment %u is writable and executable (W^X)",
                           idx);
    if (!(ph->p_flags & (PF_R | PF_W | PF_X)))
        return glint__fail(GLINT_EELF, "guest ELF: segment %u has no access rights", idx);
    struct glint__segment *s = &out->segs[out->nsegs++];
    s->vaddr = ph->p_vaddr;
    s->memsz = ph->p_memsz;
    s->offset = ph->p_offset;
    s->filesz = ph->p_filesz;
    s->flags = ph->p_flags & (PF_R | PF_W | PF_X);
    return 0;
}

/* One size of the defaults note: 0, or a page multiple in [min, max]. */
static int check_default(const char *what, uint64_t v, uint64_t min, uint64_t max)
{
    if (v == 0)
        return 0;
    if (v % PAGE)
        return glint__fail(GLINT_EABI,
                           "guest ELF: defaults note: %s %llu is not a multiple of 4 KiB", what,
                           (unsigned long long)v);
    if (v < min || v > max)
        return glint__fail(
            GLINT_EABI, "guest ELF: defaults note: %s %llu is out of range %llu..%llu bytes", what,
            (unsigned long long)v, (unsigned long long)min, (unsigned long long)max);
    return 0;
}

/* The optional defaults note's descriptor (n bytes at p), into out->defaults. */
static int take_defaults(struct glint__elf *out, const uint8_t *p, uint32_t n, int *found)
{
    if (*found & 2)
        return glint__fail(GLINT_EABI, "guest ELF: more than one glint defaults note");
    if (n != sizeof(struct glint_abi_defaults))
        return glint__fail(GLINT_EABI, "guest ELF: glint defaults note has size %u, want %zu", n,
                           sizeof(struct glint_abi_defaults));
    struct glint_abi_defaults d;
    memcpy(&d, p, sizeof d);
    int rc;
    if ((rc = check_default("heap_size", d.heap_size, GLINT_HEAP_SIZE_MIN, GLINT_HEAP_SIZE_MAX)) ||
        (rc = check_default("stack_size", d.stack_size, GLINT_STACK_SIZE_MIN,
                            GLINT_STACK_SIZE_MAX)) ||
        (rc = check_default("input_size", d.input_size, GLINT_BUFFER_SIZE_MIN,
                            GLINT_BUFFER_SIZE_MAX)) ||
        (rc = check_default("output_size", d.output_size, GLINT_BUFFER_SIZE_MIN,
                            GLINT_BUFFER_SIZE_MAX)))
        return rc;
    if (d.flags & ~GLINT_ABI_DEFAULTS_FLAGS)
        return glint__fail(GLINT_EABI, "guest ELF: defaults note has unknown flags 0x%x",
                           d.flags & ~GLINT_ABI_DEFAULTS_FLAGS);
    if (d.reserved)
        return glint__fail(GLINT_EABI, "guest ELF: defaults note reserved field not zero");
    out->defaults = d;
    *found |= 2;
    return 0;
}

/* The optional features note's descriptor (n bytes at p), into out->features. */
static int take_features(struct glint__elf *out, const uint8_t *p, uint32_t n, int *found)
{
    if (*found & 4)
        return glint__fail(GLINT_EABI, "guest ELF: more than one glint features note");
    if (n != sizeof(struct glint_abi_features))
        return glint__fail(GLINT_EABI, "guest ELF: glint features note has size %u, want %zu", n,
                           sizeof(struct glint_abi_features));
    struct glint_abi_features f;
    memcpy(&f, p, sizeof f);
    if (f.flags & ~GLINT_ABI_FEATURE_FLAGS)
        return glint__fail(GLINT_EABI, "guest ELF: features note has unknown flags 0x%x",
                           f.flags & ~GLINT_ABI_FEATURE_FLAGS);
    if (f.reserved)
        return glint__fail(GLINT_EABI, "guest ELF: features note reserved field not zero");
    out->features = f;
    *found |= 4;
    return 0;
}

/* *found: bit 0 the ABI note, bit 1 the defaults note, bit 2 the features note. */
static int find_note(struct glint__elf *out, const uint8_t *b, const Elf64_Phdr *ph, size_t len,
                     int *found)
{
    if (!in_file(ph->p_offset, ph->p_filesz, len))
        return glint__fail(GLINT_EELF, "guest ELF: note segment extends past end of file");
    uint64_t pos = ph->p_offset, end = ph->p_offset + ph->p_filesz;
    while (end - pos >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, b + pos, sizeof nh);
        pos += sizeof nh;
        uint64_t namesz = ((uint64_t)nh.n_namesz + 3) & ~3ull;
        uint64_t descsz = ((uint64_t)nh.n_descsz + 3) & ~3ull;
        if (namesz > end - pos || descsz > end - pos - namesz)
            return glint__fail(GLINT_EELF, "guest ELF: note extends past its segment");
        const char *name = (const char *)b + pos;
        if (nh.n_namesz == sizeof GLINT_ABI_NOTE_NAME &&
            memcmp(name, GLINT_ABI_NOTE_NAME, sizeof GLINT_ABI_NOTE_NAME) == 0 &&
            nh.n_type == GLINT_ABI_NOTE_DEFAULTS_TYPE) {
            int rc = take_defaults(out, b + pos + namesz, nh.n_descsz, found);
            if (rc)
                return rc;
        } else if (nh.n_namesz == sizeof GLINT_ABI_NOTE_NAME &&
                   memcmp(name, GLINT_ABI_NOTE_NAME, sizeof GLINT_ABI_NOTE_NAME) == 0 &&
                   nh.n_type == GLINT_ABI_NOTE_FEATURES_TYPE) {
            int rc = take_features(out, b + pos + namesz, nh.n_descsz, found);
            if (rc)
                return rc;
        } else if (nh.n_namesz == sizeof GLINT_ABI_NOTE_NAME &&
                   memcmp(name, GLINT_ABI_NOTE_NAME, sizeof GLINT_ABI_NOTE_NAME) == 0 &&
                   nh.n_type == GLINT_ABI_NOTE_TYPE) {
            if (*found & 1)
                return glint__fail(GLINT_EABI, "guest ELF: more than one glint ABI note");
            if (nh.n_descsz != sizeof(struct glint_abi_note))
                return glint__fail(GLINT_EABI, "guest ELF: glint ABI note has size %u, want %zu",
                                   nh.n_descsz, sizeof(struct glint_abi_note));
            memcpy(&out->note, b + pos + namesz, sizeof out->note);
            *found |= 1;
        }
        pos += namesz + descsz;
    }
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct glint__segment *x = a, *y = b;
    return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* The segment holding [addr, addr+n), or NULL. */
static const struct glint__segment *seg_of(const struct glint__elf *e, uint64_t addr, uint64_t n)
{
    for (uint32_t i = 0; i < e->nsegs; i++) {
        const struct glint__segment *s = &e->segs[i];
        if (addr >= s->vaddr && addr - s->vaddr <= s->memsz && n <= s->memsz - (addr - s->vaddr))
            return s;
    }
    return NULL;
}

static int check_export(const struct glint__elf *e, const struct glint_abi_export *x, uint32_t i)
{
    size_t nlen = strnlen(x->name, sizeof x->name);
    if (nlen == sizeof x->name)
        return glint__fail(GLINT_EELF, "guest exports: entry %u name not NUL-terminated", i);
    if (!glint__name_valid(x->name, nlen))
        return glint__fail(GLINT_EELF, "guest exports: entry %u has an invalid name", i);
    for (size_t k = nlen; k < sizeof x->name; k++)
        if (x->name[k])
            return glint__fail(GLINT_EELF, "guest exports: '%s' name padding not zero", x->name);
    if (x->ret_type > GLINT_ABI_TYPE_MAX)
        return glint__fail(GLINT_EELF, "guest exports: '%s' has unknown return type %u", x->name,
                           x->ret_type);
    if (x->nparams > GLINT_ABI_MAX_PARAMS)
        return glint__fail(GLINT_EELF, "guest exports: '%s' has %u parameters (max %u)", x->name,
                           x->nparams, GLINT_ABI_MAX_PARAMS);
    for (uint32_t k = 0; k < GLINT_ABI_MAX_PARAMS; k++) {
        uint8_t t = x->params[k];
        if (k < x->nparams ? (t == GLINT_ABI_VOID || t > GLINT_ABI_TYPE_MAX) : t != 0)
            return glint__fail(GLINT_EELF, "guest exports: '%s' parameter %u has bad type %u",
                               x->name, k, t);
    }
    for (size_t k = 0; k < sizeof x->reserved; k++)
        if (x->reserved[k])
            return glint__fail(GLINT_EELF, "guest exports: '%s' reserved bytes not zero", x->name);
    const struct glint__segment *s = seg_of(e, x->fn, 1);
    if (!s || !(s->flags & GLINT__SEG_X))
        return glint__fail(GLINT_EELF, "guest exports: '%s' entry 0x%llx is not in code", x->name,
                           (unsigned long long)x->fn);
    return 0;
}

static int read_exports(struct glint__elf *e, const uint8_t *b)
{
    const struct glint_abi_note *n = &e->note;
    if (n->export_size != sizeof(struct glint_abi_export))
        return glint__fail(GLINT_EABI, "guest ABI: export record size %u, want %zu", n->export_size,
                           sizeof(struct glint_abi_export));
    if (n->exports_end < n->exports_addr)
        return glint__fail(GLINT_EELF, "guest exports: table end before its start");
    uint64_t bytes = n->exports_end - n->exports_addr;
    if (bytes % sizeof(struct glint_abi_export))
        return glint__fail(GLINT_EELF, "guest exports: table size not a multiple of a record");
    uint64_t count = bytes / sizeof(struct glint_abi_export);
    if (count > GLINT__ELF_MAX_EXPORTS)
        return glint__fail(GLINT_EELF, "guest exports: %llu functions (max %d)",
                           (unsigned long long)count, GLINT__ELF_MAX_EXPORTS);
    if (count == 0)
        return 0;
    const struct glint__segment *s = seg_of(e, n->exports_addr, bytes);
    if (!s || (s->flags & GLINT__SEG_W) || n->exports_end - s->vaddr > s->filesz)
        return glint__fail(GLINT_EELF,
                           "guest exports: table 0x%llx..0x%llx not in read-only file data",
                           (unsigned long long)n->exports_addr, (unsigned long long)n->exports_end);
    e->exports = malloc(bytes);
    if (!e->exports)
        return glint__fail(GLINT_ENOMEM, "out of memory reading guest exports");
    memcpy(e->exports, b + s->offset + (n->exports_addr - s->vaddr), bytes);
    e->nexports = (uint32_t)count;
    for (uint32_t i = 0; i < e->nexports; i++) {
        int rc = check_export(e, &e->exports[i], i);
        if (rc)
            return rc;
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(e->exports[k].name, e->exports[i].name) == 0)
                return glint__fail(GLINT_EELF, "guest exports: '%s' exported twice",
                                   e->exports[i].name);
    }
    return 0;
}

/* The ELF header: whole, and naming a static little-endian x86-64 executable
 * whose program headers lie inside the file. */
static int read_header(const uint8_t *b, size_t len, Elf64_Ehdr *eh)
{
    if (!b || len < sizeof *eh)
        return glint__fail(GLINT_EELF, "guest ELF: file too short (%zu bytes) for an ELF header",
                           len);
    memcpy(eh, b, sizeof *eh);
    return check_header(eh, len);
}

/* One program header: PT_LOAD becomes a segment, PT_NOTE is searched for the
 * glint note; dynamic linking and TLS are refused; anything else is ignored. */
static int take_program_header(struct glint__elf *out, const uint8_t *b, size_t len,
                               const Elf64_Phdr *ph, unsigned idx, int *have_note)
{
    switch (ph->p_type) {
    case PT_LOAD:
        return add_load(out, ph, idx, len);
    case PT_NOTE:
        return find_note(out, b, ph, len, have_note);
    case PT_INTERP:
    case PT_DYNAMIC:
        return glint__fail(GLINT_EELF, "guest ELF: dynamically linked (segment %u)", idx);
    case PT_TLS:
        return glint__fail(GLINT_EELF, "guest ELF: thread-local storage is not supported");
    default:
        return 0;
    }
}

/* Every program header in file order; stops at the first bad one. */
static int read_program_headers(struct glint__elf *out, const uint8_t *b, size_t len,
                                const Elf64_Ehdr *eh, int *have_note)
{
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, b + eh->e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
        int rc = take_program_header(out, b, len, &ph, i, have_note);
        if (rc)
            return rc;
    }
    return 0;
}

/* At least one segment; sorted by address, no two overlapping or sharing a
 * page (permissions are per page); sets the image end. */
static int place_segments(struct glint__elf *out)
{
    if (out->nsegs == 0)
        return glint__fail(GLINT_EELF, "guest ELF: no loadable segments");
    qsort(out->segs, out->nsegs, sizeof out->segs[0], cmp_seg);
    for (uint32_t i = 1; i < out->nsegs; i++) {
        const struct glint__segment *p = &out->segs[i - 1], *s = &out->segs[i];
        if (PAGE_DOWN(s->vaddr) < PAGE_UP(p->vaddr + p->memsz))
            return glint__fail(GLINT_EELF,
                               "guest ELF: segments at 0x%llx and 0x%llx overlap or share a page",
                               (unsigned long long)p->vaddr, (unsigned long long)s->vaddr);
    }
    const struct glint__segment *last = &out->segs[out->nsegs - 1];
    out->image_end = PAGE_UP(last->vaddr + last->memsz);
    return 0;
}

/* The entry point lies in an executable segment. */
static int check_entry(struct glint__elf *out, uint64_t entry)
{
    const struct glint__segment *es = seg_of(out, entry, 1);
    if (!es || !(es->flags & GLINT__SEG_X))
        return glint__fail(GLINT_EELF, "guest ELF: entry point 0x%llx is not in a code segment",
                           (unsigned long long)entry);
    out->entry = entry;
    return 0;
}

/* The glint note was found and names this host's ABI version. */
static int check_abi_version(const struct glint__elf *out, int have_note)
{
    if (!(have_note & 1))
        return glint__fail(GLINT_EABI,
                           "guest ELF: no glint ABI note (not built with libglint-guest?)");
    if (out->note.abi_version != GLINT_ABI_VERSION)
        return glint__fail(GLINT_EABI, "guest ABI version %u, this host supports version %u",
                           out->note.abi_version, GLINT_ABI_VERSION);
    return 0;
}

/* The steps run in this order, each relying on the ones before it: the header
 * bounds the program headers, the segments bound the entry point and the
 * export table, and the note (version first) describes the table. */
int glint__elf_parse(const void *data, size_t len, struct glint__elf *out)
{
    memset(out, 0, sizeof *out);
    const uint8_t *b = data;
    Elf64_Ehdr eh;
    int have_note = 0;
    int rc = read_header(b, len, &eh);
    if (rc == 0)
        rc = read_program_headers(out, b, len, &eh, &have_note);
    if (rc == 0)
        rc = place_segments(out);
    if (rc == 0)
        rc = check_entry(out, eh.e_entry);
    if (rc == 0)
        rc = check_abi_version(out, have_note);
    if (rc == 0)
        rc = read_exports(out, b);
    if (rc)
        glint__elf_release(out);
    return rc;
}

void glint__elf_release(struct glint__elf *elf)
{
    free(elf->exports);
    elf->exports = NULL;
    elf->nexports = 0;
}
