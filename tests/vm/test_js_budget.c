/* VM tests: the instruction budget of build/guests/js.elf (MuJS's count hook): its own failure
 * kind, per call, deterministic, uncatchable by try/catch/finally, pristine restore, pools. */
#include <criterion/criterion.h>
#include <string.h>

#include "glint.h"
#include "helpers.h"

static struct vm_capture cap;
static glint_host_fns *fns;
static glint_image *img;
static glint_sandbox *sb;

/* js.elf with its declared sizes, a 5 s timeout and cfg's budget. */
static void open_js(uint64_t budget)
{
    vm_require_kvm();
    vm_capture_init(&cap);
    fns = vm_host_fns(&cap);
    glint_config c;
    glint_config_init(&c);
    c.timeout_ms = 5000;
    c.budget = budget;
    img = vm_load_example("js", &c, fns);
    sb = vm_sandbox(img, NULL);
}

static void setup(void)
{
    open_js(0);
}

static void teardown(void)
{
    vm_close(&img, &sb);
    glint_host_fns_destroy(fns);
    fns = NULL;
}

TestSuite(vm_js_budget, .init = setup, .fini = teardown, .timeout = 60);

static const char *eval(const char *src)
{
    glint_value a = glint_string(src);
    glint_value r = vm_call_ok(sb, "Eval", &a, 1);
    return r.as.str.ptr;
}

static glint_failure eval_fails(const char *src)
{
    glint_value a = glint_string(src);
    int rc = glint_sandbox_call(sb, "Eval", &a, 1, NULL);
    return vm_expect_failure(sb, rc, GLINT_EBUDGET, GLINT_FAIL_BUDGET);
}

static void restore(void)
{
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert(!glint_sandbox_poisoned(sb));
}

Test(vm_js_budget, infinite_loop_fails_with_the_budget_kind)
{
    cr_assert_eq(glint_sandbox_set_budget(sb, 100000), 0, "%s", glint_errmsg());
    double t0 = vm_now_ms();
    glint_failure f = eval_fails("var x = 1; for (;;) {}");
    cr_assert_lt(vm_now_ms() - t0, 2000, "stopped by the budget, not the 5 s timeout");
    cr_assert(vm_contains(f.message, "budget of 100000"), "%s", f.message);
    cr_assert(glint_sandbox_poisoned(sb));
    /* Restore is pristine: the interrupted script's global is gone, the state works. */
    restore();
    cr_assert_str_eq(eval("typeof x + ' ' + 6 * 7"), "undefined 42");
}

/* The budget is per call: every call under it succeeds; without one, nothing is counted. */
Test(vm_js_budget, short_scripts_under_the_budget_succeed_every_call)
{
    cr_assert_eq(glint_sandbox_set_budget(sb, 100000), 0, "%s", glint_errmsg());
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(eval("var s = 0; for (var i = 1; i <= 5000; i++) s += i; s"), "12502500");
    cr_assert_eq(glint_sandbox_set_budget(sb, 0), 0, "%s", glint_errmsg());
    cr_assert_str_eq(eval("var n = 0; for (var i = 0; i < 300000; i++) n++; n"), "300000");
}

/* try/catch and finally do not escape it: the hook ends the call without unwinding MuJS. */
Test(vm_js_budget, try_catch_and_finally_cannot_escape)
{
    cr_assert_eq(glint_sandbox_set_budget(sb, 50000), 0, "%s", glint_errmsg());
    eval_fails("for (;;) { try { for (;;) {} } catch (e) {} }");
    restore();
    eval_fails("try { for (;;) {} } finally { print('escaped') }");
    cr_assert_eq(strstr(cap.text, "escaped"), NULL, "the finally block ran: %s", cap.text);
    restore();
    eval_fails("function f() { return f(); } for (;;) { try { f(); } catch (e) {} }");
}

/* Functions defined by Load and run by Call are counted like top-level code. */
Test(vm_js_budget, load_then_call_is_counted)
{
    glint_value src = glint_string("function spin(n) { var k = 0; while (n--) k++; return k; }");
    vm_call_ok(sb, "Load", &src, 1);
    cr_assert_eq(glint_sandbox_set_budget(sb, 20000), 0, "%s", glint_errmsg());
    glint_value ok[2] = {glint_string("spin"), glint_string("[100]")};
    cr_assert_str_eq(vm_call_ok(sb, "Call", ok, 2).as.str.ptr, "100");
    glint_value big[2] = {glint_string("spin"), glint_string("[1000000]")};
    int rc = glint_sandbox_call(sb, "Call", big, 2, NULL);
    vm_expect_failure(sb, rc, GLINT_EBUDGET, GLINT_FAIL_BUDGET);
}

/* The outcome of a budget is a function of the script: the same budget gives the same result
 * every run, and there is one threshold below which the script fails. */
Test(vm_js_budget, the_same_budget_gives_the_same_outcome)
{
    const char *src = "var s = 0; for (var i = 1; i <= 3000; i++) s += i; s";
    uint64_t first_ok = vm_budget_threshold(sb, src, "4501500", 1000, 60000, 1000);
    cr_assert_gt(first_ok, 1000, "the loop needs more than the smallest budget");
    cr_assert_lt(first_ok, 60000, "and less than the largest");
}

/* The config's budget applies to every sandbox of the image, pools included. */
Test(vm_js_budget, config_budget_applies_to_pools)
{
    teardown();
    open_js(20000);
    eval_fails("for (;;) {}");
    glint_pool *pool;
    cr_assert_eq(glint_pool_create(img, NULL, NULL, &pool), 0, "%s", glint_errmsg());
    glint_value a = glint_string("while (true) {}"), r;
    glint_failure f;
    cr_assert_eq(glint_pool_call(pool, "Eval", &a, 1, &r, &f), GLINT_EBUDGET);
    cr_assert_eq(f.kind, GLINT_FAIL_BUDGET);
    glint_value b = glint_string("'fine'");
    cr_assert_eq(glint_pool_call(pool, "Eval", &b, 1, &r, &f), 0, "%s", f.message);
    cr_assert_str_eq(r.as.str.ptr, "fine");
    glint_pool_destroy(pool);
}
