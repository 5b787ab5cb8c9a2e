/* VM tests: the script runtimes (lua.elf, js.elf) in hot mode: calls, prints, state, budget. */
#include <criterion/criterion.h>

#include <string.h>

#include "glint.h"
#include "helpers.h"

static struct vm_capture cap;
static glint_host_fns *fns;
static glint_image *img;
static glint_sandbox *sb;

static void open_hot(const char *runtime)
{
    vm_require_kvm();
    vm_capture_init(&cap);
    fns = vm_host_fns(&cap);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 16u << 20;
    cfg.stack_size = 256 * 1024;
    cfg.input_size = 256 * 1024;
    cfg.timeout_ms = 5000;
    img = vm_load_example(runtime, &cfg, fns);
    sb = vm_sandbox(img, NULL);
    vm_go_hot(sb, 0);
}

static void teardown(void)
{
    vm_close(&img, &sb);
    glint_host_fns_destroy(fns);
    fns = NULL;
}

TestSuite(vm_hot_runtimes, .fini = teardown, .timeout = 60);

static const char *eval(const char *src)
{
    glint_value a = glint_string(src);
    glint_value r = vm_call_ok(sb, "Eval", &a, 1);
    return r.as.str.ptr;
}

Test(vm_hot_runtimes, lua_evaluates_prints_and_keeps_state)
{
    open_hot("lua");
    cr_assert_str_eq(eval("return 1 + 1"), "2");
    cr_assert_str_eq(eval("x = 40"), "");
    cr_assert_str_eq(eval("print('from a hot guest') return x + 2"), "42");
    cr_assert(vm_contains(cap.text, "from a hot guest"), "%s", cap.text);
    glint_value a = glint_string("error('boom')"), r;
    cr_assert_eq(glint_sandbox_call(sb, "Eval", &a, 1, &r), GLINT_EGUEST, "%s", glint_errmsg());
    cr_assert_str_eq(eval("return 'still usable'"), "still usable");
    glint_hot_status st;
    glint_sandbox_hot_status(sb, &st);
    cr_assert(st.active);
    cr_assert_geq(st.calls, 5u);
}

Test(vm_hot_runtimes, lua_budget_is_enforced_in_hot_mode)
{
    open_hot("lua");
    cr_assert_eq(glint_sandbox_set_budget(sb, 100000), 0, "%s", glint_errmsg());
    glint_value a = glint_string("while true do end"), r;
    int rc = glint_sandbox_call(sb, "Eval", &a, 1, &r);
    vm_expect_failure(sb, rc, GLINT_EBUDGET, GLINT_FAIL_BUDGET);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(eval("return 3 * 3"), "9");
}

Test(vm_hot_runtimes, js_evaluates_and_keeps_state)
{
    open_hot("js");
    cr_assert_str_eq(eval("1 + 1"), "2");
    cr_assert_str_eq(eval("var y = 20"), "");
    cr_assert_str_eq(eval("y * 2 + 2"), "42");
}
