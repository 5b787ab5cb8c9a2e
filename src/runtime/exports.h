/* The list of functions a guest exports, read from its ELF; shared by images and inspect. */
#ifndef GLINT_EXPORTS_H
#define GLINT_EXPORTS_H

#include "load/elf.h"
#include "load/gimg.h"
#include "glint.h"

struct glint__export {
    char name[GLINT_ABI_NAME_MAX];
    glint_type ret;
    size_t nparams;
    glint_type params[GLINT_MAX_PARAMS];
};

struct glint_exports {
    size_t count;
    struct glint__export *e;
};

/* Build the list from a validated ELF. */
int glint__exports_from_elf(const struct glint__elf *elf, glint_exports **out);

/* Build the list from an image file's checked records (load/gimg.h). */
int glint__exports_from_records(const struct glint__gimg_fn *f, uint32_t n, glint_exports **out);

/* Deep copy of src. */
int glint__exports_clone(const glint_exports *src, glint_exports **out);

/* Index of name, or -1. */
long glint__exports_index(const glint_exports *ex, const char *name);

#endif
