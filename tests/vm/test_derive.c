/* VM tests for derived images: load once, derive, and every sandbox or pooled call starts there. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "helpers.h"

TestSuite(vm_derive, .timeout = 60);

static void load(glint_sandbox *sb, const char *text)
{
    glint_value a = glint_string(text);
    vm_call_ok(sb, "Load", &a, 1);
}

static void expect_get(glint_sandbox *sb, const char *want)
{
    glint_value r = vm_call_ok(sb, "Get", NULL, 0);
    cr_assert_eq(r.type, GLINT_STRING);
    cr_assert(r.as.str.len == strlen(want) && memcmp(r.as.str.ptr, want, r.as.str.len) == 0,
              "Get() = '%.*s', want '%s'", (int)r.as.str.len, r.as.str.ptr, want);
}

static glint_image *derive(glint_sandbox *sb)
{
    glint_image *d = NULL;
    int rc = glint_image_derive(sb, &d);
    cr_assert_eq(rc, 0, "glint_image_derive: %s (%s)", glint_strerror(rc), glint_errmsg());
    cr_assert_not_null(d);
    return d;
}

Test(vm_derive, sandbox_of_derived_image_starts_loaded)
{
    glint_image *img;
    glint_sandbox *sb;
    vm_open("stateful", NULL, NULL, &img, &sb);
    load(sb, "hello script");
    glint_image *d = derive(sb);
    glint_sandbox *dsb = vm_sandbox(d, NULL);
    expect_get(dsb, "loaded 1 0:hello script");
    /* Restoring a sandbox of the derived image goes back to the loaded state. */
    glint_value n = glint_u32(8);
    vm_call_ok(dsb, "Scribble", &n, 1);
    expect_get(dsb, "scribbled 1001 1:XXXXXXXXXXXX");
    cr_assert_eq(glint_sandbox_restore(dsb, NULL), 0, "%s", glint_errmsg());
    expect_get(dsb, "loaded 1 0:hello script");
    /* The source image and sandbox are unchanged. */
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    expect_get(sb, "none 0 0:");
    glint_sandbox *fresh = vm_sandbox(img, NULL);
    expect_get(fresh, "none 0 0:");
    glint_sandbox_destroy(fresh);
    glint_sandbox_destroy(dsb);
    glint_image_destroy(d);
    vm_close(&img, &sb);
}

Test(vm_derive, pool_of_derived_image_returns_loaded_state_every_call)
{
    glint_image *img;
    glint_sandbox *sb;
    vm_open("stateful", NULL, NULL, &img, &sb);
    load(sb, "state for the pool");
    glint_image *d = derive(sb);
    vm_close(&img, &sb);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 2;
    glint_pool *pool = NULL;
    int rc = glint_pool_create(d, NULL, &pc, &pool);
    cr_assert_eq(rc, 0, "glint_pool_create: %s (%s)", glint_strerror(rc), glint_errmsg());
    for (int i = 0; i < 10; i++) {
        glint_value r;
        glint_failure f;
        rc = glint_pool_call(pool, "Get", NULL, 0, &r, &f);
        cr_assert_eq(rc, 0, "Get %d: %s (%s)", i, glint_strerror(rc), glint_errmsg());
        const char *want = "loaded 1 0:state for the pool";
        cr_assert(r.as.str.len == strlen(want) && memcmp(r.as.str.ptr, want, r.as.str.len) == 0,
                  "call %d: Get() = '%.*s'", i, (int)r.as.str.len, r.as.str.ptr);
        glint_value n = glint_u32(8);
        rc = glint_pool_call(pool, "Scribble", &n, 1, &r, &f);
        cr_assert_eq(rc, 0, "Scribble %d: %s (%s)", i, glint_strerror(rc), glint_errmsg());
        cr_assert_eq(r.as.u32, 8);
    }
    glint_pool_destroy(pool);
    glint_image_destroy(d);
}

Test(vm_derive, refused_from_poisoned_sandbox)
{
    glint_image *img;
    glint_sandbox *sb;
    vm_open("stateful", NULL, NULL, &img, &sb);
    load(sb, "x");
    int rc = glint_sandbox_call(sb, "Crash", NULL, 0, NULL);
    vm_expect_failure(sb, rc, GLINT_EFAULT, GLINT_FAIL_FAULT);
    glint_image *d = (glint_image *)1;
    rc = glint_image_derive(sb, &d);
    cr_assert_eq(rc, GLINT_EPOISONED, "derive from a poisoned sandbox: %s", glint_strerror(rc));
    cr_assert(vm_contains(glint_errmsg(), "poisoned"), "message: %s", glint_errmsg());
    cr_assert_eq(d, (glint_image *)1, "*out written on failure");
    cr_assert_eq(glint_image_derive(NULL, &d), GLINT_EINVAL);
    cr_assert_eq(glint_image_derive(sb, NULL), GLINT_EINVAL);
    vm_close(&img, &sb);
}

struct derive_in_call {
    glint_sandbox *sb;
    int rc;
    char msg[256];
};

static int derive_from_host(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)args;
    (void)nargs;
    struct derive_in_call *c = user;
    glint_image *d = NULL;
    c->rc = glint_image_derive(c->sb, &d);
    snprintf(c->msg, sizeof c->msg, "%s", glint_errmsg());
    glint_image_destroy(d);
    *ret = glint_i64(c->rc);
    return 0;
}

Test(vm_derive, refused_during_a_call)
{
    vm_require_kvm();
    struct derive_in_call c = {0};
    glint_host_fns *fns = vm_host_fns_one("Derive", derive_from_host, &c);
    glint_image *img = vm_load_test("stateful", NULL, fns);
    c.sb = vm_sandbox(img, NULL);
    glint_value a = glint_string("Derive");
    glint_value r = vm_call_ok(c.sb, "CallHost", &a, 1);
    cr_assert_eq(c.rc, GLINT_EBUSY, "derive during a call: %s", glint_strerror(c.rc));
    cr_assert(vm_contains(c.msg, "during a call"), "message: %s", c.msg);
    cr_assert_eq(r.as.i64, GLINT_EBUSY);
    glint_sandbox_destroy(c.sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

Test(vm_derive, derive_of_derive_and_source_destroyed_first)
{
    glint_image *img;
    glint_sandbox *sb;
    vm_open("stateful", NULL, NULL, &img, &sb);
    load(sb, "first");
    glint_image *d1 = derive(sb);
    vm_close(&img, &sb); /* the source image goes first */
    glint_sandbox *s1 = vm_sandbox(d1, NULL);
    expect_get(s1, "loaded 1 0:first");
    cr_assert_eq(glint_sandbox_restore(s1, NULL), 0, "%s", glint_errmsg());
    load(s1, "second");
    glint_image *d2 = derive(s1);
    glint_sandbox_destroy(s1);
    glint_image_destroy(d1);
    glint_sandbox *s2 = vm_sandbox(d2, NULL);
    expect_get(s2, "loaded 2 0:second");
    cr_assert_eq(glint_sandbox_restore(s2, NULL), 0, "%s", glint_errmsg());
    expect_get(s2, "loaded 2 0:second");
    cr_assert_eq(glint_image_exports(d2) != NULL, 1);
    glint_function_info fi;
    cr_assert_eq(glint_exports_find(glint_image_exports(d2), "Load", &fi), 0);
    glint_sandbox_destroy(s2);
    glint_image_destroy(d2);
}
