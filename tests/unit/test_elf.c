/* Unit tests for the guest ELF parser/validator (src/load/elf.c) on synthetic, corrupted images. */
#include <criterion/criterion.h>

#include <linux/elf.h> /* the kernel UAPI ELF types, as the loader uses */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load/elf.h"
#include "elf_builder.h"
#include "runtime/error.h"
#include "glint.h"

/* ---- helpers --------------------------------------------------------------- */

static struct elfb_image img;

static void setup_image(void)
{
    cr_assert_eq(elfb_build(&img, 2), 0);
}

static void teardown_image(void)
{
    elfb_free(&img);
}

TestSuite(elf, .init = setup_image, .fini = teardown_image);

/* Parse the image; expect failure with `code` and a message containing `needle`. */
static void expect_fail_at(const void *data, size_t len, int code, const char *needle,
                           const char *file, int line)
{
    struct glint__elf e;
    glint__clear_error();
    int rc = glint__elf_parse(data, len, &e);
    const char *msg = glint_errmsg();
    cr_assert_eq(rc, code, "%s:%d: rc %d (want %d), message \"%s\"", file, line, rc, code, msg);
    cr_assert(strstr(msg, needle) != NULL, "%s:%d: message \"%s\" lacks \"%s\"", file, line, msg,
              needle);
    cr_assert_null(e.exports, "%s:%d: exports not released on failure", file, line);
    cr_assert_eq(e.nexports, 0);
}
#define expect_fail(code, needle)                                                                  \
    expect_fail_at(img.data, img.len, code, needle, __FILE__, __LINE__)

static void expect_ok_at(const void *data, size_t len, struct glint__elf *e, const char *file,
                         int line)
{
    glint__clear_error();
    int rc = glint__elf_parse(data, len, e);
    cr_assert_eq(rc, 0, "%s:%d: rc %d, message \"%s\"", file, line, rc, glint_errmsg());
}
#define expect_ok(e) expect_ok_at(img.data, img.len, e, __FILE__, __LINE__)

static Elf64_Phdr *ph(unsigned slot)
{
    return elfb_phdr(&img, slot);
}

static struct glint_abi_export *ex(uint32_t i)
{
    return elfb_export(&img, i);
}

/* ---- the valid image ------------------------------------------------------------ */

Test(elf, valid_image_parses)
{
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.entry, ELFB_CODE_VADDR);
    cr_assert_eq(e.nsegs, 3);
    /* Sorted by address although the program headers are not. */
    cr_assert_eq(e.segs[0].vaddr, img.code_vaddr);
    cr_assert_eq(e.segs[0].memsz, ELFB_CODE_SIZE);
    cr_assert_eq(e.segs[0].filesz, ELFB_CODE_SIZE);
    cr_assert_eq(e.segs[0].offset, img.code_off);
    cr_assert_eq(e.segs[0].flags, GLINT__SEG_R | GLINT__SEG_X);
    cr_assert_eq(e.segs[1].vaddr, img.ro_vaddr);
    cr_assert_eq(e.segs[1].filesz, img.ro_filesz);
    cr_assert_eq(e.segs[1].offset, img.ro_off);
    cr_assert_eq(e.segs[1].flags, GLINT__SEG_R);
    cr_assert_eq(e.segs[2].vaddr, img.data_vaddr);
    cr_assert_eq(e.segs[2].filesz, ELFB_DATA_FILESZ);
    cr_assert_eq(e.segs[2].memsz, ELFB_DATA_MEMSZ);
    cr_assert_eq(e.segs[2].offset, img.data_off);
    cr_assert_eq(e.segs[2].flags, GLINT__SEG_R | GLINT__SEG_W);
    cr_assert_eq(e.image_end, img.image_end);
    cr_assert_eq(e.note.abi_version, GLINT_ABI_VERSION);
    cr_assert_eq(e.note.export_size, sizeof(struct glint_abi_export));
    cr_assert_eq(e.note.exports_addr, img.exports_vaddr);
    cr_assert_eq(e.note.exports_end, img.exports_end);
    cr_assert_eq(e.nexports, 2);
    cr_assert_not_null(e.exports);
    cr_assert_str_eq(e.exports[0].name, "Add");
    cr_assert_eq(e.exports[0].ret_type, GLINT_ABI_I32);
    cr_assert_eq(e.exports[0].nparams, 2);
    cr_assert_eq(e.exports[0].params[0], GLINT_ABI_I32);
    cr_assert_eq(e.exports[0].params[1], GLINT_ABI_I32);
    cr_assert_eq(e.exports[0].params[2], 0);
    cr_assert_eq(e.exports[0].fn, ELFB_CODE_VADDR);
    cr_assert_str_eq(e.exports[1].name, "Echo");
    cr_assert_eq(e.exports[1].ret_type, GLINT_ABI_STRING);
    cr_assert_eq(e.exports[1].nparams, 1);
    cr_assert_eq(e.exports[1].params[0], GLINT_ABI_STRING);
    cr_assert_eq(e.exports[1].fn, ELFB_CODE_VADDR + 0x10);
    /* The exports are copies, not pointers into the file. */
    cr_assert((const uint8_t *)e.exports < img.data ||
              (const uint8_t *)e.exports >= img.data + img.len);
    glint__elf_release(&e);
    cr_assert_null(e.exports);
    cr_assert_eq(e.nexports, 0);
    glint__elf_release(&e); /* idempotent */
}

Test(elf, valid_image_with_many_exports)
{
    elfb_free(&img);
    cr_assert_eq(elfb_build(&img, 1024), 0);
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.nexports, 1024);
    cr_assert_str_eq(e.exports[1023].name, "f1023");
    cr_assert_eq(e.exports[1023].ret_type, GLINT_ABI_VOID);
    cr_assert_eq(e.image_end, img.image_end);
    glint__elf_release(&e);
}

Test(elf, valid_image_without_exports)
{
    elfb_note(&img)->exports_end = elfb_note(&img)->exports_addr;
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.nexports, 0);
    cr_assert_null(e.exports);
    glint__elf_release(&e);
}

Test(elf, too_many_exports)
{
    struct glint_abi_note *n = elfb_note(&img);
    n->exports_end = n->exports_addr + 1025u * sizeof(struct glint_abi_export);
    expect_fail(GLINT_EELF, "1025 functions (max 1024)");
}

Test(elf, empty_and_ignored_program_headers)
{
    /* A PT_LOAD with memsz 0 and unknown / GNU program headers are ignored. */
    Elf64_Phdr p = {.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X, .p_vaddr = 0x10};
    cr_assert_geq(elfb_add_phdr(&img, &p), 0);
    Elf64_Phdr stack = {.p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W};
    cr_assert_geq(elfb_add_phdr(&img, &stack), 0);
    Elf64_Phdr relro = {.p_type = PT_GNU_RELRO, .p_offset = ~0ull, .p_filesz = ~0ull};
    cr_assert_geq(elfb_add_phdr(&img, &relro), 0);
    Elf64_Phdr null = {.p_type = PT_NULL};
    cr_assert_geq(elfb_add_phdr(&img, &null), 0);
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.nsegs, 3);
    glint__elf_release(&e);
}

Test(elf, exports_may_follow_other_rodata_in_segment)
{
    /* The table's offset within its segment is honoured: move it by one record. */
    memmove(ex(1), ex(0), 2 * sizeof(struct glint_abi_export));
    memset(ex(0), 0, sizeof(struct glint_abi_export));
    elfb_phdr(&img, ELFB_PH_RO)->p_filesz += sizeof(struct glint_abi_export);
    elfb_phdr(&img, ELFB_PH_RO)->p_memsz += sizeof(struct glint_abi_export);
    /* The grown rodata still fits before the data page. */
    struct glint_abi_note *n = elfb_note(&img);
    n->exports_addr += sizeof(struct glint_abi_export);
    n->exports_end += sizeof(struct glint_abi_export);
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.nexports, 2);
    cr_assert_str_eq(e.exports[0].name, "Add");
    cr_assert_str_eq(e.exports[1].name, "Echo");
    glint__elf_release(&e);
}

/* ---- truncation -------------------------------------------------------------------- */

Test(elf, truncated_at_every_length)
{
    /* Every strict prefix is rejected (the data segment's file bytes end the
     * file), without reading past the prefix: copy each into its own
     * allocation so ASan catches overreads. */
    for (size_t len = 0; len < img.len; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        cr_assert_not_null(copy);
        memcpy(copy, img.data, len);
        struct glint__elf e;
        glint__clear_error();
        int rc = glint__elf_parse(copy, len, &e);
        cr_assert_eq(rc, GLINT_EELF, "length %zu: rc %d (%s)", len, rc, glint_errmsg());
        cr_assert_neq(glint_errmsg()[0], 0, "length %zu: empty message", len);
        cr_assert_null(e.exports);
        free(copy);
    }
    expect_fail_at(img.data, 0, GLINT_EELF, "too short", __FILE__, __LINE__);
    expect_fail_at(NULL, img.len, GLINT_EELF, "too short", __FILE__, __LINE__);
    expect_fail_at(img.data, sizeof(Elf64_Ehdr) - 1, GLINT_EELF, "too short (63 bytes)", __FILE__,
                   __LINE__);
    expect_fail_at(img.data, sizeof(Elf64_Ehdr), GLINT_EELF, "program headers extend past end",
                   __FILE__, __LINE__);
    expect_fail_at(img.data, img.phoff + 4 * sizeof(Elf64_Phdr) - 1, GLINT_EELF,
                   "program headers extend past end", __FILE__, __LINE__);
    /* Headers complete: the first PT_LOAD (data, slot 1) lies past the end. */
    expect_fail_at(img.data, img.phoff + 4 * sizeof(Elf64_Phdr), GLINT_EELF,
                   "note segment extends past end of file", __FILE__, __LINE__);
    expect_fail_at(img.data, img.note_off + ELFB_NOTE_SIZE, GLINT_EELF,
                   "segment 1 extends past end of file", __FILE__, __LINE__);
    expect_fail_at(img.data, img.len - 1, GLINT_EELF, "segment 1 extends past end of file",
                   __FILE__, __LINE__);
    struct glint__elf e;
    expect_ok(&e);
    glint__elf_release(&e);
}

Test(elf, trailing_bytes_are_ignored)
{
    uint8_t *bigger = calloc(1, img.len + 4096);
    cr_assert_not_null(bigger);
    memcpy(bigger, img.data, img.len);
    struct glint__elf e;
    expect_ok_at(bigger, img.len + 4096, &e, __FILE__, __LINE__);
    glint__elf_release(&e);
    free(bigger);
}

/* ---- ELF header --------------------------------------------------------------------- */

Test(elf, bad_magic)
{
    img.data[1] = 'X';
    expect_fail(GLINT_EELF, "bad magic");
    img.data[1] = 'E';
    img.data[0] = 0;
    expect_fail(GLINT_EELF, "bad magic");
}

Test(elf, class_32)
{
    img.data[EI_CLASS] = ELFCLASS32;
    expect_fail(GLINT_EELF, "not a 64-bit ELF (class 1)");
    img.data[EI_CLASS] = ELFCLASSNONE;
    expect_fail(GLINT_EELF, "not a 64-bit ELF");
}

Test(elf, big_endian)
{
    img.data[EI_DATA] = ELFDATA2MSB;
    expect_fail(GLINT_EELF, "not little-endian (data 2)");
}

Test(elf, wrong_version)
{
    elfb_ehdr(&img)->e_version = 2;
    expect_fail(GLINT_EELF, "unknown ELF version");
    elfb_ehdr(&img)->e_version = EV_CURRENT;
    img.data[EI_VERSION] = EV_NONE;
    expect_fail(GLINT_EELF, "unknown ELF version");
}

Test(elf, not_exec)
{
    elfb_ehdr(&img)->e_type = ET_DYN;
    expect_fail(GLINT_EELF, "type 3 is not a static executable");
    elfb_ehdr(&img)->e_type = ET_REL;
    expect_fail(GLINT_EELF, "not a static executable");
    elfb_ehdr(&img)->e_type = ET_CORE;
    expect_fail(GLINT_EELF, "not a static executable");
}

Test(elf, wrong_machine)
{
    elfb_ehdr(&img)->e_machine = EM_386;
    expect_fail(GLINT_EELF, "machine 3 is not x86-64");
    elfb_ehdr(&img)->e_machine = EM_AARCH64;
    expect_fail(GLINT_EELF, "is not x86-64");
}

Test(elf, bad_phentsize)
{
    elfb_ehdr(&img)->e_phentsize = sizeof(Elf32_Phdr);
    expect_fail(GLINT_EELF, "program header entry size is wrong");
    elfb_ehdr(&img)->e_phentsize = sizeof(Elf64_Phdr) + 8;
    expect_fail(GLINT_EELF, "program header entry size is wrong");
    elfb_ehdr(&img)->e_phentsize = 0;
    expect_fail(GLINT_EELF, "program header entry size is wrong");
}

Test(elf, phnum_out_of_range)
{
    elfb_ehdr(&img)->e_phnum = 0;
    expect_fail(GLINT_EELF, "program header count out of range");
    elfb_ehdr(&img)->e_phnum = 65;
    expect_fail(GLINT_EELF, "program header count out of range");
    elfb_ehdr(&img)->e_phnum = 0xffff; /* PN_XNUM */
    expect_fail(GLINT_EELF, "program header count out of range");
}

Test(elf, phoff_out_of_file)
{
    Elf64_Ehdr *eh = elfb_ehdr(&img);
    eh->e_phoff = img.len;
    expect_fail(GLINT_EELF, "program headers extend past end of file");
    eh->e_phoff = img.len - sizeof(Elf64_Phdr); /* only the first one fits */
    expect_fail(GLINT_EELF, "program headers extend past end of file");
    eh->e_phoff = 0xffffffffffffff00ull; /* offset + size overflows */
    expect_fail(GLINT_EELF, "program headers extend past end of file");
    eh->e_phoff = ~0ull;
    expect_fail(GLINT_EELF, "program headers extend past end of file");
}

/* ---- PT_LOAD segments ---------------------------------------------------------- */

Test(elf, segment_past_eof)
{
    Elf64_Phdr *p = ph(ELFB_PH_CODE);
    p->p_offset = img.len - 0x10; /* 0x100 bytes from 0x10 before the end */
    expect_fail(GLINT_EELF, "segment 2 extends past end of file");
    p->p_offset = img.code_off;
    p->p_filesz = p->p_memsz = img.len;
    expect_fail(GLINT_EELF, "segment 2 extends past end of file");
    p->p_filesz = img.len - img.code_off + 1;
    expect_fail(GLINT_EELF, "segment 2 extends past end of file");
    p->p_filesz = img.len - img.code_off; /* exactly to the end: fine for this check */
    p->p_memsz = ELFB_CODE_SIZE;
    expect_fail(GLINT_EELF, "segment 2 file size exceeds memory size");
}

Test(elf, segment_offset_overflow)
{
    ph(ELFB_PH_RO)->p_offset = 0xffffffffffffff00ull;
    expect_fail(GLINT_EELF, "segment 3 extends past end of file");
    ph(ELFB_PH_RO)->p_offset = ~0ull;
    ph(ELFB_PH_RO)->p_filesz = 1;
    expect_fail(GLINT_EELF, "segment 3 extends past end of file");
}

Test(elf, filesz_above_memsz)
{
    ph(ELFB_PH_DATA)->p_filesz = ELFB_DATA_MEMSZ + 1;
    expect_fail(GLINT_EELF, "segment 1 file size exceeds memory size");
}

Test(elf, vaddr_below_image_base)
{
    ph(ELFB_PH_DATA)->p_vaddr = GLINT_ABI_IMAGE_BASE - GLINT_ABI_PAGE_SIZE;
    expect_fail(GLINT_EELF, "outside guest image space");
    ph(ELFB_PH_DATA)->p_vaddr = 0;
    expect_fail(GLINT_EELF, "segment 1 at 0x0+0x2000 is outside guest image space");
    ph(ELFB_PH_DATA)->p_vaddr = GLINT_ABI_IMAGE_BASE - 1;
    expect_fail(GLINT_EELF, "outside guest image space");
}

Test(elf, vaddr_wraps)
{
    Elf64_Phdr *p = ph(ELFB_PH_DATA);
    p->p_memsz = 0xffffffffffffff00ull; /* vaddr + memsz wraps around 2^64 */
    expect_fail(GLINT_EELF, "outside guest image space");
    p->p_memsz = ELFB_DATA_MEMSZ;
    p->p_vaddr = 0xfffffffffffff000ull;
    expect_fail(GLINT_EELF, "outside guest image space");
}

Test(elf, beyond_image_limit)
{
    Elf64_Phdr *p = ph(ELFB_PH_DATA);
    p->p_vaddr = GLINT_ABI_IMAGE_LIMIT;
    expect_fail(GLINT_EELF, "outside guest image space");
    p->p_vaddr = GLINT_ABI_IMAGE_LIMIT - GLINT_ABI_PAGE_SIZE; /* ends 0x1000 past the limit */
    expect_fail(GLINT_EELF, "outside guest image space");
    p->p_vaddr = GLINT_ABI_IMAGE_LIMIT - ELFB_DATA_MEMSZ; /* ends exactly at the limit: fine */
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.image_end, GLINT_ABI_IMAGE_LIMIT);
    glint__elf_release(&e);
}

Test(elf, writable_and_executable)
{
    ph(ELFB_PH_DATA)->p_flags = PF_R | PF_W | PF_X;
    expect_fail(GLINT_EELF, "segment 1 is writable and executable");
    ph(ELFB_PH_DATA)->p_flags = PF_W | PF_X;
    expect_fail(GLINT_EELF, "writable and executable");
    ph(ELFB_PH_DATA)->p_flags = PF_R | PF_W;
    ph(ELFB_PH_CODE)->p_flags = PF_R | PF_W | PF_X;
    expect_fail(GLINT_EELF, "segment 2 is writable and executable");
}

Test(elf, no_permissions)
{
    ph(ELFB_PH_RO)->p_flags = 0;
    expect_fail(GLINT_EELF, "segment 3 has no access rights");
    ph(ELFB_PH_RO)->p_flags = 0xf0000000u; /* only OS/processor-specific bits */
    expect_fail(GLINT_EELF, "segment 3 has no access rights");
}

Test(elf, segments_overlap)
{
    ph(ELFB_PH_RO)->p_vaddr = img.code_vaddr + 0x80; /* inside the code segment */
    expect_fail(GLINT_EELF, "overlap or share a page");
    ph(ELFB_PH_RO)->p_vaddr = img.code_vaddr; /* same start */
    expect_fail(GLINT_EELF, "overlap or share a page");
}

Test(elf, segments_share_a_page)
{
    /* rodata ends at 0x201000 + 0x100; data starting later in that page shares it. */
    ph(ELFB_PH_DATA)->p_vaddr = img.ro_vaddr + 0x800;
    expect_fail(GLINT_EELF, "overlap or share a page");
    char want[96];
    snprintf(want, sizeof want, "segments at 0x%llx and 0x%llx", (unsigned long long)img.ro_vaddr,
             (unsigned long long)(img.ro_vaddr + 0x800));
    expect_fail(GLINT_EELF, want);
    /* Code ends at 0x200100: rodata at 0x200f00 still shares the first page. */
    ph(ELFB_PH_DATA)->p_vaddr = img.data_vaddr;
    ph(ELFB_PH_RO)->p_vaddr = img.code_vaddr + 0xf00;
    expect_fail(GLINT_EELF, "overlap or share a page");
}

Test(elf, adjacent_pages_are_fine)
{
    ph(ELFB_PH_CODE)->p_memsz = GLINT_ABI_PAGE_SIZE; /* code ends exactly where rodata begins */
    struct glint__elf e;
    expect_ok(&e);
    glint__elf_release(&e);
}

Test(elf, too_many_load_segments)
{
    /* 3 segments + 13 more = 16: the maximum. */
    for (unsigned i = 0; i < 13; i++)
        cr_assert_geq(elfb_add_empty_load(&img, 0x400000u + i * 0x2000u), 0);
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.nsegs, GLINT__ELF_MAX_SEGMENTS);
    for (uint32_t i = 1; i < e.nsegs; i++)
        cr_assert_lt(e.segs[i - 1].vaddr, e.segs[i].vaddr);
    cr_assert_eq(e.image_end, 0x400000u + 12 * 0x2000u + GLINT_ABI_PAGE_SIZE);
    glint__elf_release(&e);
    /* The 17th. */
    int slot = elfb_add_empty_load(&img, 0x500000u);
    cr_assert_eq(slot, 17);
    expect_fail(GLINT_EELF, "too many PT_LOAD segments (index, max) (17, 16)");
}

Test(elf, no_load_segments)
{
    ph(ELFB_PH_CODE)->p_type = PT_NULL;
    ph(ELFB_PH_RO)->p_type = PT_NULL;
    ph(ELFB_PH_DATA)->p_type = PT_NULL;
    expect_fail(GLINT_EELF, "no loadable segments");
}

Test(elf, dynamic_and_tls_segments)
{
    Elf64_Phdr p = {.p_type = PT_INTERP, .p_flags = PF_R};
    int slot = elfb_add_phdr(&img, &p);
    expect_fail(GLINT_EELF, "dynamically linked (segment 4)");
    ph((unsigned)slot)->p_type = PT_DYNAMIC;
    expect_fail(GLINT_EELF, "dynamically linked");
    ph((unsigned)slot)->p_type = PT_TLS;
    expect_fail(GLINT_EELF, "thread-local storage is not supported");
}

/* ---- entry point ------------------------------------------------------------------- */

Test(elf, entry_outside_code)
{
    Elf64_Ehdr *eh = elfb_ehdr(&img);
    eh->e_entry = 0;
    expect_fail(GLINT_EELF, "entry point 0x0 is not in a code segment");
    eh->e_entry = img.code_vaddr + ELFB_CODE_SIZE; /* one past the end */
    expect_fail(GLINT_EELF, "entry point 0x200100 is not in a code segment");
    eh->e_entry = img.code_vaddr - 1;
    expect_fail(GLINT_EELF, "is not in a code segment");
    eh->e_entry = ~0ull;
    expect_fail(GLINT_EELF, "is not in a code segment");
    eh->e_entry = img.code_vaddr + ELFB_CODE_SIZE - 1; /* last byte: fine */
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.entry, img.code_vaddr + ELFB_CODE_SIZE - 1);
    glint__elf_release(&e);
}

Test(elf, entry_in_data)
{
    elfb_ehdr(&img)->e_entry = img.data_vaddr;
    expect_fail(GLINT_EELF, "is not in a code segment");
    elfb_ehdr(&img)->e_entry = img.data_vaddr + ELFB_DATA_MEMSZ - 1; /* in the bss */
    expect_fail(GLINT_EELF, "is not in a code segment");
    elfb_ehdr(&img)->e_entry = img.ro_vaddr;
    expect_fail(GLINT_EELF, "is not in a code segment");
}

/* ---- the glint note ------------------------------------------------------------- */

Test(elf, no_note)
{
    ph(ELFB_PH_NOTE)->p_type = PT_NULL;
    expect_fail(GLINT_EABI, "no glint ABI note");
}

Test(elf, note_with_other_name_or_type_is_ignored)
{
    img.data[img.note_name_off] = 'G';
    expect_fail(GLINT_EABI, "no glint ABI note");
    img.data[img.note_name_off] = 'g';
    elfb_nhdr(&img)->n_type = 1; /* NT_GNU_ABI_TAG-like */
    expect_fail(GLINT_EABI, "no glint ABI note");
    elfb_nhdr(&img)->n_type = GLINT_ABI_NOTE_TYPE;
    elfb_nhdr(&img)->n_namesz = 5; /* "glint" without its NUL */
    expect_fail(GLINT_EABI, "no glint ABI note");
    elfb_nhdr(&img)->n_namesz = 6;
    ph(ELFB_PH_NOTE)->p_filesz = sizeof(Elf64_Nhdr) - 1; /* too small for a note header */
    expect_fail(GLINT_EABI, "no glint ABI note");
}

Test(elf, note_wrong_version)
{
    elfb_note(&img)->abi_version = GLINT_ABI_VERSION + 1;
    expect_fail(GLINT_EABI, "guest ABI version 3, this host supports version 2");
    elfb_note(&img)->abi_version = GLINT_ABI_VERSION - 1; /* before the TLS page */
    expect_fail(GLINT_EABI, "guest ABI version 1, this host supports version 2");
    elfb_note(&img)->abi_version = 0;
    expect_fail(GLINT_EABI, "guest ABI version 0");
}

Test(elf, note_wrong_desc_size)
{
    elfb_nhdr(&img)->n_descsz = 16;
    expect_fail(GLINT_EABI, "glint ABI note has size 16, want 24");
    elfb_nhdr(&img)->n_descsz = 0;
    expect_fail(GLINT_EABI, "glint ABI note has size 0, want 24");
    elfb_nhdr(&img)->n_descsz = 21; /* rounds up to 24: fits, but is not 24 */
    expect_fail(GLINT_EABI, "glint ABI note has size 21");
}

Test(elf, note_overflows_segment)
{
    Elf64_Nhdr *nh = elfb_nhdr(&img);
    nh->n_descsz = 32;
    expect_fail(GLINT_EELF, "note extends past its segment");
    nh->n_descsz = 0xffffffffu;
    expect_fail(GLINT_EELF, "note extends past its segment");
    nh->n_descsz = 0xfffffffdu; /* rounds up to 2^32 */
    expect_fail(GLINT_EELF, "note extends past its segment");
    nh->n_descsz = sizeof(struct glint_abi_note);
    nh->n_namesz = 0xffffffffu;
    expect_fail(GLINT_EELF, "note extends past its segment");
    nh->n_namesz = 33;
    expect_fail(GLINT_EELF, "note extends past its segment");
    nh->n_namesz = 6;
    ph(ELFB_PH_NOTE)->p_filesz = ELFB_NOTE_SIZE - 1;
    expect_fail(GLINT_EELF, "note extends past its segment");
}

Test(elf, note_segment_outside_file)
{
    ph(ELFB_PH_NOTE)->p_offset = img.len - 8;
    expect_fail(GLINT_EELF, "note segment extends past end of file");
    ph(ELFB_PH_NOTE)->p_offset = 0xffffffffffffff00ull;
    expect_fail(GLINT_EELF, "note segment extends past end of file");
    ph(ELFB_PH_NOTE)->p_offset = img.note_off;
    ph(ELFB_PH_NOTE)->p_filesz = ~0ull;
    expect_fail(GLINT_EELF, "note segment extends past end of file");
}

Test(elf, two_glint_notes)
{
    /* Two notes in one segment. */
    memcpy(img.data + img.note_off + ELFB_NOTE_SIZE, img.data + img.note_off, ELFB_NOTE_SIZE);
    ph(ELFB_PH_NOTE)->p_filesz = 2 * ELFB_NOTE_SIZE;
    expect_fail(GLINT_EABI, "more than one glint ABI note");
    /* Two PT_NOTE segments holding the same note. */
    ph(ELFB_PH_NOTE)->p_filesz = ELFB_NOTE_SIZE;
    struct glint__elf e;
    expect_ok(&e);
    glint__elf_release(&e);
    Elf64_Phdr copy = *ph(ELFB_PH_NOTE);
    cr_assert_geq(elfb_add_phdr(&img, &copy), 0);
    expect_fail(GLINT_EABI, "more than one glint ABI note");
}

Test(elf, glint_note_after_other_notes)
{
    /* A foreign note (namesz 4 "GNU", descsz 5 -> padded 8) before the glint note. */
    static const uint8_t gnu[] = {4,   0,   0,   0, 5, 0, 0, 0, 3, 0, 0, 0,
                                  'G', 'N', 'U', 0, 1, 2, 3, 4, 5, 0, 0, 0};
    size_t at = img.note_off - sizeof gnu;
    memcpy(img.data + at, gnu, sizeof gnu);
    ph(ELFB_PH_NOTE)->p_offset = at;
    ph(ELFB_PH_NOTE)->p_filesz = sizeof gnu + ELFB_NOTE_SIZE;
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.note.exports_addr, img.exports_vaddr);
    glint__elf_release(&e);
}

Test(elf, note_wrong_export_size)
{
    elfb_note(&img)->export_size = 88;
    expect_fail(GLINT_EABI, "export record size 88, want 96");
}

/* ---- the export table ------------------------------------------------------------- */

Test(elf, exports_size_not_multiple)
{
    elfb_note(&img)->exports_end -= 1;
    expect_fail(GLINT_EELF, "table size not a multiple of a record");
    elfb_note(&img)->exports_end = elfb_note(&img)->exports_addr + 95;
    expect_fail(GLINT_EELF, "table size not a multiple of a record");
}

Test(elf, exports_end_before_start)
{
    struct glint_abi_note *n = elfb_note(&img);
    n->exports_end = n->exports_addr - sizeof(struct glint_abi_export);
    expect_fail(GLINT_EELF, "table end before its start");
    n->exports_end = 0;
    expect_fail(GLINT_EELF, "table end before its start");
}

Test(elf, exports_outside_segments)
{
    struct glint_abi_note *n = elfb_note(&img);
    uint64_t bytes = n->exports_end - n->exports_addr;
    n->exports_addr = 0x300000;
    n->exports_end = 0x300000 + bytes;
    expect_fail(GLINT_EELF, "not in read-only file data");
    /* Starting inside rodata but running past its end. */
    n->exports_addr = img.ro_vaddr + img.ro_filesz - sizeof(struct glint_abi_export);
    n->exports_end = n->exports_addr + bytes;
    expect_fail(GLINT_EELF, "not in read-only file data");
    /* Near the top of the address space. */
    n->exports_addr = 0xffffffffffffffa0ull - bytes;
    n->exports_end = 0xffffffffffffffa0ull;
    expect_fail(GLINT_EELF, "not in read-only file data");
}

Test(elf, exports_in_zero_fill_of_readonly_segment)
{
    /* rodata gets a bss-like tail; a table reaching into it has no file bytes. */
    ph(ELFB_PH_RO)->p_memsz = GLINT_ABI_PAGE_SIZE;
    struct glint_abi_note *n = elfb_note(&img);
    n->exports_end += sizeof(struct glint_abi_export);
    expect_fail(GLINT_EELF, "not in read-only file data");
    n->exports_addr = img.ro_vaddr + img.ro_filesz;
    n->exports_end = n->exports_addr + sizeof(struct glint_abi_export);
    expect_fail(GLINT_EELF, "not in read-only file data");
}

Test(elf, exports_in_writable_segment)
{
    ph(ELFB_PH_RO)->p_flags = PF_R | PF_W;
    expect_fail(GLINT_EELF, "not in read-only file data");
    /* Pointing into the data segment. */
    ph(ELFB_PH_RO)->p_flags = PF_R;
    struct glint_abi_note *n = elfb_note(&img);
    n->exports_addr = img.data_vaddr;
    n->exports_end = img.data_vaddr + sizeof(struct glint_abi_export);
    expect_fail(GLINT_EELF, "not in read-only file data");
}

Test(elf, export_name_not_terminated)
{
    memset(ex(1)->name, 'A', sizeof ex(1)->name);
    expect_fail(GLINT_EELF, "entry 1 name not NUL-terminated");
}

Test(elf, export_name_invalid)
{
    strcpy(ex(0)->name, "Add-1");
    expect_fail(GLINT_EELF, "entry 0 has an invalid name");
    memset(ex(0)->name, 0, sizeof ex(0)->name);
    expect_fail(GLINT_EELF, "entry 0 has an invalid name"); /* empty */
    strcpy(ex(0)->name, "a b");
    expect_fail(GLINT_EELF, "entry 0 has an invalid name");
    strcpy(ex(0)->name, "\xc3\xa9t\xc3\xa9");
    expect_fail(GLINT_EELF, "entry 0 has an invalid name");
    memset(ex(0)->name, 0, sizeof ex(0)->name);
    memset(ex(0)->name, 'x', GLINT_ABI_NAME_MAX - 1); /* 63 bytes + NUL: the longest */
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(strlen(e.exports[0].name), 63);
    glint__elf_release(&e);
}

Test(elf, export_name_padding_garbage)
{
    ex(1)->name[6] = 'X'; /* "Echo\0\0X" */
    expect_fail(GLINT_EELF, "'Echo' name padding not zero");
    ex(1)->name[6] = 0;
    ex(1)->name[GLINT_ABI_NAME_MAX - 1] = 1;
    expect_fail(GLINT_EELF, "'Echo' name padding not zero");
}

Test(elf, export_bad_return_type)
{
    ex(0)->ret_type = 10;
    expect_fail(GLINT_EELF, "'Add' has unknown return type 10");
    ex(0)->ret_type = 255;
    expect_fail(GLINT_EELF, "'Add' has unknown return type 255");
}

Test(elf, export_too_many_params)
{
    ex(0)->nparams = 17;
    expect_fail(GLINT_EELF, "'Add' has 17 parameters (max 16)");
}

Test(elf, export_sixteen_params)
{
    ex(0)->nparams = 16;
    for (unsigned k = 0; k < 16; k++)
        ex(0)->params[k] = (uint8_t)(1 + k % GLINT_ABI_TYPE_MAX);
    struct glint__elf e;
    expect_ok(&e);
    cr_assert_eq(e.exports[0].nparams, 16);
    cr_assert_eq(e.exports[0].params[15], 1 + 15 % GLINT_ABI_TYPE_MAX);
    glint__elf_release(&e);
}

Test(elf, export_bad_param_type)
{
    ex(0)->params[1] = GLINT_ABI_VOID;
    expect_fail(GLINT_EELF, "'Add' parameter 1 has bad type 0");
    ex(0)->params[1] = 12;
    expect_fail(GLINT_EELF, "'Add' parameter 1 has bad type 12");
    ex(0)->params[1] = 10;
    expect_fail(GLINT_EELF, "'Add' parameter 1 has bad type 10");
    ex(0)->params[1] = GLINT_ABI_I32;
    ex(0)->params[0] = 0xff;
    expect_fail(GLINT_EELF, "'Add' parameter 0 has bad type 255");
}

Test(elf, export_param_beyond_nparams)
{
    ex(0)->params[2] = GLINT_ABI_I32;
    expect_fail(GLINT_EELF, "'Add' parameter 2 has bad type 1");
    ex(0)->params[2] = 0;
    ex(0)->params[15] = 9;
    expect_fail(GLINT_EELF, "'Add' parameter 15 has bad type 9");
}

Test(elf, export_reserved_bytes)
{
    ex(1)->reserved[0] = 1;
    expect_fail(GLINT_EELF, "'Echo' reserved bytes not zero");
    ex(1)->reserved[0] = 0;
    ex(1)->reserved[5] = 0x80;
    expect_fail(GLINT_EELF, "'Echo' reserved bytes not zero");
}

Test(elf, export_fn_outside_code)
{
    ex(1)->fn = img.ro_vaddr;
    expect_fail(GLINT_EELF, "'Echo' entry 0x201000 is not in code");
    ex(1)->fn = 0;
    expect_fail(GLINT_EELF, "'Echo' entry 0x0 is not in code");
    ex(1)->fn = img.code_vaddr + ELFB_CODE_SIZE;
    expect_fail(GLINT_EELF, "is not in code");
    ex(1)->fn = img.data_vaddr + 0x100;
    expect_fail(GLINT_EELF, "is not in code");
    ex(1)->fn = ~0ull;
    expect_fail(GLINT_EELF, "is not in code");
}

Test(elf, export_duplicate_names)
{
    strcpy(ex(1)->name, "Add");
    expect_fail(GLINT_EELF, "'Add' exported twice");
}

Test(elf, export_duplicate_names_far_apart)
{
    elfb_free(&img);
    cr_assert_eq(elfb_build(&img, 300), 0);
    memset(ex(299)->name, 0, sizeof ex(299)->name);
    strcpy(ex(299)->name, "f7");
    expect_fail(GLINT_EELF, "'f7' exported twice");
}

/* ---- random mutation ----------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Properties any accepted image has. */
static void check_accepted(const struct glint__elf *e, size_t len)
{
    cr_assert(e->nsegs >= 1 && e->nsegs <= GLINT__ELF_MAX_SEGMENTS);
    for (uint32_t i = 0; i < e->nsegs; i++) {
        const struct glint__segment *s = &e->segs[i];
        cr_assert_geq(s->vaddr, GLINT_ABI_IMAGE_BASE);
        cr_assert_leq(s->memsz, GLINT_ABI_IMAGE_LIMIT - s->vaddr);
        cr_assert_leq(s->filesz, s->memsz);
        cr_assert(s->offset <= len && s->filesz <= len - s->offset);
        cr_assert(!((s->flags & GLINT__SEG_W) && (s->flags & GLINT__SEG_X)));
        cr_assert_neq(s->flags, 0);
        if (i > 0)
            cr_assert_geq(s->vaddr & ~(uint64_t)(GLINT_ABI_PAGE_SIZE - 1),
                          e->segs[i - 1].vaddr + e->segs[i - 1].memsz);
    }
    cr_assert_leq(e->image_end, GLINT_ABI_IMAGE_LIMIT);
    cr_assert_eq(e->note.abi_version, GLINT_ABI_VERSION);
    cr_assert_leq(e->nexports, GLINT__ELF_MAX_EXPORTS);
    cr_assert(e->nexports == 0 || e->exports != NULL);
    for (uint32_t i = 0; i < e->nexports; i++) {
        const struct glint_abi_export *x = &e->exports[i];
        cr_assert_lt(strnlen(x->name, sizeof x->name), sizeof x->name);
        cr_assert_leq(x->ret_type, GLINT_ABI_TYPE_MAX);
        cr_assert_leq(x->nparams, GLINT_ABI_MAX_PARAMS);
    }
}

Test(elf, random_mutations_never_crash)
{
    rng_state = 0x676c696e74454c46ull; /* fixed seed */
    uint8_t *copy = malloc(img.len);
    cr_assert_not_null(copy);
    /* Most of the file is zero padding; aim half the flips at the parts the
     * parser reads: headers, the note, the export table. */
    const size_t hot[][2] = {
        {0, img.phoff + ELFB_PH_COUNT * sizeof(Elf64_Phdr)},
        {img.note_off, ELFB_NOTE_SIZE},
        {img.exports_off, 2 * sizeof(struct glint_abi_export)},
    };
    unsigned ok = 0, eelf = 0, eabi = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(copy, img.data, img.len);
        unsigned flips = 1 + (unsigned)(rng() % 8);
        for (unsigned f = 0; f < flips; f++) {
            uint64_t r = rng();
            size_t pos;
            if (r & 1) {
                const size_t *h = hot[(r >> 1) % 3];
                pos = h[0] + (size_t)((r >> 8) % h[1]);
            } else {
                pos = (size_t)((r >> 8) % img.len);
            }
            uint64_t how = rng();
            if (how % 4 == 0)
                copy[pos] ^= (uint8_t)(1u << ((how >> 8) % 8)); /* one bit */
            else if (how % 4 == 1)
                copy[pos] = (uint8_t)((how >> 8) % 2 ? 0xff : 0); /* extreme */
            else
                copy[pos] = (uint8_t)(how >> 8); /* any byte */
        }
        struct glint__elf e;
        glint__clear_error();
        int rc = glint__elf_parse(copy, img.len, &e);
        if (rc == 0) {
            check_accepted(&e, img.len);
            ok++;
        } else {
            cr_assert(rc == GLINT_EELF || rc == GLINT_EABI, "iteration %d: rc %d (%s)", iter, rc,
                      glint_errmsg());
            cr_assert_neq(glint_errmsg()[0], 0, "iteration %d: empty message", iter);
            cr_assert_null(e.exports);
            if (rc == GLINT_EELF)
                eelf++;
            else
                eabi++;
        }
        glint__elf_release(&e);
    }
    free(copy);
    cr_log_info("mutations: %u accepted, %u EELF, %u EABI", ok, eelf, eabi);
    /* The mutations reach every outcome. */
    cr_assert_gt(ok, 0);
    cr_assert_gt(eelf, 0);
    cr_assert_gt(eabi, 0);
}

/* ---- glint__read_file --------------------------------------------------------------- */

Test(elf_read, missing_file)
{
    void *data = (void *)1;
    size_t len = 7;
    int rc = glint__read_file("/nonexistent/glint/guest.elf", 1 << 20, &data, &len);
    cr_assert_eq(rc, GLINT_EIO);
    cr_assert(strstr(glint_errmsg(), "cannot open /nonexistent/glint/guest.elf") != NULL, "%s",
              glint_errmsg());
    cr_assert(strstr(glint_errmsg(), "No such file") != NULL, "%s", glint_errmsg());
    cr_assert_eq(data, (void *)1); /* untouched on failure */
    cr_assert_eq(len, 7);
}

Test(elf_read, directory)
{
    void *data = NULL;
    size_t len = 0;
    int rc = glint__read_file("/tmp", 1 << 20, &data, &len);
    cr_assert_eq(rc, GLINT_EIO);
    cr_assert(strstr(glint_errmsg(), "/tmp is not a regular file") != NULL, "%s", glint_errmsg());
    cr_assert_null(data);
}

static char *write_temp(const void *data, size_t len)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/glint-elf-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

Test(elf_read, reads_and_parses_file)
{
    struct elfb_image im;
    cr_assert_eq(elfb_build(&im, 2), 0);
    char *path = write_temp(im.data, im.len);
    void *data = NULL;
    size_t len = 0;
    int rc = glint__read_file(path, 1 << 20, &data, &len);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    cr_assert_eq(len, im.len);
    cr_assert_eq(memcmp(data, im.data, len), 0);
    struct glint__elf e;
    cr_assert_eq(glint__elf_parse(data, len, &e), 0, "%s", glint_errmsg());
    cr_assert_eq(e.nexports, 2);
    glint__elf_release(&e);
    free(data);
    /* Exactly at the limit is fine; one byte under is too small. */
    rc = glint__read_file(path, im.len, &data, &len);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    free(data);
    data = NULL;
    rc = glint__read_file(path, im.len - 1, &data, &len);
    cr_assert_eq(rc, GLINT_EIO);
    cr_assert(strstr(glint_errmsg(), "is too large") != NULL, "%s", glint_errmsg());
    cr_assert_null(data);
    unlink(path);
    elfb_free(&im);
}

Test(elf_read, empty_file)
{
    char *path = write_temp("", 0);
    void *data = NULL;
    size_t len = 99;
    int rc = glint__read_file(path, 1 << 20, &data, &len);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    cr_assert_eq(len, 0);
    cr_assert_not_null(data);
    struct glint__elf e;
    cr_assert_eq(glint__elf_parse(data, len, &e), GLINT_EELF);
    cr_assert(strstr(glint_errmsg(), "too short (0 bytes)") != NULL, "%s", glint_errmsg());
    free(data);
    unlink(path);
}
