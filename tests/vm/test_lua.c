/* VM tests: build/guests/lua.elf (Debian's liblua5.4.a on libglint-rt): Eval, print capture,
 * Load + Call with JSON, clean failures for files, memory and time, and pristine restores. */
#include <criterion/criterion.h>
#include <string.h>

#include "glint.h"
#include "helpers.h"

static struct vm_capture cap;
static glint_host_fns *fns;
static glint_image *img;
static glint_sandbox *sb;

static void open_lua(uint64_t heap, uint32_t timeout_ms)
{
    vm_require_kvm();
    vm_capture_init(&cap);
    fns = vm_host_fns(&cap);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = heap;
    cfg.stack_size = 256 * 1024;
    cfg.input_size = 64 * 1024;
    cfg.timeout_ms = timeout_ms;
    img = vm_load_example("lua", &cfg, fns);
    sb = vm_sandbox(img, NULL);
}

static void setup(void)
{
    open_lua(16u << 20, 2000);
}

static void teardown(void)
{
    vm_close(&img, &sb);
    glint_host_fns_destroy(fns);
    fns = NULL;
}

TestSuite(vm_lua, .init = setup, .fini = teardown, .timeout = 60);

/* Call Eval or Load/Call and return the string result (NUL-terminated by the API). */
static const char *eval(const char *src)
{
    glint_value a = glint_string(src);
    glint_value r = vm_call_ok(sb, "Eval", &a, 1);
    return r.as.str.ptr;
}

static const char *call(const char *fn, const char *json)
{
    glint_value a[2] = {glint_string(fn), glint_string(json)};
    glint_value r = vm_call_ok(sb, "Call", a, 2);
    return r.as.str.ptr;
}

static glint_failure eval_fails(const char *src, int err, glint_failure_kind kind)
{
    glint_value a = glint_string(src);
    int rc = glint_sandbox_call(sb, "Eval", &a, 1, NULL);
    return vm_expect_failure(sb, rc, err, kind);
}

Test(vm_lua, eval_joins_results_with_tabs_and_none_is_empty)
{
    cr_assert_str_eq(eval("return 1, nil, 'x', 2.5, 2^63, 10 // 3"),
                     "1\tnil\tx\t2.5\t9.2233720368548e+18\t3");
    cr_assert_str_eq(eval("x = 1"), "");
    cr_assert_str_eq(eval("return ('héllo'):upper(), #'é'"), "HéLLO\t2",
                     "UTF-8 bytes kept by upper");
}

Test(vm_lua, print_and_io_write_go_to_the_host)
{
    cr_assert_str_eq(eval("print('hi', 2, nil) io.write('a', 1, '\\n') io.write('partial')"), "");
    cr_assert_str_eq(cap.text, "hi\t2\tnil\na1\npartial");
}

Test(vm_lua, script_errors_are_guest_errors_with_the_message)
{
    glint_failure f = eval_fails("error('boom')", GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "(command line):1: boom"), "%s", f.message);
    f = eval_fails("return +", GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "unexpected symbol"), "%s", f.message);
    cr_assert_str_eq(eval("return 'still usable'"), "still usable");
}

Test(vm_lua, load_then_call_with_json)
{
    glint_value src = glint_string("function add(a, b) return a + b end\n"
                                   "function greet(t) return {hello = t.name, n = #t.list} end\n"
                                   "function fail() error('nope', 0) end\n"
                                   "count = 0 function bump() count = count + 1 return count end");
    cr_assert_eq(glint_sandbox_call(sb, "Load", &src, 1, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(call("add", "[1, 2.5]"), "3.5");
    /* A JSON object's members are unordered (cjson emits Lua's table order). */
    const char *obj = call("greet", "[{\"name\": \"ann\", \"list\": [1, 2, 3]}]");
    cr_assert(strcmp(obj, "{\"hello\":\"ann\",\"n\":3}") == 0 ||
                  strcmp(obj, "{\"n\":3,\"hello\":\"ann\"}") == 0,
              "greet returned %s", obj);
    cr_assert_str_eq(call("bump", "[]"), "1");
    cr_assert_str_eq(call("bump", "[]"), "2", "state kept between calls of one sandbox");
    glint_value a[2] = {glint_string("fail"), glint_string("[]")};
    int rc = glint_sandbox_call(sb, "Call", a, 2, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "nope"), "%s", f.message);
    a[0] = glint_string("add");
    a[1] = glint_string("[1, ");
    rc = glint_sandbox_call(sb, "Call", a, 2, NULL);
    f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "Expected"), "cjson's message for bad JSON: %s", f.message);
    a[0] = glint_string("missing");
    a[1] = glint_string("[]");
    rc = glint_sandbox_call(sb, "Call", a, 2, NULL);
    f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "no global function 'missing'"), "%s", f.message);
    /* A pristine sandbox of the image has no loaded script. */
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(eval("return type(add), count"), "nil\tnil");
}

Test(vm_lua, files_processes_and_modules_fail_cleanly)
{
    cr_assert_str_eq(eval("return io.open, io.read, io.lines, os.execute, os.getenv, os.remove, "
                          "os.exit, package"),
                     "nil\tnil\tnil\tnil\tnil\tnil\tnil\tnil");
    cr_assert_str_eq(eval("return pcall(dofile, 'x.lua')"),
                     "false\tdofile: files and modules cannot be loaded in a glint guest");
    cr_assert_str_eq(eval("return pcall(require, 'socket')"),
                     "false\trequire: files and modules cannot be loaded in a glint guest");
    cr_assert_str_eq(
        eval("return os.time(), os.clock(), os.date('!%Y-%m-%d %H:%M:%S', 86400 * 365)"),
        "0\t0.0\t1971-01-01 00:00:00");
}

Test(vm_lua, out_of_memory_is_a_script_error_and_restore_is_pristine)
{
    teardown();
    open_lua(1u << 20, 2000);
    glint_failure f = eval_fails("t = {} for i = 1, 1e7 do t[i] = ('x'):rep(64) .. i end",
                                 GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "not enough memory"), "%s", f.message);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(eval("return t, collectgarbage('count') < 100"), "nil\ttrue");
}

Test(vm_lua, timeout_inside_the_interpreter_and_restore_is_pristine)
{
    glint_sandbox_set_timeout(sb, 100);
    eval_fails("x = 1 while true do end", GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    glint_sandbox_set_timeout(sb, 2000);
    cr_assert_str_eq(eval("return x"), "nil");
}
