/* The list of functions a guest exports, read from its ELF; shared by images and inspect. */
#include "runtime/exports.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

int glint__exports_from_elf(const struct glint__elf *elf, glint_exports **out)
{
    glint_exports *ex = calloc(1, sizeof *ex);
    if (!ex)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    ex->e = calloc(elf->nexports ? elf->nexports : 1, sizeof *ex->e);
    if (!ex->e) {
        free(ex);
        return glint__fail(GLINT_ENOMEM, "out of memory");
    }
    ex->count = elf->nexports;
    for (size_t i = 0; i < ex->count; i++) {
        const struct glint_abi_export *x = &elf->exports[i];
        struct glint__export *e = &ex->e[i];
        memcpy(e->name, x->name, sizeof e->name);
        e->ret = (glint_type)x->ret_type;
        e->nparams = x->nparams;
        for (size_t k = 0; k < e->nparams; k++)
            e->params[k] = (glint_type)x->params[k];
    }
    *out = ex;
    return 0;
}

int glint__exports_from_records(const struct glint__gimg_fn *f, uint32_t n, glint_exports **out)
{
    glint_exports *ex = calloc(1, sizeof *ex);
    if (!ex)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    ex->e = calloc(n ? n : 1, sizeof *ex->e);
    if (!ex->e) {
        free(ex);
        return glint__fail(GLINT_ENOMEM, "out of memory");
    }
    ex->count = n;
    for (uint32_t i = 0; i < n; i++) {
        struct glint__export *e = &ex->e[i];
        memcpy(e->name, f[i].name, sizeof e->name);
        e->ret = (glint_type)f[i].ret;
        e->nparams = f[i].nparams;
        for (size_t k = 0; k < e->nparams; k++)
            e->params[k] = (glint_type)f[i].params[k];
    }
    *out = ex;
    return 0;
}

int glint__exports_clone(const glint_exports *src, glint_exports **out)
{
    glint_exports *ex = calloc(1, sizeof *ex);
    if (!ex)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    ex->e = calloc(src->count ? src->count : 1, sizeof *ex->e);
    if (!ex->e) {
        free(ex);
        return glint__fail(GLINT_ENOMEM, "out of memory");
    }
    ex->count = src->count;
    memcpy(ex->e, src->e, src->count * sizeof *ex->e);
    *out = ex;
    return 0;
}

int glint_exports_read_file(const char *path, glint_exports **out)
{
    if (!path || !out)
        return glint__fail(GLINT_EINVAL, "glint_exports_read_file: NULL argument");
    void *data;
    size_t len;
    int rc = glint__read_file(path, GLINT__GIMG_MAX_FILE, &data, &len);
    if (rc)
        return rc;
    if (glint__gimg_is_image(data, len)) { /* an image file: its checked records */
        struct glint__gimg g;
        rc = glint__gimg_parse(data, len, &g);
        if (!rc)
            rc = glint__exports_from_records(g.exports, g.nexports, out);
        free(data);
        return rc;
    }
    if (len > GLINT_ABI_IMAGE_LIMIT) {
        free(data);
        return glint__fail(GLINT_EIO, "%s is too large (%zu bytes, max %u)", path, len,
                           GLINT_ABI_IMAGE_LIMIT);
    }
    struct glint__elf elf;
    rc = glint__elf_parse(data, len, &elf);
    free(data);
    if (rc)
        return rc;
    rc = glint__exports_from_elf(&elf, out);
    glint__elf_release(&elf);
    return rc;
}

void glint_exports_destroy(glint_exports *ex)
{
    if (!ex)
        return;
    free(ex->e);
    free(ex);
}

size_t glint_exports_count(const glint_exports *ex)
{
    return ex ? ex->count : 0;
}

int glint_exports_get(const glint_exports *ex, size_t i, glint_function_info *info)
{
    if (!ex || !info || i >= ex->count)
        return glint__fail(GLINT_EINVAL, "glint_exports_get: index %zu out of range", i);
    const struct glint__export *e = &ex->e[i];
    info->name = e->name;
    info->ret = e->ret;
    info->nparams = e->nparams;
    info->params = e->params;
    return 0;
}

long glint__exports_index(const glint_exports *ex, const char *name)
{
    for (size_t i = 0; i < ex->count; i++)
        if (strcmp(ex->e[i].name, name) == 0)
            return (long)i;
    return -1;
}

int glint_exports_find(const glint_exports *ex, const char *name, glint_function_info *info)
{
    if (!ex || !name || !info)
        return glint__fail(GLINT_EINVAL, "glint_exports_find: NULL argument");
    long i = glint__exports_index(ex, name);
    if (i < 0)
        return glint__fail(GLINT_ENOFUNC, "the guest exports no function named '%.80s'", name);
    return glint_exports_get(ex, (size_t)i, info);
}
