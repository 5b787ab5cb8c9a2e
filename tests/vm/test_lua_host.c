/* VM tests: Lua scripts call host functions through glint.call with the typed checks of C guests;
 * unknown, mistyped, out-of-range and failing calls are script errors in a usable sandbox. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glint.h"
#include "helpers.h"
#include "script_host.h"

static struct script_host h;

static void setup(void)
{
    script_host_open(&h, "lua");
}

static void teardown(void)
{
    script_host_close(&h);
}

TestSuite(vm_lua_host, .init = setup, .fini = teardown, .timeout = 60);

static const char *eval(const char *src)
{
    glint_value a = glint_string(src);
    glint_value r = vm_call_ok(h.sb, "Eval", &a, 1);
    return r.as.str.ptr;
}

/* Eval src, expect a script error whose message contains want; the sandbox stays usable and no
 * host function of ours ran. */
static void eval_fails(const char *src, const char *want)
{
    int before = h.calls;
    glint_value a = glint_string(src);
    int rc = glint_sandbox_call(h.sb, "Eval", &a, 1, NULL);
    glint_failure f = vm_expect_failure(h.sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, want), "%s: message '%s' lacks '%s'", src, f.message, want);
    cr_assert_eq(h.calls, before, "%s: a host function ran on a refused call", src);
    cr_assert_str_eq(eval("return glint.call('Add', 1, 2)"), "3", "sandbox usable after %s", src);
    h.calls = before;
}

Test(vm_lua_host, allowed_calls_return_the_right_values)
{
    cr_assert_str_eq(eval("return glint.call('Add', 40, 2), math.type(glint.call('Add', -5, 2))"),
                     "42\tinteger");
    cr_assert_str_eq(eval("return glint.call('Add', 2147483647, 0), glint.call('Add', 3.0, 4)"),
                     "2147483647\t7", "integer-valued floats are accepted for i32");
    cr_assert_str_eq(eval("return glint.call('Concat', 'héllo ', 'wörld')"), "héllo wörld");
    cr_assert_str_eq(eval("local r = glint.call('Reverse', 'a\\0b\\255') "
                          "return #r, r:byte(1), r:byte(2), r:byte(3), r:byte(4)"),
                     "4\t255\t98\t0\t97", "bytes keep NUL and non-UTF-8 bytes both ways");
    cr_assert_str_eq(eval("return glint.call('Half', 5), glint.call('Half', 1.5), "
                          "math.type(glint.call('Half', 4))"),
                     "2.5\t0.75\tfloat");
    cr_assert_str_eq(eval("return glint.call('Not', true), glint.call('Not', false)"),
                     "false\ttrue");
    cr_assert_str_eq(eval("return select('#', glint.call('Note', 'remember me'))"), "0",
                     "void returns nothing");
    cr_assert_str_eq(h.noted, "remember me");
    cr_assert_str_eq(eval("return glint.call('Unsigned', 9007199254740992.0, 4294967295)"),
                     "9007203549708287");
    cr_assert_str_eq(eval("return glint.call('Unsigned', 2^63, 0)"), "9.2233720368548e+18",
                     "a u64 beyond the Lua integers comes back as a float");
    cr_assert_str_eq(eval("print('before') glint.call('print', 'via glint.call\\n') "
                          "print('after')"),
                     "");
    cr_assert_str_eq(h.cap.text, "before\nvia glint.call\nafter\n", "output stays in order");
    cr_assert_str_eq(eval("local s = 0 for i = 1, 1000 do s = glint.call('Add', s, i) end "
                          "return s"),
                     "500500");
}

Test(vm_lua_host, signature_text)
{
    cr_assert_str_eq(eval("return glint.signature('Add'), glint.signature('Note'), "
                          "glint.signature('Unsigned'), glint.signature('print')"),
                     "i32(i32,i32)\tvoid(string)\tu64(u64,u32)\tvoid(string)");
    cr_assert_str_eq(eval("return glint.signature('Missing')"),
                     "nil\tno host function 'Missing' is registered for this sandbox");
}

Test(vm_lua_host, unknown_function_is_a_script_error)
{
    eval_fails("glint.call('Missing', 1)",
               "glint.call: no host function 'Missing' is registered for this sandbox");
    eval_fails("glint.call('bad name!')", "glint.call: invalid host function name");
    eval_fails("glint.call()", "bad argument #1 to 'call' (string expected, got no value)");
}

Test(vm_lua_host, wrong_count_is_a_script_error)
{
    eval_fails("glint.call('Add', 1)", "glint.call: Add expects 2 arguments (i32(i32,i32)), got 1");
    eval_fails("glint.call('Add', 1, 2, 3)",
               "glint.call: Add expects 2 arguments (i32(i32,i32)), got 3");
}

Test(vm_lua_host, wrong_type_is_a_script_error_naming_the_argument)
{
    eval_fails("glint.call('Add', 1, 'x')",
               "bad argument #3 to 'glint.call' (Add expects i32, got string)");
    eval_fails("glint.call('Add', '1', 2)",
               "bad argument #2 to 'glint.call' (Add expects i32, got string)");
    eval_fails("glint.call('Add', 1.5, 2)",
               "bad argument #2 to 'glint.call' (Add expects i32, got non-integer 1.5)");
    eval_fails("glint.call('Concat', 'a', 1)",
               "bad argument #3 to 'glint.call' (Concat expects string, got number)");
    eval_fails("glint.call('Concat', 'a', 'b\\0c')",
               "(Concat expects string, got bytes that are not UTF-8 text without NUL)");
    eval_fails("glint.call('Concat', 'a', '\\255')", "not UTF-8 text without NUL");
    eval_fails("glint.call('Not', nil)",
               "bad argument #2 to 'glint.call' (Not expects bool, got nil)");
    eval_fails("glint.call('Not', 0)", "(Not expects bool, got number)");
    eval_fails("glint.call('Half', {})", "(Half expects f64, got table)");
    eval_fails("glint.call('Reverse', true)", "(Reverse expects bytes, got boolean)");
}

Test(vm_lua_host, out_of_range_integer_is_a_script_error)
{
    eval_fails("glint.call('Add', 2147483648, 0)",
               "bad argument #2 to 'glint.call' (Add expects i32, 2147483648 is out of range)");
    eval_fails("glint.call('Add', 0, -2147483649)",
               "(Add expects i32, -2147483649 is out of range)");
    eval_fails("glint.call('Add', 0, 1e10)", "(Add expects i32, 1e+10 is out of range)");
    eval_fails("glint.call('Unsigned', -1, 0)", "(Unsigned expects u64, -1 is out of range)");
    eval_fails(
        "glint.call('Unsigned', 0, 4294967296)",
        "bad argument #3 to 'glint.call' (Unsigned expects u32, 4294967296 is out of range)");
    eval_fails("glint.call('Unsigned', 2^64, 0)",
               "(Unsigned expects u64, 1.84467e+19 is out of range)");
    eval_fails("glint.call('Add', 0/0, 0)", "(Add expects i32, ");
}

Test(vm_lua_host, host_function_error_is_a_script_error)
{
    glint_value a = glint_string("return glint.call('Fail', 1)");
    int rc = glint_sandbox_call(h.sb, "Eval", &a, 1, NULL);
    glint_failure f = vm_expect_failure(h.sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "glint.call: host function 'Fail' failed with code -7"), "%s",
              f.message);
    cr_assert_eq(h.calls, 1);
    cr_assert_str_eq(eval("return pcall(glint.call, 'Fail', 1)"),
                     "false\tglint.call: host function 'Fail' failed with code -7",
                     "catchable with pcall");
    cr_assert_str_eq(eval("return glint.call('Add', 1, 1)"), "2", "sandbox still usable");
}

Test(vm_lua_host, a_sandbox_registry_decides_what_scripts_may_call)
{
    /* A sandbox created with a registry lacking Add: the script sees no Add, even though the
     * image's registry has it. */
    glint_host_fns *other;
    cr_assert_eq(glint_host_fns_create(&other), 0, "%s", glint_errmsg());
    glint_sandbox *sb2 = vm_sandbox(h.img, other);
    glint_value a = glint_string("return glint.call('Add', 1, 2)");
    int rc = glint_sandbox_call(sb2, "Eval", &a, 1, NULL);
    glint_failure f = vm_expect_failure(sb2, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "no host function 'Add' is registered for this sandbox"), "%s",
              f.message);
    cr_assert_eq(h.calls, 0);
    glint_sandbox_destroy(sb2);
    glint_host_fns_destroy(other);
}
