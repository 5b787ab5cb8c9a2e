/* Registry of host functions a guest may call; immutable once copied into an image. */
#ifndef GLINT_HOSTFNS_H
#define GLINT_HOSTFNS_H

#include "glint.h"
#include "glint/abi.h"

struct glint__host_fn {
    char name[GLINT_ABI_NAME_MAX];
    glint_type ret;
    size_t nparams;
    glint_type params[GLINT_MAX_PARAMS];
    glint_host_fn fn; /* NULL for the built-in print */
    void *user;
};

struct glint_host_fns {
    size_t count, cap;
    struct glint__host_fn *fns;
    glint_print_fn print;
    void *print_user;
};

/* Deep copy (src NULL: a fresh default registry). */
int glint__host_fns_clone(const glint_host_fns *src, glint_host_fns **out);

/* Entry named name (len bytes), or NULL. */
const struct glint__host_fn *glint__host_fns_find(const glint_host_fns *fns, const char *name,
                                                  size_t len);

#endif
