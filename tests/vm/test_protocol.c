/* VM tests: guests that break the call protocol are reported as EPROTO and cannot hurt the host. */
#include <criterion/criterion.h>

#include <string.h>

#include "helpers.h"

static glint_image *img;
static glint_sandbox *sb;

static void setup(void)
{
    vm_open("badproto", NULL, NULL, &img, &sb);
}

static void teardown(void)
{
    vm_close(&img, &sb);
}

TestSuite(vm_protocol, .init = setup, .fini = teardown, .timeout = 60);

/* Call fn; expect `err` of `kind`, a poisoned sandbox, EPOISONED next, and a working fresh one. */
static glint_failure expect_broken(const char *fn, int err, glint_failure_kind kind,
                                   const char *words)
{
    glint_value r;
    memset(&r, 0, sizeof r);
    int rc = glint_sandbox_call(sb, fn, NULL, 0, &r);
    glint_failure f = vm_expect_failure(sb, rc, err, kind);
    cr_assert(vm_contains(f.message, words), "%s: '%s' lacks '%s'", fn, f.message, words);
    cr_assert(glint_sandbox_poisoned(sb), "%s did not poison the sandbox", fn);
    cr_assert_eq(glint_sandbox_call(sb, "Ok", NULL, 0, &r), GLINT_EPOISONED);
    glint_sandbox *fresh = vm_sandbox(img, NULL);
    cr_assert_eq(glint_sandbox_call(fresh, "Ok", NULL, 0, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.i32, 42);
    glint_sandbox_destroy(fresh);
    return f;
}

Test(vm_protocol, garbage_result)
{
    expect_broken("GarbageResult", GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "malformed call result");
}

Test(vm_protocol, huge_size_result)
{
    expect_broken("HugeSizeResult", GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "exceeds the buffer");
}

Test(vm_protocol, wrong_type_result)
{
    expect_broken("WrongTypeResult", GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "return type");
}

Test(vm_protocol, error_without_message)
{
    expect_broken("ErrorWithoutMessage", GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "message");
}

Test(vm_protocol, host_call_message_on_done_port)
{
    expect_broken("HostCallOnDonePort", GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "kind 3");
}

Test(vm_protocol, garbage_host_call)
{
    expect_broken("GarbageHostCall", GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "host call");
}

Test(vm_protocol, result_message_on_host_call_port)
{
    expect_broken("ResultOnHostCallPort", GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "kind 2");
}

/* An abort exit is an abort whatever the buffer holds; the message says it was unreadable. */
Test(vm_protocol, garbage_abort)
{
    expect_broken("GarbageAbort", GLINT_EABORT, GLINT_FAIL_ABORT, "unreadable");
}

Test(vm_protocol, in_on_done_port)
{
    expect_broken("InOnDonePort", GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "in of size 1");
}

Test(vm_protocol, word_out_on_done_port)
{
    expect_broken("WordOutOnDonePort", GLINT_EPROTO, GLINT_FAIL_PROTOCOL, "size 2");
}

/* A 4-byte out at 0xe0 also touches port 0xe3 (the CPL0 fault port), which the I/O bitmap
 * denies: the CPU raises #GP before any exit. */
Test(vm_protocol, dword_out_on_done_port)
{
    glint_failure f = expect_broken("DwordOutOnDonePort", GLINT_EFAULT, GLINT_FAIL_FAULT, "#GP");
    cr_assert_eq(f.vector, 13);
}

/* Every breaker in a row, each in a fresh sandbox: the host process is unaffected. */
Test(vm_protocol, all_breakers_in_sequence)
{
    static const char *const fns[] = {
        "GarbageResult",      "HugeSizeResult",    "WrongTypeResult",      "ErrorWithoutMessage",
        "HostCallOnDonePort", "GarbageHostCall",   "ResultOnHostCallPort", "GarbageAbort",
        "InOnDonePort",       "WordOutOnDonePort", "DwordOutOnDonePort",
    };
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
            glint_sandbox *s = vm_sandbox(img, NULL);
            int rc = glint_sandbox_call(s, fns[i], NULL, 0, NULL);
            cr_assert(rc == GLINT_EPROTO || rc == GLINT_EABORT || rc == GLINT_EFAULT,
                      "%s returned %s", fns[i], glint_strerror(rc));
            cr_assert(glint_sandbox_poisoned(s));
            glint_sandbox_destroy(s);
        }
    }
    glint_value r;
    cr_assert_eq(glint_sandbox_call(sb, "Ok", NULL, 0, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.i32, 42);
}
