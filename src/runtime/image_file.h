/* Image files (private): which pages a file holds, and opening one for the loader and inspect. */
#ifndef GLINT_RUNTIME_IMAGE_FILE_H
#define GLINT_RUNTIME_IMAGE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint.h"
#include "load/gimg.h"
#include "mem/regions.h"

/* Does an image file store this region's pages? Guest data does (ELF
 * segments, heap, stack, buffers, the TCB); what the host builds and the
 * guest cannot write (page tables, GDT, IDT, TSS, stubs, boot page,
 * exception stack, guards) never does: the loader rebuilds it. */
static inline bool glint__region_in_file(const struct glint__region *r)
{
    switch (r->kind) {
    case GLINT__REGION_SEGMENT:
    case GLINT__REGION_HEAP:
    case GLINT__REGION_STACK:
    case GLINT__REGION_INPUT:
    case GLINT__REGION_OUTPUT:
    case GLINT__REGION_TLS:
    case GLINT__REGION_HOT: /* the exit-mode call handshake lives there too */
        return true;
    default:
        return false;
    }
}

/* An image file opened and checked: its descriptor and a read-only mapping. */
struct glint__gimg_file {
    int fd;
    const uint8_t *data;
    size_t len;
    struct glint__gimg g;
};

/* Open path: 1 and *f filled (checked, mapped) if it is an image file, 0 if
 * it is not one (no image magic: the caller reads it as an ELF), or a
 * negative GLINT_E* (GLINT_EIO for a file that cannot be opened or is not
 * regular; the parser's errors for a bad image file). */
int glint__gimg_open(const char *path, struct glint__gimg_file *f);
void glint__gimg_close(struct glint__gimg_file *f);

/* An image from an open, checked file (see glint_image_load_file). */
int glint__image_from_file(const struct glint__gimg_file *f, const glint_config *cfg,
                           const glint_host_fns *fns, glint_image **out);

#endif
