/* Test helper: build a valid synthetic glint guest ELF in memory, with the offsets of its parts. */
#ifndef GLINT_TEST_ELF_BUILDER_H
#define GLINT_TEST_ELF_BUILDER_H

#include <linux/elf.h> /* not <elf.h>: with -Isrc that is src/elf.h */
#include <stddef.h>
#include <stdint.h>

#include "glint/abi.h"

/*
 * File layout (vaddr - offset is the same for every PT_LOAD, so offsets and
 * addresses are congruent modulo the page size):
 *
 *   0x0000  Elf64_Ehdr
 *   0x0040  program headers: ELFB_PH_CAPACITY slots, phnum in use
 *   0x0604  the glint note (Elf64_Nhdr, "glint\0" + pad, 24-byte desc at 0x618)
 *   0x1000  code      PT_LOAD R+X  vaddr 0x200000, filesz == memsz
 *   0x2000  rodata    PT_LOAD R    vaddr 0x201000: 0x40 bytes of text, then
 *                                  the export table (nexports records)
 *   page    data      PT_LOAD RW   right after rodata, memsz > filesz (bss)
 *
 * The program headers are stored in the order NOTE, DATA, CODE, RODATA (not
 * sorted by address) so the parser's sorting is exercised.
 */

#define ELFB_PH_CAPACITY  24
#define ELFB_PHOFF        0x40u
#define ELFB_NOTE_OFF     0x604u
#define ELFB_NOTE_SIZE    (sizeof(Elf64_Nhdr) + 8 + sizeof(struct glint_abi_note)) /* 44 */
#define ELFB_CODE_OFF     0x1000u
#define ELFB_CODE_VADDR   0x200000u
#define ELFB_CODE_SIZE    0x100u
#define ELFB_RO_OFF       0x2000u
#define ELFB_RO_VADDR     0x201000u
#define ELFB_EXPORTS_SKIP 0x40u /* rodata bytes before the export table */
#define ELFB_DATA_FILESZ  0x20u
#define ELFB_DATA_MEMSZ   0x2000u
#define ELFB_MAX_EXPORTS  2048u

/* Program header slots of the four initial segments. */
enum { ELFB_PH_NOTE = 0, ELFB_PH_DATA = 1, ELFB_PH_CODE = 2, ELFB_PH_RO = 3, ELFB_PH_COUNT = 4 };

struct elfb_image {
    uint8_t *data; /* malloc'd, 16-byte aligned; every struct below is naturally aligned */
    size_t len;
    uint32_t nexports;
    /* file offsets */
    size_t phoff;         /* program header table */
    size_t note_off;      /* Elf64_Nhdr of the glint note */
    size_t note_name_off; /* "glint\0" */
    size_t note_desc_off; /* struct glint_abi_note */
    size_t code_off, ro_off, data_off;
    size_t exports_off; /* first struct glint_abi_export */
    /* guest addresses */
    uint64_t entry;
    uint64_t code_vaddr, ro_vaddr, data_vaddr;
    uint64_t exports_vaddr, exports_end;
    uint64_t ro_filesz, image_end;
};

/*
 * Build a valid image with nexports (<= ELFB_MAX_EXPORTS) exports: the first
 * is "Add"(i32,i32)->i32, the second "Echo"(string)->string, the rest
 * "f<i>"(u64)->void; export i's fn is ELFB_CODE_VADDR + 0x10 * (i % 16).
 * Returns 0, or -1 if out of memory or nexports is too large.
 */
int elfb_build(struct elfb_image *img, uint32_t nexports);
void elfb_free(struct elfb_image *img);

/* Pointers into img->data (valid until the next elfb_build/elfb_free). */
Elf64_Ehdr *elfb_ehdr(struct elfb_image *img);
Elf64_Phdr *elfb_phdr(struct elfb_image *img, unsigned slot);
Elf64_Nhdr *elfb_nhdr(struct elfb_image *img);
struct glint_abi_note *elfb_note(struct elfb_image *img);
struct glint_abi_export *elfb_export(struct elfb_image *img, uint32_t i);

/* Append a program header in the next free slot and bump e_phnum. Returns the
 * slot, or -1 if all ELFB_PH_CAPACITY slots are used. */
int elfb_add_phdr(struct elfb_image *img, const Elf64_Phdr *ph);

/* Append a glint defaults note (desc: descsz bytes of d, the rest zero) to
 * the note segment, after the notes already there. Returns 0, or -1 if it
 * would reach the code page. */
#define ELFB_DEFAULTS_NOTE_SIZE                                                                    \
    (sizeof(Elf64_Nhdr) + 8 + sizeof(struct glint_abi_defaults)) /* 60 */
int elfb_add_defaults(struct elfb_image *img, const struct glint_abi_defaults *d, uint32_t descsz);

/* Append a read-only PT_LOAD of one page at vaddr with no file bytes. */
int elfb_add_empty_load(struct elfb_image *img, uint64_t vaddr);

#endif
