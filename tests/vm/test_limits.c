/* VM tests: limits of a runtime guest. Guest-declared default sizes (lua.elf declares heap,
 * stack and input; the caller's config wins), the per-call instruction budget (its own failure
 * kind, deterministic, uncatchable by the script, pristine restore), and Lua under the other
 * limits: memory, recursion, timeout and glint_sandbox_interrupt. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "glint.h"
#include "helpers.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)

static struct vm_capture cap;
static glint_host_fns *fns;
static glint_image *img;
static glint_sandbox *sb;

/* lua.elf with cfg (NULL: glint_config_init only, so the guest's sizes apply). */
static void open_lua(const glint_config *cfg)
{
    vm_require_kvm();
    vm_capture_init(&cap);
    fns = vm_host_fns(&cap);
    glint_config c;
    glint_config_init(&c);
    c.timeout_ms = 5000;
    img = vm_load_example("lua", cfg ? cfg : &c, fns);
    sb = vm_sandbox(img, NULL);
}

static void setup(void)
{
    open_lua(NULL);
}

static void teardown(void)
{
    vm_close(&img, &sb);
    glint_host_fns_destroy(fns);
    fns = NULL;
}

TestSuite(vm_limits, .init = setup, .fini = teardown, .timeout = 60);

static const char *eval(const char *src)
{
    glint_value a = glint_string(src);
    glint_value r = vm_call_ok(sb, "Eval", &a, 1);
    return r.as.str.ptr;
}

static glint_failure eval_fails(const char *src, int err, glint_failure_kind kind)
{
    glint_value a = glint_string(src);
    int rc = glint_sandbox_call(sb, "Eval", &a, 1, NULL);
    return vm_expect_failure(sb, rc, err, kind);
}

static void restore(void)
{
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert(!glint_sandbox_poisoned(sb));
}

/* ---- guest-declared default sizes ---------------------------------------------------- */

/* No sizes in the config: lua.elf's declared ones (and glint's output size). */
Test(vm_limits, lua_declares_its_sizes)
{
    glint_config c;
    glint_config_init(&c);
    cr_assert_eq(glint_image_config(img, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.heap_size, 16 * MIB);
    cr_assert_eq(c.stack_size, 256 * KIB);
    cr_assert_eq(c.input_size, 64 * KIB);
    cr_assert_eq(c.output_size, 16 * KIB, "not declared: glint's");
    /* Used, not only reported: a 40 KiB script needs more than glint's 16 KiB input buffer,
     * and a 4 MiB table more than its 128 KiB heap. */
    char *src = malloc(40 * 1024);
    cr_assert_not_null(src);
    memset(src, ' ', 40 * 1024 - 1);
    const char body[] = "local t = {} for i = 1, 200000 do t[i] = i end return #t";
    memcpy(src, body, sizeof body - 1);
    src[40 * 1024 - 1] = 0;
    cr_assert_str_eq(eval(src), "200000");
    free(src);
}

/* A size the caller sets wins over the guest's; the others stay the guest's. */
Test(vm_limits, caller_size_wins_over_the_guest)
{
    teardown();
    glint_config c;
    glint_config_init(&c);
    c.heap_size = 1 * MIB;
    open_lua(&c);
    glint_config got;
    glint_config_init(&got);
    cr_assert_eq(glint_image_config(img, &got), 0, "%s", glint_errmsg());
    cr_assert_eq(got.heap_size, 1 * MIB);
    cr_assert_eq(got.stack_size, 256 * KIB);
    glint_failure f = eval_fails("local t = {} for i = 1, 1e6 do t[i] = ('x'):rep(32) .. i end",
                                 GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "not enough memory"), "%s", f.message);
}

/* A guest without the note (every C guest built before it) gets glint's defaults. */
Test(vm_limits, guest_without_defaults_gets_glints)
{
    glint_image *h = vm_load_example("hello", NULL, NULL);
    glint_config c;
    glint_config_init(&c);
    cr_assert_eq(glint_image_config(h, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.heap_size, 128 * KIB);
    cr_assert_eq(c.stack_size, 64 * KIB);
    cr_assert_eq(c.input_size, 16 * KIB);
    cr_assert_eq(c.output_size, 16 * KIB);
    cr_assert_eq(c.budget, 0);
    glint_image_destroy(h);
}

/* Derived images keep the resolved sizes. */
Test(vm_limits, derived_image_keeps_the_sizes)
{
    glint_value a = glint_string("x = 42");
    vm_call_ok(sb, "Load", &a, 1);
    glint_image *d;
    cr_assert_eq(glint_image_derive(sb, &d), 0, "%s", glint_errmsg());
    glint_config c;
    glint_config_init(&c);
    cr_assert_eq(glint_image_config(d, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.heap_size, 16 * MIB);
    cr_assert_eq(c.input_size, 64 * KIB);
    glint_image_destroy(d);
}

/* ---- the instruction budget ---------------------------------------------------------- */

Test(vm_limits, infinite_loop_fails_with_the_budget_kind)
{
    cr_assert_eq(glint_sandbox_set_budget(sb, 100000), 0, "%s", glint_errmsg());
    double t0 = vm_now_ms();
    glint_failure f = eval_fails("x = 1 while true do end", GLINT_EBUDGET, GLINT_FAIL_BUDGET);
    cr_assert_lt(vm_now_ms() - t0, 2000, "stopped by the budget, not the 5 s timeout");
    cr_assert(vm_contains(f.message, "budget of 100000"), "%s", f.message);
    cr_assert(glint_sandbox_poisoned(sb));
    glint_value a = glint_string("return 1");
    cr_assert_eq(glint_sandbox_call(sb, "Eval", &a, 1, NULL), GLINT_EPOISONED);
    /* Restore is pristine: the interrupted script's global is gone, the state works. */
    restore();
    cr_assert_str_eq(eval("return x, 6 * 7"), "nil\t42");
}

/* The budget is per call: two calls each under it succeed. */
Test(vm_limits, short_scripts_under_the_budget_succeed_every_call)
{
    cr_assert_eq(glint_sandbox_set_budget(sb, 100000), 0, "%s", glint_errmsg());
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(eval("local s = 0 for i = 1, 5000 do s = s + i end return s"), "12502500");
}

/* Neither pcall nor a coroutine escapes it: the hook ends the call without unwinding Lua. */
Test(vm_limits, pcall_and_coroutines_cannot_escape)
{
    cr_assert_eq(glint_sandbox_set_budget(sb, 50000), 0, "%s", glint_errmsg());
    eval_fails("while true do pcall(function() while true do end end) end", GLINT_EBUDGET,
               GLINT_FAIL_BUDGET);
    restore();
    eval_fails("coroutine.wrap(function() while true do end end)()", GLINT_EBUDGET,
               GLINT_FAIL_BUDGET);
    restore();
    eval_fails("local ok, e = pcall(error, 'x') while true do end", GLINT_EBUDGET,
               GLINT_FAIL_BUDGET);
}

/* The outcome of a budget is a function of the script: the same budget gives the same result
 * every run, and there is one threshold below which the script fails. */
Test(vm_limits, the_same_budget_gives_the_same_outcome)
{
    const char *src = "local s = 0 for i = 1, 3000 do s = s + i end return s";
    uint64_t first_ok = vm_budget_threshold(sb, src, "4501500", 1000, 30000, 1000);
    cr_assert_gt(first_ok, 1000, "the loop needs more than the smallest budget");
    cr_assert_lt(first_ok, 30000, "and less than the largest");
}

/* The config's budget applies to every sandbox of the image; the setter overrides it. */
Test(vm_limits, config_budget_and_setter)
{
    teardown();
    glint_config c;
    glint_config_init(&c);
    c.budget = 20000;
    c.timeout_ms = 5000;
    open_lua(&c);
    eval_fails("while true do end", GLINT_EBUDGET, GLINT_FAIL_BUDGET);
    restore();
    cr_assert_eq(glint_sandbox_set_budget(sb, 0), 0);
    cr_assert_str_eq(eval("local s = 0 for i = 1, 100000 do s = s + 1 end return s"), "100000");
    /* A pool's sandboxes get the image's budget too. */
    glint_pool *pool;
    cr_assert_eq(glint_pool_create(img, NULL, NULL, &pool), 0, "%s", glint_errmsg());
    glint_value a = glint_string("while true do end"), r;
    glint_failure f;
    cr_assert_eq(glint_pool_call(pool, "Eval", &a, 1, &r, &f), GLINT_EBUDGET);
    cr_assert_eq(f.kind, GLINT_FAIL_BUDGET);
    glint_value b = glint_string("return 'fine'");
    cr_assert_eq(glint_pool_call(pool, "Eval", &b, 1, &r, &f), 0, "%s", f.message);
    cr_assert_str_eq(r.as.str.ptr, "fine");
    glint_pool_destroy(pool);
}

/* A guest that does not enforce budgets is refused one rather than ignoring it. */
Test(vm_limits, budget_refused_for_guests_that_do_not_enforce_it)
{
    glint_image *h = vm_load_example("hello", NULL, NULL);
    glint_sandbox *s = vm_sandbox(h, NULL);
    cr_assert_eq(glint_sandbox_set_budget(s, 1000), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "does not enforce"), "%s", glint_errmsg());
    cr_assert_eq(glint_sandbox_set_budget(s, 0), 0);
    cr_assert_eq(glint_sandbox_set_budget(NULL, 0), GLINT_EINVAL);
    glint_sandbox_destroy(s);
    glint_image_destroy(h);
    glint_config c;
    glint_config_init(&c);
    c.budget = 1000;
    char path[512];
    vm_example_guest_path(path, sizeof path, "hello");
    glint_image *bad = NULL;
    cr_assert_eq(glint_image_load_file(path, &c, NULL, &bad), GLINT_EINVAL);
    cr_assert_null(bad);
    cr_assert(vm_contains(glint_errmsg(), "does not enforce"), "%s", glint_errmsg());
}

/* A snapshot taken with a budget in place restores it; the next call rewrites it as set. */
Test(vm_limits, snapshot_and_restore_around_budgets)
{
    cr_assert_eq(glint_sandbox_set_budget(sb, 30000), 0);
    cr_assert_str_eq(eval("y = 5 return y"), "5");
    glint_snapshot *snap;
    cr_assert_eq(glint_sandbox_snapshot(sb, &snap), 0, "%s", glint_errmsg());
    eval_fails("while true do end", GLINT_EBUDGET, GLINT_FAIL_BUDGET);
    cr_assert_eq(glint_sandbox_restore(sb, snap), 0, "%s", glint_errmsg());
    cr_assert_str_eq(eval("return y"), "5");
    cr_assert_eq(glint_sandbox_set_budget(sb, 0), 0);
    cr_assert_str_eq(eval("local s = 0 for i = 1, 100000 do s = s + 1 end return s"), "100000");
    glint_snapshot_destroy(snap);
}

/* ---- Lua under the other limits --------------------------------------------------------- */

/* Lua-level recursion: a script error ("stack overflow"), and the state is usable. */
Test(vm_limits, deep_lua_recursion_is_a_script_error)
{
    glint_failure f = eval_fails("local function f(n) return 1 + f(n + 1) end return f(1)",
                                 GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "stack overflow") ||
                  vm_contains(f.message, "not enough memory"),
              "%s", f.message);
    cr_assert(!glint_sandbox_poisoned(sb));
    cr_assert_str_eq(eval("return 1 + 1"), "2");
}

/* C-level recursion (pcall inside pcall, metamethods): Lua's C-stack limit is a script error
 * within the 256 KiB stack lua.elf declares. */
Test(vm_limits, deep_c_recursion_is_a_script_error)
{
    cr_assert_str_eq(eval("local function f() return pcall(f) end return select('#', f()) > 1"),
                     "true");
    glint_failure f = eval_fails(
        "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x",
        GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "stack overflow"), "%s", f.message);
    cr_assert_str_eq(eval("return 'still fine'"), "still fine");
}

struct interrupter {
    glint_sandbox *sb;
    int delay_ms;
};

static void *interrupt_later(void *arg)
{
    struct interrupter *it = arg;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = it->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    glint_sandbox_interrupt(it->sb);
    return NULL;
}

/* glint_sandbox_interrupt from another thread stops a running script; restore is pristine. */
Test(vm_limits, interrupt_inside_the_interpreter)
{
    struct interrupter it = {sb, 100};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, interrupt_later, &it), 0);
    double t0 = vm_now_ms();
    eval_fails("z = 1 while true do end", GLINT_EINTR, GLINT_FAIL_INTERRUPTED);
    cr_assert_lt(vm_now_ms() - t0, 3000, "stopped by the interrupt, not the 5 s timeout");
    pthread_join(t, NULL);
    restore();
    cr_assert_str_eq(eval("return z"), "nil");
}

/* The timeout still bounds what the budget cannot count (time in C library code). */
Test(vm_limits, timeout_bounds_c_code_the_budget_does_not_count)
{
    cr_assert_eq(glint_sandbox_set_budget(sb, 1u << 30), 0);
    glint_sandbox_set_timeout(sb, 200);
    eval_fails("local s = ('a'):rep(1 << 22) while true do s:find('.-b') end", GLINT_ETIMEDOUT,
               GLINT_FAIL_TIMEOUT);
    restore();
}
