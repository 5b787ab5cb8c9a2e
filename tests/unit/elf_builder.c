/* Test helper: build a valid synthetic glint guest ELF in memory, with the offsets of its parts. */
#include "elf_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_UP(x) (((x) + (size_t)GLINT_ABI_PAGE_SIZE - 1) & ~((size_t)GLINT_ABI_PAGE_SIZE - 1))

static void set_export(struct glint_abi_export *x, const char *name, uint64_t fn, uint8_t ret,
                       uint8_t nparams, const uint8_t *params)
{
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->fn = fn;
    x->ret_type = ret;
    x->nparams = nparams;
    memcpy(x->params, params, nparams);
}

static void set_phdr(Elf64_Phdr *ph, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
                     uint64_t filesz, uint64_t memsz, uint64_t align)
{
    memset(ph, 0, sizeof *ph);
    ph->p_type = type;
    ph->p_flags = flags;
    ph->p_offset = off;
    ph->p_vaddr = vaddr;
    ph->p_paddr = vaddr;
    ph->p_filesz = filesz;
    ph->p_memsz = memsz;
    ph->p_align = align;
}

int elfb_build(struct elfb_image *img, uint32_t nexports)
{
    memset(img, 0, sizeof *img);
    if (nexports > ELFB_MAX_EXPORTS)
        return -1;
    const uint64_t delta = ELFB_CODE_VADDR - ELFB_CODE_OFF; /* vaddr - offset for all loads */
    img->nexports = nexports;
    img->phoff = ELFB_PHOFF;
    img->note_off = ELFB_NOTE_OFF;
    img->note_name_off = ELFB_NOTE_OFF + sizeof(Elf64_Nhdr);
    img->note_desc_off = img->note_name_off + 8;
    img->code_off = ELFB_CODE_OFF;
    img->ro_off = ELFB_RO_OFF;
    img->exports_off = ELFB_RO_OFF + ELFB_EXPORTS_SKIP;
    img->ro_filesz = ELFB_EXPORTS_SKIP + (uint64_t)nexports * sizeof(struct glint_abi_export);
    img->data_off = PAGE_UP(img->ro_off + (size_t)img->ro_filesz);
    img->len = img->data_off + ELFB_DATA_FILESZ;
    img->code_vaddr = ELFB_CODE_VADDR;
    img->ro_vaddr = ELFB_RO_VADDR;
    img->data_vaddr = img->data_off + delta;
    img->exports_vaddr = img->exports_off + delta;
    img->exports_end = img->exports_vaddr + (uint64_t)nexports * sizeof(struct glint_abi_export);
    img->image_end = img->data_vaddr + ELFB_DATA_MEMSZ;
    img->entry = ELFB_CODE_VADDR;

    img->data = calloc(1, img->len);
    if (!img->data)
        return -1;
    uint8_t *b = img->data;

    /* ELF header. */
    Elf64_Ehdr *eh = elfb_ehdr(img);
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = img->entry;
    eh->e_phoff = img->phoff;
    eh->e_shoff = 0;
    eh->e_flags = 0;
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = ELFB_PH_COUNT;
    eh->e_shentsize = sizeof(Elf64_Shdr);
    eh->e_shnum = 0;
    eh->e_shstrndx = SHN_UNDEF;

    /* Program headers, deliberately not sorted by address. */
    set_phdr(elfb_phdr(img, ELFB_PH_NOTE), PT_NOTE, PF_R, img->note_off, 0, ELFB_NOTE_SIZE,
             ELFB_NOTE_SIZE, 4);
    set_phdr(elfb_phdr(img, ELFB_PH_DATA), PT_LOAD, PF_R | PF_W, img->data_off, img->data_vaddr,
             ELFB_DATA_FILESZ, ELFB_DATA_MEMSZ, GLINT_ABI_PAGE_SIZE);
    set_phdr(elfb_phdr(img, ELFB_PH_CODE), PT_LOAD, PF_R | PF_X, img->code_off, img->code_vaddr,
             ELFB_CODE_SIZE, ELFB_CODE_SIZE, GLINT_ABI_PAGE_SIZE);
    set_phdr(elfb_phdr(img, ELFB_PH_RO), PT_LOAD, PF_R, img->ro_off, img->ro_vaddr, img->ro_filesz,
             img->ro_filesz, GLINT_ABI_PAGE_SIZE);

    /* The glint note. */
    Elf64_Nhdr *nh = elfb_nhdr(img);
    nh->n_namesz = sizeof GLINT_ABI_NOTE_NAME;
    nh->n_descsz = sizeof(struct glint_abi_note);
    nh->n_type = GLINT_ABI_NOTE_TYPE;
    memcpy(b + img->note_name_off, GLINT_ABI_NOTE_NAME, sizeof GLINT_ABI_NOTE_NAME);
    struct glint_abi_note *note = elfb_note(img);
    note->abi_version = GLINT_ABI_VERSION;
    note->export_size = sizeof(struct glint_abi_export);
    note->exports_addr = img->exports_vaddr;
    note->exports_end = img->exports_end;

    /* Code: int3 filler with `mov %edi,%eax; add %esi,%eax; ret` every 16 bytes. */
    memset(b + img->code_off, 0xcc, ELFB_CODE_SIZE);
    static const uint8_t stub[] = {0x89, 0xf8, 0x01, 0xf0, 0xc3};
    for (size_t off = 0; off < ELFB_CODE_SIZE; off += 0x10)
        memcpy(b + img->code_off + off, stub, sizeof stub);

    /* Rodata: some text, then the export table. */
    static const char text[] = "synthetic glint guest rodata";
    memcpy(b + img->ro_off, text, sizeof text);
    for (uint32_t i = 0; i < nexports; i++) {
        uint64_t fn = ELFB_CODE_VADDR + 0x10u * (i % 16);
        struct glint_abi_export *x = elfb_export(img, i);
        if (i == 0) {
            static const uint8_t p[] = {GLINT_ABI_I32, GLINT_ABI_I32};
            set_export(x, "Add", fn, GLINT_ABI_I32, 2, p);
        } else if (i == 1) {
            static const uint8_t p[] = {GLINT_ABI_STRING};
            set_export(x, "Echo", fn, GLINT_ABI_STRING, 1, p);
        } else {
            static const uint8_t p[] = {GLINT_ABI_U64};
            char name[16];
            snprintf(name, sizeof name, "f%u", (unsigned)i);
            set_export(x, name, fn, GLINT_ABI_VOID, 1, p);
        }
    }

    /* Data: a recognisable pattern; the bss follows in memory only. */
    for (size_t i = 0; i < ELFB_DATA_FILESZ; i++)
        b[img->data_off + i] = (uint8_t)(0xa0 + i);
    return 0;
}

void elfb_free(struct elfb_image *img)
{
    free(img->data);
    img->data = NULL;
    img->len = 0;
}

Elf64_Ehdr *elfb_ehdr(struct elfb_image *img)
{
    return (Elf64_Ehdr *)(void *)img->data;
}

Elf64_Phdr *elfb_phdr(struct elfb_image *img, unsigned slot)
{
    return (Elf64_Phdr *)(void *)(img->data + img->phoff) + slot;
}

Elf64_Nhdr *elfb_nhdr(struct elfb_image *img)
{
    return (Elf64_Nhdr *)(void *)(img->data + img->note_off);
}

struct glint_abi_note *elfb_note(struct elfb_image *img)
{
    return (struct glint_abi_note *)(void *)(img->data + img->note_desc_off);
}

struct glint_abi_export *elfb_export(struct elfb_image *img, uint32_t i)
{
    return (struct glint_abi_export *)(void *)(img->data + img->exports_off) + i;
}

int elfb_add_phdr(struct elfb_image *img, const Elf64_Phdr *ph)
{
    Elf64_Ehdr *eh = elfb_ehdr(img);
    if (eh->e_phnum >= ELFB_PH_CAPACITY)
        return -1;
    int slot = eh->e_phnum++;
    memcpy(elfb_phdr(img, (unsigned)slot), ph, sizeof *ph);
    return slot;
}

int elfb_add_empty_load(struct elfb_image *img, uint64_t vaddr)
{
    Elf64_Phdr ph;
    set_phdr(&ph, PT_LOAD, PF_R, 0, vaddr, 0, GLINT_ABI_PAGE_SIZE, GLINT_ABI_PAGE_SIZE);
    return elfb_add_phdr(img, &ph);
}

int elfb_add_defaults(struct elfb_image *img, const struct glint_abi_defaults *d, uint32_t descsz)
{
    Elf64_Phdr *ph = elfb_phdr(img, ELFB_PH_NOTE);
    size_t at = ph->p_offset + ph->p_filesz;
    size_t pad = ((size_t)descsz + 3) & ~(size_t)3;
    if (descsz > 256 || at + sizeof(Elf64_Nhdr) + 8 + pad > ELFB_CODE_OFF)
        return -1;
    Elf64_Nhdr nh = {.n_namesz = sizeof GLINT_ABI_NOTE_NAME,
                     .n_descsz = descsz,
                     .n_type = GLINT_ABI_NOTE_DEFAULTS_TYPE};
    memcpy(img->data + at, &nh, sizeof nh);
    memcpy(img->data + at + sizeof nh, GLINT_ABI_NOTE_NAME, sizeof GLINT_ABI_NOTE_NAME);
    uint8_t desc[256] = {0};
    memcpy(desc, d, descsz < sizeof *d ? descsz : sizeof *d);
    memcpy(img->data + at + sizeof nh + 8, desc, pad);
    ph->p_filesz += sizeof nh + 8 + pad;
    ph->p_memsz = ph->p_filesz;
    return 0;
}
