/* Writes the malformed-guest corpus (one file per defect) and its MANIFEST into argv[1]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/elf_builder.h"

/*
 * Every case starts from the builder's valid image with 2 exports ("Add",
 * "Echo") and breaks exactly one thing; the parser must reject it with the
 * listed code and a message containing the listed text. The output depends
 * on nothing but this file and the builder, so regenerating is byte-identical.
 *
 * MANIFEST: one line per file, "<file> <EELF|EABI> <message substring>"; the
 * substring is the rest of the line after one space and may contain spaces.
 */

typedef void (*mutate_fn)(struct elfb_image *im);

struct gen_case {
    const char *file;
    const char *code; /* "EELF" or "EABI" */
    const char *msg;  /* substring of glint_errmsg() */
    mutate_fn mutate;
};

static Elf64_Phdr *ph(struct elfb_image *im, unsigned slot)
{
    return elfb_phdr(im, slot);
}

static struct glint_abi_export *ex(struct elfb_image *im, uint32_t i)
{
    return elfb_export(im, i);
}

static void add_phdr(struct elfb_image *im, uint32_t type)
{
    Elf64_Phdr p;
    memset(&p, 0, sizeof p);
    p.p_type = type;
    p.p_flags = PF_R;
    p.p_align = 8;
    if (elfb_add_phdr(im, &p) < 0) {
        fprintf(stderr, "gen-malformed: no free program header slot\n");
        exit(1);
    }
}

/* ---- truncation and not-an-ELF ---------------------------------------------------- */

static void m_empty(struct elfb_image *im)
{
    im->len = 0;
}
static void m_trunc_1(struct elfb_image *im)
{
    im->len = 1;
}
static void m_trunc_16(struct elfb_image *im)
{
    im->len = 16;
}
static void m_trunc_63(struct elfb_image *im)
{
    im->len = sizeof(Elf64_Ehdr) - 1;
}
static void m_trunc_64(struct elfb_image *im)
{
    im->len = sizeof(Elf64_Ehdr);
}
static void m_trunc_in_phdrs(struct elfb_image *im)
{
    im->len = ELFB_PHOFF + ELFB_PH_COUNT * sizeof(Elf64_Phdr) - 1;
}
static void m_trunc_before_note(struct elfb_image *im)
{
    im->len = ELFB_NOTE_OFF + 8; /* the note segment is cut */
}
static void m_trunc_in_code(struct elfb_image *im)
{
    im->len = ELFB_CODE_OFF + 0x80; /* the data segment (slot 1) is checked first */
}
static void m_trunc_last_byte(struct elfb_image *im)
{
    im->len -= 1;
}
static void m_not_elf(struct elfb_image *im)
{
    static const char text[] = "#!/bin/sh\necho this is not an ELF file\n";
    memset(im->data, 0, im->len);
    memcpy(im->data, text, sizeof text - 1);
    im->len = 0x200;
}
static void m_elf_magic_typo(struct elfb_image *im)
{
    im->data[3] = 'L' + 0x20; /* "\x7f" "ELl" */
}

/* ---- ELF header -------------------------------------------------------------------- */

static void m_elf32(struct elfb_image *im)
{
    elfb_ehdr(im)->e_ident[EI_CLASS] = ELFCLASS32;
}
static void m_class_none(struct elfb_image *im)
{
    elfb_ehdr(im)->e_ident[EI_CLASS] = ELFCLASSNONE;
}
static void m_big_endian(struct elfb_image *im)
{
    elfb_ehdr(im)->e_ident[EI_DATA] = ELFDATA2MSB;
}
static void m_bad_version(struct elfb_image *im)
{
    elfb_ehdr(im)->e_version = 2;
}
static void m_bad_ident_version(struct elfb_image *im)
{
    elfb_ehdr(im)->e_ident[EI_VERSION] = 0;
}
static void m_et_dyn(struct elfb_image *im)
{
    elfb_ehdr(im)->e_type = ET_DYN;
}
static void m_et_rel(struct elfb_image *im)
{
    elfb_ehdr(im)->e_type = ET_REL;
}
static void m_et_core(struct elfb_image *im)
{
    elfb_ehdr(im)->e_type = ET_CORE;
}
static void m_machine_aarch64(struct elfb_image *im)
{
    elfb_ehdr(im)->e_machine = 183; /* EM_AARCH64 */
}
static void m_machine_i386(struct elfb_image *im)
{
    elfb_ehdr(im)->e_machine = EM_386;
}
static void m_phentsize(struct elfb_image *im)
{
    elfb_ehdr(im)->e_phentsize = sizeof(Elf32_Phdr);
}
static void m_phnum_0(struct elfb_image *im)
{
    elfb_ehdr(im)->e_phnum = 0;
}
static void m_phnum_65(struct elfb_image *im)
{
    elfb_ehdr(im)->e_phnum = 65;
}
static void m_phnum_huge(struct elfb_image *im)
{
    elfb_ehdr(im)->e_phnum = 0xffff;
}
static void m_phoff_past_eof(struct elfb_image *im)
{
    elfb_ehdr(im)->e_phoff = im->len;
}
static void m_phoff_straddles_eof(struct elfb_image *im)
{
    elfb_ehdr(im)->e_phoff = im->len - sizeof(Elf64_Phdr);
}
static void m_phoff_overflow(struct elfb_image *im)
{
    elfb_ehdr(im)->e_phoff = 0xffffffffffffffc0ull; /* + 4 headers wraps past 2^64 */
}

/* ---- PT_LOAD segments (slot 1 data, 2 code, 3 rodata) ------------------------------- */

static void m_seg_offset_past_eof(struct elfb_image *im)
{
    ph(im, ELFB_PH_CODE)->p_offset = im->len;
}
static void m_seg_filesz_past_eof(struct elfb_image *im)
{
    ph(im, ELFB_PH_CODE)->p_filesz = 0x100000;
    ph(im, ELFB_PH_CODE)->p_memsz = 0x100000;
}
static void m_seg_offset_overflow(struct elfb_image *im)
{
    ph(im, ELFB_PH_CODE)->p_offset = 0xfffffffffffff000ull; /* + filesz wraps */
}
static void m_seg_filesz_gt_memsz(struct elfb_image *im)
{
    ph(im, ELFB_PH_CODE)->p_memsz = ELFB_CODE_SIZE / 2;
}
static void m_seg_below_base(struct elfb_image *im)
{
    ph(im, ELFB_PH_CODE)->p_vaddr = 0x100000;
}
static void m_seg_null_page(struct elfb_image *im)
{
    ph(im, ELFB_PH_CODE)->p_vaddr = 0;
}
static void m_seg_beyond_limit(struct elfb_image *im)
{
    ph(im, ELFB_PH_DATA)->p_vaddr = GLINT_ABI_IMAGE_LIMIT;
}
static void m_seg_crosses_limit(struct elfb_image *im)
{
    ph(im, ELFB_PH_DATA)->p_vaddr = GLINT_ABI_IMAGE_LIMIT - 0x1000;
}
static void m_seg_wraps_vaddr(struct elfb_image *im)
{
    ph(im, ELFB_PH_DATA)->p_vaddr = 0xfffffffffffff000ull; /* + memsz wraps to 0x1000 */
}
static void m_seg_wraps_memsz(struct elfb_image *im)
{
    ph(im, ELFB_PH_DATA)->p_memsz = 0xffffffffffe00000ull; /* vaddr + memsz wraps */
}
static void m_seg_wx(struct elfb_image *im)
{
    ph(im, ELFB_PH_CODE)->p_flags = PF_R | PF_W | PF_X;
}
static void m_seg_wx_data(struct elfb_image *im)
{
    ph(im, ELFB_PH_DATA)->p_flags = PF_W | PF_X;
}
static void m_seg_no_perms(struct elfb_image *im)
{
    ph(im, ELFB_PH_RO)->p_flags = 0;
}
static void m_seg_only_os_bits(struct elfb_image *im)
{
    ph(im, ELFB_PH_RO)->p_flags = 0xf0000000u;
}
static void m_seg_overlap(struct elfb_image *im)
{
    ph(im, ELFB_PH_RO)->p_vaddr = ELFB_CODE_VADDR + 0x80;
}
static void m_seg_same_start(struct elfb_image *im)
{
    ph(im, ELFB_PH_RO)->p_vaddr = ELFB_CODE_VADDR;
}
static void m_seg_share_page(struct elfb_image *im)
{
    ph(im, ELFB_PH_DATA)->p_vaddr = im->ro_vaddr + 0x800;
}
static void m_seg_17_loads(struct elfb_image *im)
{
    /* 3 real segments + 13 empty pages = 16, the maximum; then one more. */
    for (unsigned i = 0; i < 13; i++)
        elfb_add_empty_load(im, 0x400000u + i * 0x2000u);
    elfb_add_empty_load(im, 0x500000u);
}
static void m_seg_none(struct elfb_image *im)
{
    ph(im, ELFB_PH_CODE)->p_type = PT_NULL;
    ph(im, ELFB_PH_RO)->p_type = PT_NULL;
    ph(im, ELFB_PH_DATA)->p_type = PT_NULL;
}
static void m_pt_interp(struct elfb_image *im)
{
    add_phdr(im, PT_INTERP);
}
static void m_pt_dynamic(struct elfb_image *im)
{
    add_phdr(im, PT_DYNAMIC);
}
static void m_pt_tls(struct elfb_image *im)
{
    add_phdr(im, PT_TLS);
}

/* ---- entry point -------------------------------------------------------------------- */

static void m_entry_zero(struct elfb_image *im)
{
    elfb_ehdr(im)->e_entry = 0;
}
static void m_entry_past_code(struct elfb_image *im)
{
    elfb_ehdr(im)->e_entry = ELFB_CODE_VADDR + ELFB_CODE_SIZE;
}
static void m_entry_in_data(struct elfb_image *im)
{
    elfb_ehdr(im)->e_entry = im->data_vaddr;
}
static void m_entry_in_rodata(struct elfb_image *im)
{
    elfb_ehdr(im)->e_entry = im->ro_vaddr;
}

/* ---- the defaults note (optional; GLINT_GUEST_DEFAULTS) ------------------------------ */

static void defaults(struct elfb_image *im, struct glint_abi_defaults d, uint32_t descsz)
{
    if (elfb_add_defaults(im, &d, descsz) != 0) {
        fprintf(stderr, "gen-malformed: no room for a defaults note\n");
        exit(1);
    }
}
static void m_def_heap_unaligned(struct elfb_image *im)
{
    defaults(im, (struct glint_abi_defaults){.heap_size = 0x1001}, 40);
}
static void m_def_heap_big(struct elfb_image *im)
{
    defaults(im, (struct glint_abi_defaults){.heap_size = 512ull << 20}, 40);
}
static void m_def_stack_small(struct elfb_image *im)
{
    defaults(im, (struct glint_abi_defaults){.stack_size = 4096}, 40);
}
static void m_def_input_big(struct elfb_image *im)
{
    defaults(im, (struct glint_abi_defaults){.input_size = 32ull << 20}, 40);
}
static void m_def_output_huge(struct elfb_image *im)
{
    defaults(im, (struct glint_abi_defaults){.output_size = 0xfffffffffffff000ull}, 40);
}
static void m_def_flags(struct elfb_image *im)
{
    defaults(im, (struct glint_abi_defaults){.flags = 0x80000002u}, 40);
}
static void m_def_reserved(struct elfb_image *im)
{
    defaults(im, (struct glint_abi_defaults){.reserved = 1}, 40);
}
static void m_def_size(struct elfb_image *im)
{
    defaults(im, (struct glint_abi_defaults){.heap_size = 1 << 20}, 32);
}
static void m_def_two(struct elfb_image *im)
{
    defaults(im, (struct glint_abi_defaults){.heap_size = 1 << 20}, 40);
    defaults(im, (struct glint_abi_defaults){.heap_size = 2 << 20}, 40);
}

/* ---- the glint note ------------------------------------------------------------------- */

static void m_note_missing(struct elfb_image *im)
{
    ph(im, ELFB_PH_NOTE)->p_type = PT_NULL;
}
static void m_note_other_name(struct elfb_image *im)
{
    im->data[im->note_name_off] = 'G'; /* "Glint": someone else's note */
}
static void m_note_abi_version(struct elfb_image *im)
{
    elfb_note(im)->abi_version = GLINT_ABI_VERSION + 1;
}
static void m_note_abi_version_old(struct elfb_image *im)
{
    elfb_note(im)->abi_version = GLINT_ABI_VERSION - 1; /* built for the host before the TLS page */
}
static void m_note_abi_version_0(struct elfb_image *im)
{
    elfb_note(im)->abi_version = 0;
}
static void m_note_desc_size(struct elfb_image *im)
{
    elfb_nhdr(im)->n_descsz = 16;
}
static void m_note_two(struct elfb_image *im)
{
    memcpy(im->data + im->note_off + ELFB_NOTE_SIZE, im->data + im->note_off, ELFB_NOTE_SIZE);
    ph(im, ELFB_PH_NOTE)->p_filesz = 2 * ELFB_NOTE_SIZE;
}
static void m_note_two_segments(struct elfb_image *im)
{
    Elf64_Phdr copy = *ph(im, ELFB_PH_NOTE);
    elfb_add_phdr(im, &copy);
}
static void m_note_overflows(struct elfb_image *im)
{
    elfb_nhdr(im)->n_descsz = 32;
}
static void m_note_namesz_huge(struct elfb_image *im)
{
    elfb_nhdr(im)->n_namesz = 0xffffffffu;
}
static void m_note_segment_past_eof(struct elfb_image *im)
{
    ph(im, ELFB_PH_NOTE)->p_offset = im->len - 8;
}
static void m_note_export_size(struct elfb_image *im)
{
    elfb_note(im)->export_size = 88;
}

/* ---- the export table ------------------------------------------------------------------ */

static void m_exports_writable(struct elfb_image *im)
{
    ph(im, ELFB_PH_RO)->p_flags = PF_R | PF_W;
}
static void m_exports_in_data(struct elfb_image *im)
{
    elfb_note(im)->exports_addr = im->data_vaddr;
    elfb_note(im)->exports_end = im->data_vaddr + sizeof(struct glint_abi_export);
}
static void m_exports_outside(struct elfb_image *im)
{
    elfb_note(im)->exports_addr = 0x300000;
    elfb_note(im)->exports_end = 0x300000 + 2 * sizeof(struct glint_abi_export);
}
static void m_exports_past_segment(struct elfb_image *im)
{
    elfb_note(im)->exports_addr += sizeof(struct glint_abi_export); /* last one runs off the end */
    elfb_note(im)->exports_end += sizeof(struct glint_abi_export);
}
static void m_exports_in_zero_fill(struct elfb_image *im)
{
    ph(im, ELFB_PH_RO)->p_memsz = GLINT_ABI_PAGE_SIZE; /* bss-like tail without file bytes */
    elfb_note(im)->exports_end += sizeof(struct glint_abi_export);
}
static void m_exports_unaligned(struct elfb_image *im)
{
    elfb_note(im)->exports_end -= 1;
}
static void m_exports_end_before_start(struct elfb_image *im)
{
    elfb_note(im)->exports_end = elfb_note(im)->exports_addr - sizeof(struct glint_abi_export);
}
static void m_exports_too_many(struct elfb_image *im)
{
    elfb_note(im)->exports_end =
        elfb_note(im)->exports_addr + 1025u * sizeof(struct glint_abi_export);
}
static void m_name_unterminated(struct elfb_image *im)
{
    memset(ex(im, 1)->name, 'A', sizeof ex(im, 1)->name);
}
static void m_name_invalid_char(struct elfb_image *im)
{
    strcpy(ex(im, 0)->name, "Add-1");
}
static void m_name_space(struct elfb_image *im)
{
    strcpy(ex(im, 0)->name, "a b");
}
static void m_name_utf8(struct elfb_image *im)
{
    strcpy(ex(im, 0)->name, "\xc3\xa9t\xc3\xa9");
}
static void m_name_empty(struct elfb_image *im)
{
    memset(ex(im, 0)->name, 0, sizeof ex(im, 0)->name);
}
static void m_name_padding(struct elfb_image *im)
{
    ex(im, 1)->name[6] = 'X'; /* "Echo\0\0X" */
}
static void m_ret_type(struct elfb_image *im)
{
    ex(im, 0)->ret_type = 10;
}
static void m_ret_type_255(struct elfb_image *im)
{
    ex(im, 0)->ret_type = 255;
}
static void m_param_type(struct elfb_image *im)
{
    ex(im, 0)->params[1] = 12;
}
static void m_param_void(struct elfb_image *im)
{
    ex(im, 0)->params[1] = GLINT_ABI_VOID;
}
static void m_nparams_17(struct elfb_image *im)
{
    ex(im, 0)->nparams = 17;
}
static void m_param_beyond_nparams(struct elfb_image *im)
{
    ex(im, 0)->params[2] = GLINT_ABI_I32;
}
static void m_param_last_slot(struct elfb_image *im)
{
    ex(im, 0)->params[15] = GLINT_ABI_BYTES;
}
static void m_reserved(struct elfb_image *im)
{
    ex(im, 1)->reserved[5] = 0x80;
}
static void m_fn_in_rodata(struct elfb_image *im)
{
    ex(im, 1)->fn = im->ro_vaddr;
}
static void m_fn_zero(struct elfb_image *im)
{
    ex(im, 1)->fn = 0;
}
static void m_duplicate(struct elfb_image *im)
{
    strcpy(ex(im, 1)->name, "Add");
}

static const struct gen_case cases[] = {
    /* truncation, not an ELF */
    {"empty.elf", "EELF", "file too short (0 bytes)", m_empty},
    {"trunc-0001.elf", "EELF", "file too short (1 bytes)", m_trunc_1},
    {"trunc-0016.elf", "EELF", "file too short (16 bytes)", m_trunc_16},
    {"trunc-0063.elf", "EELF", "file too short (63 bytes)", m_trunc_63},
    {"trunc-0064.elf", "EELF", "program headers extend past end of file", m_trunc_64},
    {"trunc-0287-in-phdrs.elf", "EELF",
     "program headers extend past end of file (offset, file size) (64, 287)", m_trunc_in_phdrs},
    {"trunc-1548-in-note.elf", "EELF", "note segment extends past end of file",
     m_trunc_before_note},
    {"trunc-4224-in-code.elf", "EELF", "segment 1 extends past end of file", m_trunc_in_code},
    {"trunc-last-byte.elf", "EELF", "segment 1 extends past end of file", m_trunc_last_byte},
    {"not-elf-script.elf", "EELF", "bad magic (not an ELF file)", m_not_elf},
    {"not-elf-magic.elf", "EELF", "bad magic (not an ELF file)", m_elf_magic_typo},
    /* ELF header */
    {"hdr-elf32.elf", "EELF", "not a 64-bit ELF (class 1)", m_elf32},
    {"hdr-class-none.elf", "EELF", "not a 64-bit ELF (class 0)", m_class_none},
    {"hdr-big-endian.elf", "EELF", "not little-endian (data 2)", m_big_endian},
    {"hdr-version-2.elf", "EELF", "unknown ELF version", m_bad_version},
    {"hdr-ident-version-0.elf", "EELF", "unknown ELF version", m_bad_ident_version},
    {"hdr-et-dyn.elf", "EELF", "type 3 is not a static executable (ET_EXEC)", m_et_dyn},
    {"hdr-et-rel.elf", "EELF", "type 1 is not a static executable (ET_EXEC)", m_et_rel},
    {"hdr-et-core.elf", "EELF", "type 4 is not a static executable (ET_EXEC)", m_et_core},
    {"hdr-machine-aarch64.elf", "EELF", "machine 183 is not x86-64", m_machine_aarch64},
    {"hdr-machine-i386.elf", "EELF", "machine 3 is not x86-64", m_machine_i386},
    {"hdr-phentsize-32.elf", "EELF", "program header entry size is wrong (32, 56)", m_phentsize},
    {"hdr-phnum-0.elf", "EELF", "program header count out of range 1..64 (0, 64)", m_phnum_0},
    {"hdr-phnum-65.elf", "EELF", "program header count out of range 1..64 (65, 64)", m_phnum_65},
    {"hdr-phnum-65535.elf", "EELF", "program header count out of range 1..64 (65535, 64)",
     m_phnum_huge},
    {"hdr-phoff-past-eof.elf", "EELF", "program headers extend past end of file", m_phoff_past_eof},
    {"hdr-phoff-straddles-eof.elf", "EELF", "program headers extend past end of file",
     m_phoff_straddles_eof},
    {"hdr-phoff-overflow.elf", "EELF", "program headers extend past end of file", m_phoff_overflow},
    /* PT_LOAD segments */
    {"seg-offset-past-eof.elf", "EELF", "segment 2 extends past end of file",
     m_seg_offset_past_eof},
    {"seg-filesz-past-eof.elf", "EELF", "segment 2 extends past end of file",
     m_seg_filesz_past_eof},
    {"seg-offset-overflow.elf", "EELF", "segment 2 extends past end of file",
     m_seg_offset_overflow},
    {"seg-filesz-gt-memsz.elf", "EELF", "segment 2 file size exceeds memory size",
     m_seg_filesz_gt_memsz},
    {"seg-below-image-base.elf", "EELF",
     "segment 2 at 0x100000+0x100 is outside guest image space [0x200000, 0x10000000)",
     m_seg_below_base},
    {"seg-at-null-page.elf", "EELF", "segment 2 at 0x0+0x100 is outside guest image space",
     m_seg_null_page},
    {"seg-beyond-image-limit.elf", "EELF",
     "segment 1 at 0x10000000+0x2000 is outside guest image space", m_seg_beyond_limit},
    {"seg-crosses-image-limit.elf", "EELF",
     "segment 1 at 0xffff000+0x2000 is outside guest image space", m_seg_crosses_limit},
    {"seg-vaddr-wraps.elf", "EELF",
     "segment 1 at 0xfffffffffffff000+0x2000 is outside guest image space", m_seg_wraps_vaddr},
    {"seg-memsz-wraps.elf", "EELF",
     "segment 1 at 0x202000+0xffffffffffe00000 is outside guest image space", m_seg_wraps_memsz},
    {"seg-wx-code.elf", "EELF", "segment 2 is writable and executable (W^X)", m_seg_wx},
    {"seg-wx-data.elf", "EELF", "segment 1 is writable and executable (W^X)", m_seg_wx_data},
    {"seg-no-permissions.elf", "EELF", "segment 3 has no access rights", m_seg_no_perms},
    {"seg-only-os-flags.elf", "EELF", "segment 3 has no access rights", m_seg_only_os_bits},
    {"seg-overlap.elf", "EELF", "segments at 0x200000 and 0x200080 overlap or share a page",
     m_seg_overlap},
    {"seg-same-start.elf", "EELF", "overlap or share a page", m_seg_same_start},
    {"seg-share-page.elf", "EELF", "segments at 0x201000 and 0x201800 overlap or share a page",
     m_seg_share_page},
    {"seg-17-loads.elf", "EELF", "too many PT_LOAD segments (index, max) (17, 16)", m_seg_17_loads},
    {"seg-none.elf", "EELF", "no loadable segments", m_seg_none},
    {"seg-pt-interp.elf", "EELF", "dynamically linked (segment 4)", m_pt_interp},
    {"seg-pt-dynamic.elf", "EELF", "dynamically linked (segment 4)", m_pt_dynamic},
    {"seg-pt-tls.elf", "EELF", "thread-local storage is not supported", m_pt_tls},
    /* entry point */
    {"entry-zero.elf", "EELF", "entry point 0x0 is not in a code segment", m_entry_zero},
    {"entry-past-code.elf", "EELF", "entry point 0x200100 is not in a code segment",
     m_entry_past_code},
    {"entry-in-data.elf", "EELF", "entry point 0x202000 is not in a code segment", m_entry_in_data},
    {"entry-in-rodata.elf", "EELF", "entry point 0x201000 is not in a code segment",
     m_entry_in_rodata},
    /* the glint note */
    {"note-missing.elf", "EABI", "no glint ABI note", m_note_missing},
    {"note-other-name.elf", "EABI", "no glint ABI note", m_note_other_name},
    {"note-abi-version-3.elf", "EABI", "guest ABI version 3, this host supports version 2",
     m_note_abi_version},
    {"note-abi-version-1.elf", "EABI", "guest ABI version 1, this host supports version 2",
     m_note_abi_version_old},
    {"note-abi-version-0.elf", "EABI", "guest ABI version 0, this host supports version 2",
     m_note_abi_version_0},
    {"note-desc-size-16.elf", "EABI", "glint ABI note has size 16, want 24", m_note_desc_size},
    {"note-two-in-segment.elf", "EABI", "more than one glint ABI note", m_note_two},
    {"note-two-segments.elf", "EABI", "more than one glint ABI note", m_note_two_segments},
    {"note-overflows-segment.elf", "EELF", "note extends past its segment", m_note_overflows},
    {"note-namesz-huge.elf", "EELF", "note extends past its segment", m_note_namesz_huge},
    {"note-segment-past-eof.elf", "EELF", "note segment extends past end of file",
     m_note_segment_past_eof},
    {"note-export-size-88.elf", "EABI", "export record size 88, want 96", m_note_export_size},
    /* the defaults note */
    {"defaults-heap-unaligned.elf", "EABI", "heap_size 4097 is not a multiple of 4 KiB",
     m_def_heap_unaligned},
    {"defaults-heap-512M.elf", "EABI", "heap_size 536870912 is out of range 4096..268435456",
     m_def_heap_big},
    {"defaults-stack-4K.elf", "EABI", "stack_size 4096 is out of range 8192..67108864",
     m_def_stack_small},
    {"defaults-input-32M.elf", "EABI", "input_size 33554432 is out of range", m_def_input_big},
    {"defaults-output-huge.elf", "EABI", "output_size 18446744073709547520 is out of range",
     m_def_output_huge},
    {"defaults-flags-unknown.elf", "EABI", "defaults note has unknown flags 0x80000002",
     m_def_flags},
    {"defaults-reserved.elf", "EABI", "defaults note reserved field not zero", m_def_reserved},
    {"defaults-desc-size-32.elf", "EABI", "glint defaults note has size 32, want 40", m_def_size},
    {"defaults-two.elf", "EABI", "more than one glint defaults note", m_def_two},
    /* the export table */
    {"exports-writable-segment.elf", "EELF", "table 0x201040..0x201100 not in read-only file data",
     m_exports_writable},
    {"exports-in-data.elf", "EELF", "table 0x202000..0x202060 not in read-only file data",
     m_exports_in_data},
    {"exports-outside-segments.elf", "EELF", "table 0x300000..0x3000c0 not in read-only file data",
     m_exports_outside},
    {"exports-past-segment.elf", "EELF", "not in read-only file data", m_exports_past_segment},
    {"exports-in-zero-fill.elf", "EELF", "not in read-only file data", m_exports_in_zero_fill},
    {"exports-unaligned-size.elf", "EELF", "table size not a multiple of a record",
     m_exports_unaligned},
    {"exports-end-before-start.elf", "EELF", "table end before its start",
     m_exports_end_before_start},
    {"exports-1025.elf", "EELF", "1025 functions (max 1024)", m_exports_too_many},
    {"export-name-unterminated.elf", "EELF", "entry 1 name not NUL-terminated",
     m_name_unterminated},
    {"export-name-dash.elf", "EELF", "entry 0 has an invalid name", m_name_invalid_char},
    {"export-name-space.elf", "EELF", "entry 0 has an invalid name", m_name_space},
    {"export-name-utf8.elf", "EELF", "entry 0 has an invalid name", m_name_utf8},
    {"export-name-empty.elf", "EELF", "entry 0 has an invalid name", m_name_empty},
    {"export-name-padding.elf", "EELF", "'Echo' name padding not zero", m_name_padding},
    {"export-ret-type-10.elf", "EELF", "'Add' has unknown return type 10", m_ret_type},
    {"export-ret-type-255.elf", "EELF", "'Add' has unknown return type 255", m_ret_type_255},
    {"export-param-type-12.elf", "EELF", "'Add' parameter 1 has bad type 12", m_param_type},
    {"export-param-void.elf", "EELF", "'Add' parameter 1 has bad type 0", m_param_void},
    {"export-nparams-17.elf", "EELF", "'Add' has 17 parameters (max 16)", m_nparams_17},
    {"export-param-beyond-nparams.elf", "EELF", "'Add' parameter 2 has bad type 1",
     m_param_beyond_nparams},
    {"export-param-slot-15.elf", "EELF", "'Add' parameter 15 has bad type 9", m_param_last_slot},
    {"export-reserved-bytes.elf", "EELF", "'Echo' reserved bytes not zero", m_reserved},
    {"export-fn-in-rodata.elf", "EELF", "'Echo' entry 0x201000 is not in code", m_fn_in_rodata},
    {"export-fn-zero.elf", "EELF", "'Echo' entry 0x0 is not in code", m_fn_zero},
    {"export-duplicate-name.elf", "EELF", "'Add' exported twice", m_duplicate},
};

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "gen-malformed: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = len ? fwrite(data, 1, len, f) : 0;
    if (fclose(f) != 0 || n != len) {
        fprintf(stderr, "gen-malformed: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    size_t ncases = sizeof cases / sizeof cases[0];
    size_t cap = 256 * ncases, used = 0;
    char *manifest = malloc(cap);
    if (!manifest) {
        fprintf(stderr, "gen-malformed: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < ncases; i++) {
        const struct gen_case *c = &cases[i];
        if (strchr(c->file, ' ') || strchr(c->msg, '\n')) {
            fprintf(stderr, "gen-malformed: bad case %s\n", c->file);
            return 1;
        }
        struct elfb_image im;
        if (elfb_build(&im, 2) != 0) {
            fprintf(stderr, "gen-malformed: cannot build the base image\n");
            return 1;
        }
        c->mutate(&im);
        int rc = write_file(dir, c->file, im.data, im.len);
        elfb_free(&im);
        if (rc)
            return 1;
        int n = snprintf(manifest + used, cap - used, "%s %s %s\n", c->file, c->code, c->msg);
        if (n < 0 || (size_t)n >= cap - used) {
            fprintf(stderr, "gen-malformed: manifest too long\n");
            return 1;
        }
        used += (size_t)n;
    }
    if (write_file(dir, "MANIFEST", manifest, used) != 0)
        return 1;
    free(manifest);
    printf("gen-malformed: %zu cases written to %s\n", ncases, dir);
    return 0;
}
