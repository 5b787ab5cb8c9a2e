/* VM tests: build/guests/js.elf (Debian's libmujs.a on libglint-rt): Eval, print capture,
 * Load + Call with JSON, clean failures for files, memory, depth and time, pristine restores. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "glint.h"
#include "helpers.h"

static struct vm_capture cap;
static glint_host_fns *fns;
static glint_image *img;
static glint_sandbox *sb;

/* MuJS needs ~150 KiB of heap to initialise; 512 KiB of stack lets every MuJS depth limit (parser,
 * call stack, regexec) be reached before the guard page (docs/runtimes.md). */
static void open_js(uint64_t heap, uint64_t stack)
{
    vm_require_kvm();
    vm_capture_init(&cap);
    fns = vm_host_fns(&cap);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = heap;
    cfg.stack_size = stack;
    cfg.input_size = 256 * 1024;
    cfg.timeout_ms = 2000;
    img = vm_load_example("js", &cfg, fns);
    sb = vm_sandbox(img, NULL);
}

static void setup(void)
{
    open_js(16u << 20, 512 * 1024);
}

static void teardown(void)
{
    vm_close(&img, &sb);
    glint_host_fns_destroy(fns);
    fns = NULL;
}

TestSuite(vm_js, .init = setup, .fini = teardown, .timeout = 60);

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

static glint_failure call_fails(const char *fn, const char *json)
{
    glint_value a[2] = {glint_string(fn), glint_string(json)};
    int rc = glint_sandbox_call(sb, "Call", a, 2, NULL);
    return vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
}

Test(vm_js, eval_returns_the_completion_value_as_a_string)
{
    cr_assert_str_eq(eval("1 + 1"), "2");
    cr_assert_str_eq(eval("var x = 1"), "", "undefined is the empty string");
    cr_assert_str_eq(eval("[1, 'a', null, {}]"), "1,a,,[object Object]");
    /* MuJS's own shortest-digits formatting (native mujs prints the same; V8 would print ...04). */
    cr_assert_str_eq(eval("0.1 + 0.2"), "0.30000000000000007");
    cr_assert_str_eq(eval("'héllo'.toUpperCase() + 'é'.length"), "HÉLLO1");
    cr_assert_str_eq(eval("null"), "null");
}

Test(vm_js, print_write_and_console_log_go_to_the_host)
{
    cr_assert_str_eq(eval("print('hi', 2, null, undefined); console.log('a', [1, 2]);"
                          "write('no', 'newline')"),
                     "");
    cr_assert_str_eq(cap.text, "hi 2 null undefined\na 1,2\nno newline");
}

Test(vm_js, script_errors_are_guest_errors_with_the_message)
{
    glint_failure f = eval_fails("throw new Error('boom')", GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "Error: boom"), "%s", f.message);
    cr_assert(vm_contains(f.message, "at eval:1"), "stack trace as the native shell: %s",
              f.message);
    f = eval_fails("var a = ;", GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "SyntaxError: eval:1: unexpected token"), "%s", f.message);
    f = eval_fails("({toString: function() { throw 'no string' }})", GLINT_EGUEST,
                   GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "no string"), "%s", f.message);
    cr_assert_str_eq(eval("'still usable'"), "still usable");
}

Test(vm_js, load_then_call_with_json)
{
    glint_value src =
        glint_string("function add(a, b) { return a + b }\n"
                     "function greet(t) { return {hello: t.name, n: t.list.length} }\n"
                     "function fail() { throw new TypeError('nope') }\n"
                     "function none() {}\n"
                     "var count = 0; function bump() { return ++count }");
    cr_assert_eq(glint_sandbox_call(sb, "Load", &src, 1, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(call("add", "[1, 2.5]"), "3.5");
    cr_assert_str_eq(call("add", "[\"a\", [1]]"), "\"a1\"");
    cr_assert_str_eq(call("greet", "[{\"name\": \"ann\", \"list\": [1, 2, 3]}]"),
                     "{\"hello\":\"ann\",\"n\":3}", "MuJS keeps insertion order");
    cr_assert_str_eq(call("none", "[]"), "null");
    cr_assert_str_eq(call("bump", "[]"), "1");
    cr_assert_str_eq(call("bump", "[]"), "2", "state kept between calls of one sandbox");
    glint_failure f = call_fails("fail", "[]");
    cr_assert(vm_contains(f.message, "TypeError: nope"), "%s", f.message);
    f = call_fails("add", "[1, ");
    cr_assert(vm_contains(f.message, "SyntaxError: JSON"), "JSON.parse's message: %s", f.message);
    f = call_fails("add", "{\"a\": 1}");
    cr_assert(vm_contains(f.message, "must be a JSON array"), "%s", f.message);
    f = call_fails("missing", "[]");
    cr_assert(vm_contains(f.message, "no global function 'missing'"), "%s", f.message);
    f = call_fails("count", "[]");
    cr_assert(vm_contains(f.message, "no global function 'count'"), "%s", f.message);
    glint_value bad = glint_string("function (");
    int rc = glint_sandbox_call(sb, "Load", &bad, 1, NULL);
    f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "SyntaxError: load:1"), "%s", f.message);
    /* A pristine sandbox of the image has no loaded script. */
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(eval("typeof add + ' ' + typeof count"), "undefined undefined");
}

Test(vm_js, files_processes_and_clock_fail_cleanly)
{
    const char *f = eval("var r = []; ['read', 'readline', 'load', 'require', 'quit'].forEach("
                         "function (n) { try { this[n]('x') } catch (e) { r.push(e.message) } });"
                         "r.join('|')");
    cr_assert_str_eq(f, "read: files and modules cannot be loaded in a glint guest|"
                        "readline: files and modules cannot be loaded in a glint guest|"
                        "load: files and modules cannot be loaded in a glint guest|"
                        "require: files and modules cannot be loaded in a glint guest|"
                        "quit: a guest cannot exit");
    cr_assert_str_eq(eval("typeof process + typeof os + typeof File + typeof XMLHttpRequest"),
                     "undefinedundefinedundefinedundefined");
    cr_assert_str_eq(eval("Date.now() + ' ' + new Date().toISOString() + ' ' +"
                          "new Date(2024, 1, 29, 12).getTimezoneOffset()"),
                     "0 1970-01-01T00:00:00.000Z 0", "no clock, UTC");
}

Test(vm_js, out_of_memory_is_a_clean_error_and_restore_is_pristine)
{
    teardown();
    open_js(1u << 20, 512 * 1024);
    glint_failure f = eval_fails("var t = []; for (var i = 0; i < 1e7; i++) t.push('x' + i)",
                                 GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "out of memory"), "%s", f.message);
    cr_assert_str_eq(eval("try { var s = 'x'; while (true) s += s } catch (e) { String(e) }"),
                     "out of memory", "catchable by the script");
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(eval("typeof t"), "undefined");
}

Test(vm_js, initialisation_needs_more_than_128k_of_heap)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 128 * 1024;
    cfg.stack_size = 512 * 1024;
    glint_image *small = NULL;
    char path[4096];
    vm_example_guest_path(path, sizeof path, "js");
    int rc = glint_image_load_file(path, &cfg, fns, &small);
    cr_assert_neq(rc, 0, "MuJS does not fit a 128 KiB heap");
    cr_assert(vm_contains(glint_errmsg(), "not enough memory"), "%s", glint_errmsg());
}

Test(vm_js, deep_nesting_is_a_clean_error_and_deeper_c_recursion_a_contained_fault)
{
    /* JS recursion: MuJS's own stack limit. */
    glint_failure f = eval_fails("function f(n) { return n ? f(n - 1) + 1 : 0 } f(100000)",
                                 GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "stack overflow"), "%s", f.message);
    /* Parser nesting: MuJS's AST depth limit, reached before the guard page at 512 KiB. */
    char src[4096];
    memset(src, '[', 1000);
    memset(src + 1000, ']', 1000);
    src[2000] = 0;
    f = eval_fails(src, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "too much recursion"), "%s", f.message);
    /* The regexp matcher's recursion limit. */
    f = eval_fails("/(a|b)*c/.test(Array(100001).join('ab') + 'c')", GLINT_EGUEST,
                   GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "regexec failed"), "%s", f.message);
    cr_assert_str_eq(eval("'after'"), "after");
    /* With a 64 KiB stack the parser overflows first: a contained fault, then a restore. */
    teardown();
    open_js(16u << 20, 64 * 1024);
    eval_fails(src, GLINT_EFAULT, GLINT_FAIL_FAULT);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(eval("'restored'"), "restored");
}

Test(vm_js, timeout_inside_the_interpreter_and_restore_is_pristine)
{
    glint_sandbox_set_timeout(sb, 100);
    eval_fails("var x = 1; while (true) {}", GLINT_ETIMEDOUT, GLINT_FAIL_TIMEOUT);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    glint_sandbox_set_timeout(sb, 2000);
    cr_assert_str_eq(eval("typeof x"), "undefined");
}

static void *interrupt_after_100ms(void *arg)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
    nanosleep(&ts, NULL);
    glint_sandbox_interrupt(arg);
    return NULL;
}

/* glint_sandbox_interrupt from another thread stops an endless script; restore is pristine. */
Test(vm_js, interrupt_inside_the_interpreter_and_restore_is_pristine)
{
    glint_sandbox_set_timeout(sb, 5000);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, interrupt_after_100ms, sb), 0);
    double t0 = vm_now_ms();
    eval_fails("var z = 1; for (;;) {}", GLINT_EINTR, GLINT_FAIL_INTERRUPTED);
    cr_assert_lt(vm_now_ms() - t0, 3000, "stopped by the interrupt, not the 5 s timeout");
    pthread_join(t, NULL);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_str_eq(eval("typeof z"), "undefined");
    cr_assert_str_eq(eval("6 * 7"), "42");
}
