/* Registry of host functions a guest may call; immutable once copied into an image. */
#include "runtime/hostfns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "runtime/error.h"

static void print_stdout(void *user, const char *text, size_t len)
{
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
}

static int add_entry(glint_host_fns *fns, const struct glint__host_fn *e)
{
    if (fns->count == fns->cap) {
        size_t cap = fns->cap ? fns->cap * 2 : 8;
        struct glint__host_fn *n = realloc(fns->fns, cap * sizeof *n);
        if (!n)
            return glint__fail(GLINT_ENOMEM, "out of memory");
        fns->fns = n;
        fns->cap = cap;
    }
    fns->fns[fns->count++] = *e;
    return 0;
}

int glint_host_fns_create(glint_host_fns **out)
{
    if (!out)
        return glint__fail(GLINT_EINVAL, "glint_host_fns_create: out is NULL");
    glint_host_fns *fns = calloc(1, sizeof *fns);
    if (!fns)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    struct glint__host_fn print = {
        .name = "print", .ret = GLINT_VOID, .nparams = 1, .builtin = GLINT__BUILTIN_PRINT};
    print.params[0] = GLINT_STRING;
    struct glint__host_fn sig = {.name = "glint.signature",
                                 .ret = GLINT_STRING,
                                 .nparams = 1,
                                 .builtin = GLINT__BUILTIN_SIGNATURE};
    sig.params[0] = GLINT_STRING;
    fns->print = print_stdout;
    int rc = add_entry(fns, &print);
    if (!rc)
        rc = add_entry(fns, &sig);
    if (rc) {
        free(fns->fns);
        free(fns);
        return rc;
    }
    *out = fns;
    return 0;
}

void glint_host_fns_destroy(glint_host_fns *fns)
{
    if (!fns)
        return;
    free(fns->fns);
    free(fns);
}

const struct glint__host_fn *glint__host_fns_find(const glint_host_fns *fns, const char *name,
                                                  size_t len)
{
    for (size_t i = 0; i < fns->count; i++)
        if (strlen(fns->fns[i].name) == len && memcmp(fns->fns[i].name, name, len) == 0)
            return &fns->fns[i];
    return NULL;
}

bool glint__host_fn_name_reserved(const char *name, size_t len)
{
    return (len == 5 && memcmp(name, "print", 5) == 0) ||
           (len >= 6 && memcmp(name, "glint.", 6) == 0);
}

void glint__host_fn_signature_text(const struct glint__host_fn *fn, char *buf, size_t n)
{
    /* At most 7 + 1 + 16 * 7 + 1 + 1 bytes: fits GLINT__SIG_TEXT_MAX. */
    size_t k = (size_t)snprintf(buf, n, "%s(", glint_type_name(fn->ret));
    for (size_t i = 0; i < fn->nparams && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "," : "", glint_type_name(fn->params[i]));
    if (k < n)
        snprintf(buf + k, n - k, ")");
}

int glint_host_fns_add(glint_host_fns *fns, const char *name, glint_type ret,
                       const glint_type *params, size_t nparams, glint_host_fn fn, void *user)
{
    if (!fns || !name || !fn || (nparams && !params))
        return glint__fail(GLINT_EINVAL, "glint_host_fns_add: NULL argument");
    size_t len = strlen(name);
    if (!glint__name_valid(name, len))
        return glint__fail(GLINT_EINVAL,
                           "host function name '%.80s' must be 1..%d characters of [A-Za-z0-9_.]",
                           name, GLINT_NAME_MAX);
    if (glint__host_fn_name_reserved(name, len))
        return glint__fail(glint__host_fns_find(fns, name, len) ? GLINT_EEXIST : GLINT_EINVAL,
                           "host function name '%s' is reserved (print and glint.* are built in)",
                           name);
    if ((unsigned)ret > GLINT_BYTES)
        return glint__fail(GLINT_EINVAL, "host function '%s': unknown return type %d", name,
                           (int)ret);
    if (nparams > GLINT_MAX_PARAMS)
        return glint__fail(GLINT_EINVAL, "host function '%s': %zu parameters (max %d)", name,
                           nparams, GLINT_MAX_PARAMS);
    struct glint__host_fn e = {.ret = ret, .nparams = nparams, .fn = fn, .user = user};
    memcpy(e.name, name, len + 1);
    for (size_t i = 0; i < nparams; i++) {
        if (params[i] == GLINT_VOID || (unsigned)params[i] > GLINT_BYTES)
            return glint__fail(GLINT_EINVAL, "host function '%s': parameter %zu has bad type %d",
                               name, i, (int)params[i]);
        e.params[i] = params[i];
    }
    if (glint__host_fns_find(fns, name, len))
        return glint__fail(GLINT_EEXIST, "host function '%s' is already registered", name);
    return add_entry(fns, &e);
}

int glint_host_fns_set_print(glint_host_fns *fns, glint_print_fn fn, void *user)
{
    if (!fns)
        return glint__fail(GLINT_EINVAL, "glint_host_fns_set_print: fns is NULL");
    fns->print = fn;
    fns->print_user = user;
    return 0;
}

int glint__host_fns_clone(const glint_host_fns *src, glint_host_fns **out)
{
    if (!src)
        return glint_host_fns_create(out);
    glint_host_fns *fns = calloc(1, sizeof *fns);
    if (!fns)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    *fns = *src;
    fns->fns = malloc((src->count ? src->count : 1) * sizeof *fns->fns);
    if (!fns->fns) {
        free(fns);
        return glint__fail(GLINT_ENOMEM, "out of memory");
    }
    memcpy(fns->fns, src->fns, src->count * sizeof *fns->fns);
    fns->cap = src->count;
    *out = fns;
    return 0;
}
