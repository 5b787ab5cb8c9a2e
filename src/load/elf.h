/* Guest ELF loading: file to bytes (file.c), bytes to checked segments and exports (elf.c). */
#ifndef GLINT_ELF_H
#define GLINT_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "glint/abi.h"

#define GLINT__ELF_MAX_SEGMENTS 16
#define GLINT__ELF_MAX_EXPORTS  1024

enum { GLINT__SEG_R = 4, GLINT__SEG_W = 2, GLINT__SEG_X = 1 }; /* as ELF PF_* */

struct glint__segment {
    uint64_t vaddr, memsz;   /* guest range [vaddr, vaddr+memsz) */
    uint64_t offset, filesz; /* file bytes copied to vaddr; the rest is zero */
    uint32_t flags;          /* GLINT__SEG_* */
};

struct glint__elf {
    uint64_t entry;
    uint64_t image_end; /* page-aligned end of the highest segment */
    uint32_t nsegs;     /* sorted by vaddr, no two share a page */
    struct glint__segment segs[GLINT__ELF_MAX_SEGMENTS];
    struct glint_abi_note note;
    struct glint_abi_defaults defaults; /* validated; all zero without the note */
    struct glint_abi_features features; /* validated; all zero without the note */
    uint32_t nexports;
    struct glint_abi_export *exports; /* validated copies; owned */
};

/*
 * Parse and validate a guest ELF of len bytes (untrusted). On success fills
 * *out (release with glint__elf_release) and returns 0. On failure returns
 * GLINT_EELF or GLINT_EABI with glint_errmsg() naming the problem.
 */
int glint__elf_parse(const void *data, size_t len, struct glint__elf *out);
void glint__elf_release(struct glint__elf *elf);

/* file.c: read a whole regular file into malloc'd memory (at most max bytes). Never
 * blocks on a FIFO or device: anything but a regular file fails with
 * GLINT_EIO naming its type; so does a file that changes size while read. */
int glint__read_file(const char *path, size_t max, void **data, size_t *len);

#endif
