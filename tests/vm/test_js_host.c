/* VM tests: JavaScript scripts call host functions through glint.call with the typed checks of C
 * guests; unknown, mistyped, out-of-range and failing calls are JS errors in a usable sandbox. */
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
    script_host_open(&h, "js");
}

static void teardown(void)
{
    script_host_close(&h);
}

TestSuite(vm_js_host, .init = setup, .fini = teardown, .timeout = 60);

static const char *eval(const char *src)
{
    glint_value a = glint_string(src);
    glint_value r = vm_call_ok(h.sb, "Eval", &a, 1);
    return r.as.str.ptr;
}

/* Eval src, expect an uncaught JS error whose message contains want; the sandbox stays usable
 * and no host function of ours ran. */
static void eval_fails(const char *src, const char *want)
{
    int before = h.calls;
    glint_value a = glint_string(src);
    int rc = glint_sandbox_call(h.sb, "Eval", &a, 1, NULL);
    glint_failure f = vm_expect_failure(h.sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, want), "%s: message '%s' lacks '%s'", src, f.message, want);
    cr_assert_eq(h.calls, before, "%s: a host function ran on a refused call", src);
    cr_assert_str_eq(eval("glint.call('Add', 1, 2)"), "3", "sandbox usable after %s", src);
    h.calls = before;
}

Test(vm_js_host, allowed_calls_return_the_right_values)
{
    cr_assert_str_eq(eval("[glint.call('Add', 40, 2), typeof glint.call('Add', -5, 2)]"),
                     "42,number");
    cr_assert_str_eq(eval("[glint.call('Add', 2147483647, 0), glint.call('Add', 3.0, -4)]"),
                     "2147483647,-1", "integer-valued numbers are accepted for i32");
    cr_assert_str_eq(eval("glint.call('Concat', 'h\u00e9llo ', 'w\u00f6rld \xf0\x9f\x98\x80')"),
                     "h\u00e9llo w\u00f6rld \xf0\x9f\x98\x80");
    cr_assert_str_eq(eval("var r = glint.call('Reverse', 'a\\0b\\xff'); "
                          "[r.length, r.charCodeAt(0), r.charCodeAt(1), r.charCodeAt(2), "
                          "r.charCodeAt(3)]"),
                     "4,255,98,0,97", "bytes are binary strings, NUL and 0xFF kept both ways");
    cr_assert_str_eq(eval("[glint.call('Half', 5), glint.call('Half', 1.5)]"), "2.5,0.75");
    cr_assert_str_eq(eval("[glint.call('Not', true), glint.call('Not', false)]"), "false,true");
    cr_assert_str_eq(eval("String(glint.call('Note', 'remember me'))"), "undefined",
                     "void returns undefined");
    cr_assert_str_eq(h.noted, "remember me");
    cr_assert_str_eq(eval("glint.call('Unsigned', 1e15, 4294967295)"), "1000004294967295");
    cr_assert_str_eq(eval("glint.call('Unsigned', Math.pow(2, 63), 0) === Math.pow(2, 63)"), "true",
                     "a u64 beyond 2^53 comes back as the nearest number");
    cr_assert_str_eq(eval("print('before'); glint.call('print', 'via glint.call\\n'); "
                          "print('after')"),
                     "");
    cr_assert_str_eq(h.cap.text, "before\nvia glint.call\nafter\n", "output stays in order");
    cr_assert_str_eq(eval("var s = 0; for (var i = 1; i <= 1000; i++) s = glint.call('Add', s, i); "
                          "s"),
                     "500500");
}

Test(vm_js_host, signature_text)
{
    cr_assert_str_eq(eval("[glint.signature('Add'), glint.signature('Note'), "
                          "glint.signature('Unsigned'), glint.signature('print')].join(' ')"),
                     "i32(i32,i32) void(string) u64(u64,u32) void(string)");
    cr_assert_str_eq(eval("String(glint.signature('Missing'))"), "null");
}

Test(vm_js_host, unknown_function_is_an_error)
{
    eval_fails("glint.call('Missing', 1)",
               "Error: glint.call: no host function 'Missing' is registered for this sandbox");
    eval_fails("glint.call('bad name!')", "Error: glint.call: invalid host function name");
    eval_fails("glint.call()",
               "TypeError: glint.call: the function name must be a string, got undefined");
    eval_fails("glint.call(7)", "TypeError: glint.call: the function name must be a string, got "
                                "number");
}

Test(vm_js_host, wrong_count_is_a_type_error)
{
    eval_fails("glint.call('Add', 1)",
               "TypeError: glint.call: Add expects 2 arguments (i32(i32,i32)), got 1");
    eval_fails("glint.call('Add', 1, 2, 3)",
               "TypeError: glint.call: Add expects 2 arguments (i32(i32,i32)), got 3");
}

Test(vm_js_host, wrong_type_is_a_type_error_naming_the_argument)
{
    eval_fails("glint.call('Add', 1, 'x')",
               "TypeError: glint.call: bad argument #3 (Add expects i32, got string)");
    eval_fails("glint.call('Add', '1', 2)",
               "TypeError: glint.call: bad argument #2 (Add expects i32, got string)");
    eval_fails("glint.call('Add', 1.5, 2)",
               "TypeError: glint.call: bad argument #2 (Add expects i32, got non-integer 1.5)");
    eval_fails("glint.call('Concat', 'a', 1)",
               "bad argument #3 (Concat expects string, got number)");
    eval_fails("glint.call('Concat', 'a', 'b\\0c')",
               "(Concat expects string, got bytes that are not UTF-8 text without NUL)");
    eval_fails("glint.call('Concat', 'a', '\\ud800')", "not UTF-8 text without NUL");
    eval_fails("glint.call('Not', null)", "bad argument #2 (Not expects bool, got null)");
    eval_fails("glint.call('Not', undefined)", "(Not expects bool, got undefined)");
    eval_fails("glint.call('Not', 0)", "(Not expects bool, got number)");
    eval_fails("glint.call('Half', {})", "(Half expects f64, got object)");
    eval_fails("glint.call('Reverse', true)", "(Reverse expects bytes, got boolean)");
    eval_fails("glint.call('Reverse', '\\u0100')",
               "(Reverse expects bytes, got a character beyond U+00FF)");
}

Test(vm_js_host, out_of_range_integer_is_a_range_error)
{
    eval_fails("glint.call('Add', 2147483648, 0)",
               "RangeError: glint.call: bad argument #2 (Add expects i32, 2147483648 is out of "
               "range)");
    eval_fails("glint.call('Add', 0, -2147483649)",
               "(Add expects i32, -2147483649 is out of range)");
    eval_fails("glint.call('Add', 0, 1e10)", "(Add expects i32, 10000000000 is out of range)");
    eval_fails("glint.call('Unsigned', -1, 0)", "(Unsigned expects u64, -1 is out of range)");
    eval_fails("glint.call('Unsigned', 0, 4294967296)",
               "RangeError: glint.call: bad argument #3 (Unsigned expects u32, 4294967296 is out "
               "of range)");
    eval_fails("glint.call('Unsigned', Math.pow(2, 64), 0)",
               "(Unsigned expects u64, 1.84467e+19 is out of range)");
    eval_fails("glint.call('Add', NaN, 0)", "(Add expects i32, ");
    eval_fails("glint.call('Add', Infinity, 0)", "(Add expects i32, inf is out of range)");
}

Test(vm_js_host, host_function_error_is_an_error)
{
    glint_value a = glint_string("glint.call('Fail', 1)");
    int rc = glint_sandbox_call(h.sb, "Eval", &a, 1, NULL);
    glint_failure f = vm_expect_failure(h.sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "Error: glint.call: host function 'Fail' failed with code -7"),
              "%s", f.message);
    cr_assert_eq(h.calls, 1);
    cr_assert_str_eq(eval("try { glint.call('Fail', 1) } catch (e) { "
                          "[e instanceof Error, e.message].join(' ') }"),
                     "true glint.call: host function 'Fail' failed with code -7",
                     "catchable with try");
    cr_assert_str_eq(eval("glint.call('Add', 1, 1)"), "2", "sandbox still usable");
}

Test(vm_js_host, a_sandbox_registry_decides_what_scripts_may_call)
{
    glint_host_fns *other;
    cr_assert_eq(glint_host_fns_create(&other), 0, "%s", glint_errmsg());
    glint_sandbox *sb2 = vm_sandbox(h.img, other);
    glint_value a = glint_string("glint.call('Add', 1, 2)");
    int rc = glint_sandbox_call(sb2, "Eval", &a, 1, NULL);
    glint_failure f = vm_expect_failure(sb2, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "no host function 'Add' is registered for this sandbox"), "%s",
              f.message);
    cr_assert_eq(h.calls, 0);
    glint_sandbox_destroy(sb2);
    glint_host_fns_destroy(other);
}
