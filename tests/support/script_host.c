/* Host functions of several signatures, and a runtime guest registered with them, for the tests
 * of glint.call from scripts (Lua and JavaScript). */
#include "script_host.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int h_add(void *user, const glint_value *a, size_t n, glint_value *r)
{
    struct script_host *h = user;
    (void)n;
    h->calls++;
    r->as.i32 = a[0].as.i32 + a[1].as.i32;
    return 0;
}

static int h_concat(void *user, const glint_value *a, size_t n, glint_value *r)
{
    struct script_host *h = user;
    (void)n;
    h->calls++;
    size_t l0 = a[0].as.str.len, l1 = a[1].as.str.len;
    char *s = malloc(l0 + l1 + 1);
    if (!s)
        return -1;
    memcpy(s, a[0].as.str.ptr, l0);
    memcpy(s + l0, a[1].as.str.ptr, l1 + 1);
    *r = glint_string_n(s, l0 + l1);
    r->flags = GLINT_VALUE_FREE;
    return 0;
}

static int h_reverse(void *user, const glint_value *a, size_t n, glint_value *r)
{
    struct script_host *h = user;
    (void)n;
    h->calls++;
    size_t len = a[0].as.bytes.len;
    uint8_t *b = malloc(len ? len : 1);
    if (!b)
        return -1;
    for (size_t i = 0; i < len; i++)
        b[i] = ((const uint8_t *)a[0].as.bytes.ptr)[len - 1 - i];
    *r = glint_bytes(b, len);
    r->flags = GLINT_VALUE_FREE;
    return 0;
}

static int h_half(void *user, const glint_value *a, size_t n, glint_value *r)
{
    struct script_host *h = user;
    (void)n;
    h->calls++;
    r->as.f64 = a[0].as.f64 / 2;
    return 0;
}

static int h_not(void *user, const glint_value *a, size_t n, glint_value *r)
{
    struct script_host *h = user;
    (void)n;
    h->calls++;
    r->as.b = !a[0].as.b;
    return 0;
}

static int h_note(void *user, const glint_value *a, size_t n, glint_value *r)
{
    struct script_host *h = user;
    (void)n, (void)r;
    h->calls++;
    snprintf(h->noted, sizeof h->noted, "%s", a[0].as.str.ptr);
    return 0;
}

static int h_unsigned(void *user, const glint_value *a, size_t n, glint_value *r)
{
    struct script_host *h = user;
    (void)n;
    h->calls++;
    r->as.u64 = a[0].as.u64 + a[1].as.u32;
    return 0;
}

static int h_fail(void *user, const glint_value *a, size_t n, glint_value *r)
{
    struct script_host *h = user;
    (void)a, (void)n, (void)r;
    h->calls++;
    return -7;
}

static void add(struct script_host *h, const char *name, glint_type ret, const glint_type *p,
                size_t np, glint_host_fn fn)
{
    cr_assert_eq(glint_host_fns_add(h->fns, name, ret, p, np, fn, h), 0, "%s: %s", name,
                 glint_errmsg());
}

void script_host_open(struct script_host *h, const char *runtime)
{
    vm_require_kvm();
    memset(h, 0, sizeof *h);
    vm_capture_init(&h->cap);
    cr_assert_eq(glint_host_fns_create(&h->fns), 0, "%s", glint_errmsg());
    glint_host_fns_set_print(h->fns, vm_capture_print, &h->cap);
    add(h, "Add", GLINT_I32, (glint_type[]){GLINT_I32, GLINT_I32}, 2, h_add);
    add(h, "Concat", GLINT_STRING, (glint_type[]){GLINT_STRING, GLINT_STRING}, 2, h_concat);
    add(h, "Reverse", GLINT_BYTES, (glint_type[]){GLINT_BYTES}, 1, h_reverse);
    add(h, "Half", GLINT_F64, (glint_type[]){GLINT_F64}, 1, h_half);
    add(h, "Not", GLINT_BOOL, (glint_type[]){GLINT_BOOL}, 1, h_not);
    add(h, "Note", GLINT_VOID, (glint_type[]){GLINT_STRING}, 1, h_note);
    add(h, "Unsigned", GLINT_U64, (glint_type[]){GLINT_U64, GLINT_U32}, 2, h_unsigned);
    add(h, "Fail", GLINT_I32, (glint_type[]){GLINT_I32}, 1, h_fail);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 16u << 20;
    cfg.stack_size = 256 * 1024;
    cfg.input_size = 64 * 1024;
    cfg.timeout_ms = 5000;
    h->img = vm_load_example(runtime, &cfg, h->fns);
    h->sb = vm_sandbox(h->img, NULL);
}

void script_host_close(struct script_host *h)
{
    vm_close(&h->img, &h->sb);
    glint_host_fns_destroy(h->fns);
    h->fns = NULL;
}
