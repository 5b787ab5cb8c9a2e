/* VM tests: pooled script requests are isolated. A Lua or JS handler is loaded, the sandbox
 * derived into an image, and a pool of it serves requests: globals written and memory grown by one
 * request, or left behind by an out-of-memory or a timed-out request, are gone for the next. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glint.h"
#include "helpers.h"

TestSuite(vm_script_isolation, .timeout = 90);

struct lang {
    const char *guest;
    const char *handler; /* Load()ed before deriving */
    const char *probe;   /* Eval: what a request sees of the state */
    const char *pristine;
    const char *dirty; /* sets a global, grows the heap by MiBs, changes the loaded state */
    const char *oom;   /* runs out of guest memory */
    const char *spin;  /* never ends */
};

/* Lua: collectgarbage("count") is the interpreter's heap in KiB; the probe reads it first, so the
 * same state gives the same number. */
static const struct lang lua = {
    "lua",
    "greeting = 'hello'; function greet(n) return greeting .. ', ' .. n end",
    "local kib = collectgarbage('count') "
    "return kib .. ' ' .. tostring(leak) .. ' ' .. tostring(#(big or '')) .. ' ' .. greet('x')",
    NULL, /* measured: the first request's probe */
    "leak = 'set'; big = string.rep('z', 6 << 20); greeting = 'changed' "
    "return math.floor(collectgarbage('count') / 1024)",
    "local t = {} for i = 1, 1e9 do t[i] = string.rep('y', 4096) .. i end",
    "while true do end",
};

/* JS: MuJS reports no heap size; the loaded state carries a marker the dirty request changes. */
static const struct lang js = {
    "js",
    "var greeting = 'hello', marker = 'loaded'; function greet(n) { return greeting + ', ' + n; }",
    "[typeof leak, typeof big, marker, greet('x')].join(' ')",
    "undefined undefined loaded hello, x",
    "leak = 'set'; var big = new Array(6 << 17).join('zzzzzzzz'); greeting = 'changed'; "
    "marker = 'dirty'; big.length >> 20",
    "var t = [], s = 'y'; for (;;) { s = s + s; t.push(s); }",
    "for (;;) {}",
};

static const char *pool_eval(glint_pool *pool, const char *src, glint_failure *f)
{
    glint_value a = glint_string(src), r;
    int rc = glint_pool_call(pool, "Eval", &a, 1, &r, f);
    if (rc != 0)
        return NULL;
    cr_assert_eq(r.type, GLINT_STRING);
    return r.as.str.ptr;
}

static void expect_ok(glint_pool *pool, const char *src, const char *want, const char *when)
{
    glint_failure f;
    const char *got = pool_eval(pool, src, &f);
    cr_assert_not_null(got, "%s: %s (%s)", when, f.message, glint_errmsg());
    cr_assert_str_eq(got, want, "%s", when);
}

static void isolation(const struct lang *l)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 32u << 20;
    cfg.timeout_ms = 2000;
    glint_image *img = vm_load_example(l->guest, &cfg, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value a = glint_string(l->handler);
    vm_call_ok(sb, "Load", &a, 1);
    glint_image *d = NULL;
    int rc = glint_image_derive(sb, &d);
    cr_assert_eq(rc, 0, "glint_image_derive: %s (%s)", glint_strerror(rc), glint_errmsg());
    /* Control: without a restore, the probe does see what a dirty request left. */
    glint_value dirty = glint_string(l->dirty), probe = glint_string(l->probe);
    glint_value before = vm_call_ok(sb, "Eval", &probe, 1);
    char loaded[256];
    snprintf(loaded, sizeof loaded, "%s", before.as.str.ptr);
    vm_call_ok(sb, "Eval", &dirty, 1);
    glint_value after = vm_call_ok(sb, "Eval", &probe, 1);
    cr_assert_str_neq(after.as.str.ptr, loaded, "the probe sees a dirty state");
    vm_close(&img, &sb);

    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 1; /* every request reuses the one sandbox, restored */
    glint_pool *pool = NULL;
    rc = glint_pool_create(d, NULL, &pc, &pool);
    cr_assert_eq(rc, 0, "glint_pool_create: %s (%s)", glint_strerror(rc), glint_errmsg());

    glint_failure f;
    char pristine[256];
    const char *first = pool_eval(pool, l->probe, &f);
    cr_assert_not_null(first, "probe: %s", f.message);
    snprintf(pristine, sizeof pristine, "%s", l->pristine ? l->pristine : first);
    cr_assert_str_eq(first, pristine, "the loaded state");
    cr_assert(vm_contains(pristine, "hello, x"), "%s", pristine);

    const char *grown = pool_eval(pool, l->dirty, &f);
    cr_assert_not_null(grown, "dirty request: %s", f.message);
    cr_assert_geq(atoi(grown), 5, "the dirty request grew the heap by %s MiB", grown);
    expect_ok(pool, l->probe, pristine, "after a request that set globals and grew the heap");

    cr_assert_null(pool_eval(pool, l->oom, &f), "the out-of-memory request failed");
    cr_assert(vm_contains(f.message, "memory"), "out of memory: %s", f.message);
    expect_ok(pool, l->probe, pristine, "after an out-of-memory request");

    double t0 = vm_now_ms();
    cr_assert_null(pool_eval(pool, l->spin, &f), "the spinning request failed");
    cr_assert_eq(f.kind, GLINT_FAIL_TIMEOUT, "%s", f.message);
    cr_assert_lt(vm_now_ms() - t0, 30000);
    expect_ok(pool, l->probe, pristine, "after a timed-out request");

    /* Mixed: dirty, then OOM, then timeout, each followed by a pristine probe, a few times. */
    for (int i = 0; i < 3; i++) {
        cr_assert_not_null(pool_eval(pool, l->dirty, &f), "%s", f.message);
        expect_ok(pool, l->probe, pristine, "repeat");
    }
    glint_pool_destroy(pool);
    glint_image_destroy(d);
}

Test(vm_script_isolation, lua_pooled_requests_leave_nothing_for_the_next)
{
    isolation(&lua);
}

Test(vm_script_isolation, js_pooled_requests_leave_nothing_for_the_next)
{
    isolation(&js);
}
