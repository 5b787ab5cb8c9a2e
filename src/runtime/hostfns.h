/* Registry of host functions a guest may call; immutable once copied into an image. */
#ifndef GLINT_HOSTFNS_H
#define GLINT_HOSTFNS_H

#include "glint.h"
#include "glint/abi.h"

#include <stdbool.h>
#include <stddef.h>

struct glint__host_fn {
    char name[GLINT_ABI_NAME_MAX];
    glint_type ret;
    size_t nparams;
    glint_type params[GLINT_MAX_PARAMS];
    glint_host_fn fn; /* NULL for the built-ins */
    void *user;
    int builtin; /* GLINT__BUILTIN_* */
};

/* Built-in host functions, present in every registry (docs/abi.md). */
enum {
    GLINT__BUILTIN_NONE = 0,
    GLINT__BUILTIN_PRINT,     /* print(string) -> void */
    GLINT__BUILTIN_SIGNATURE, /* glint.signature(string) -> string */
};

/* Names an application may not register: the built-ins and everything starting "glint.". */
bool glint__host_fn_name_reserved(const char *name, size_t len);

/* Write the signature of fn in the text form of glint.signature, e.g. "i64(i32,string)"
 * (docs/abi.md), NUL-terminated, into buf of n bytes (at least GLINT__SIG_TEXT_MAX). */
#define GLINT__SIG_TEXT_MAX 192
void glint__host_fn_signature_text(const struct glint__host_fn *fn, char *buf, size_t n);

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
