/* VM tests: the built-in glint.signature from a C guest (text form, unknown names, the guest's
 * strict parser, a call typed by it) and the reserved names applications cannot register. */
#include <criterion/criterion.h>
#include <string.h>

#include "glint.h"
#include "helpers.h"

static glint_host_fns *fns;
static glint_image *img;
static glint_sandbox *sb;

static int h_mixed(void *u, const glint_value *a, size_t n, glint_value *r)
{
    (void)u, (void)a, (void)n, (void)r;
    return 0;
}

static int h_i32sum(void *u, const glint_value *a, size_t n, glint_value *r)
{
    (void)u, (void)n;
    r->as.i64 = (int64_t)a[0].as.i32 + a[1].as.u32;
    return 0;
}

static void setup(void)
{
    vm_require_kvm();
    fns = vm_host_fns(NULL);
    glint_type mixed[] = {GLINT_I32, GLINT_U32,  GLINT_I64,    GLINT_U64,  GLINT_F32,
                          GLINT_F64, GLINT_BOOL, GLINT_STRING, GLINT_BYTES};
    cr_assert_eq(glint_host_fns_add(fns, "ns.Mixed", GLINT_BYTES, mixed, 9, h_mixed, NULL), 0, "%s",
                 glint_errmsg());
    cr_assert_eq(glint_host_fns_add(fns, "None", GLINT_VOID, NULL, 0, h_mixed, NULL), 0, "%s",
                 glint_errmsg());
    cr_assert_eq(glint_host_fns_add(fns, "Narrow", GLINT_I64, (glint_type[]){GLINT_I32, GLINT_U32},
                                    2, h_i32sum, NULL),
                 0, "%s", glint_errmsg());
    vm_open("hostsig", NULL, fns, &img, &sb);
}

static void teardown(void)
{
    vm_close(&img, &sb);
    glint_host_fns_destroy(fns);
    fns = NULL;
}

TestSuite(vm_host_signature, .init = setup, .fini = teardown, .timeout = 60);

static const char *str_call(const char *fn, const char *arg)
{
    glint_value a = glint_string(arg);
    glint_value r = vm_call_ok(sb, fn, &a, 1);
    return r.as.str.ptr;
}

Test(vm_host_signature, text_form_of_registered_functions)
{
    cr_assert_str_eq(str_call("Sig", "HostAdd"), "i64(i64,i64)");
    cr_assert_str_eq(str_call("Sig", "HostUpper"), "string(string)");
    cr_assert_str_eq(str_call("Sig", "ns.Mixed"),
                     "bytes(i32,u32,i64,u64,f32,f64,bool,string,bytes)");
    cr_assert_str_eq(str_call("Sig", "None"), "void()");
    cr_assert_str_eq(str_call("Sig", "print"), "void(string)");
    cr_assert_str_eq(str_call("Sig", "glint.signature"), "string(string)");
}

Test(vm_host_signature, unknown_name_is_an_error_reply)
{
    glint_value a = glint_string("Nope");
    int rc = glint_sandbox_call(sb, "Sig", &a, 1, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "no host function 'Nope' is registered for this sandbox"),
              "%s", f.message);
    a = glint_string("not a name!");
    rc = glint_sandbox_call(sb, "Sig", &a, 1, NULL);
    f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "is registered for this sandbox"), "%s", f.message);
    cr_assert_str_eq(str_call("Sig", "HostAdd"), "i64(i64,i64)", "sandbox still usable");
}

Test(vm_host_signature, a_sandbox_registry_answers_for_itself)
{
    glint_host_fns *other;
    cr_assert_eq(glint_host_fns_create(&other), 0, "%s", glint_errmsg());
    glint_sandbox *sb2 = vm_sandbox(img, other);
    glint_value a = glint_string("HostAdd");
    int rc = glint_sandbox_call(sb2, "Sig", &a, 1, NULL);
    vm_expect_failure(sb2, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    glint_sandbox_destroy(sb2);
    glint_host_fns_destroy(other);
}

Test(vm_host_signature, guest_parser_is_strict)
{
    cr_assert_str_eq(str_call("Parse", "i64(i32,string)"), "i64;i32,string");
    cr_assert_str_eq(str_call("Parse", "void()"), "void;");
    cr_assert_str_eq(str_call("Parse", "bytes(i32,u32,i64,u64,f32,f64,bool,string,bytes)"),
                     "bytes;i32,u32,i64,u64,f32,f64,bool,string,bytes");
    const char *bad[] = {"",          "i64",           "i64(",        "i64(i32",      "i64(i32,)",
                         "i64(,i32)", "i64(void)",     "i65(i32)",    "i64(i32) ",    "i64 (i32)",
                         "i64(i32)x", "i64(i32,,i32)", "i64(i3)",     "i64(i322)",    "(i32)",
                         "i64)(",     "stringx()",     "i64(bytes2)", "i64(i32)(i32)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_str_eq(str_call("Parse", bad[i]), "malformed", "accepted '%s'", bad[i]);
    char many[256] = "i32(";
    for (int i = 0; i < 17; i++)
        strcat(many, i ? ",i32" : "i32");
    strcat(many, ")");
    cr_assert_str_eq(str_call("Parse", many), "malformed", "17 parameters accepted");
}

Test(vm_host_signature, calls_typed_by_the_signature)
{
    glint_value a[3] = {glint_string("HostAdd"), glint_i64(40), glint_i64(2)};
    glint_value r = vm_call_ok(sb, "Typed", a, 3);
    cr_assert_eq(r.as.i64, 42);
    a[0] = glint_string("Narrow");
    a[1] = glint_i64(-5);
    a[2] = glint_i64(4294967295);
    r = vm_call_ok(sb, "Typed", a, 3);
    cr_assert_eq(r.as.i64, 4294967290);
    a[2] = glint_i64(-1);
    int rc = glint_sandbox_call(sb, "Typed", a, 3, NULL);
    glint_failure f = vm_expect_failure(sb, rc, GLINT_EGUEST, GLINT_FAIL_GUEST_ERROR);
    cr_assert(vm_contains(f.message, "argument 2: Narrow expects u32, -1 is out of range"), "%s",
              f.message);
}

Test(vm_host_signature, reserved_names_cannot_be_registered)
{
    glint_type s[] = {GLINT_STRING};
    const char *names[] = {"print", "glint.signature", "glint.call", "glint.x"};
    const int codes[] = {GLINT_EEXIST, GLINT_EEXIST, GLINT_EINVAL, GLINT_EINVAL};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        cr_assert_eq(glint_host_fns_add(fns, names[i], GLINT_STRING, s, 1, h_mixed, NULL), codes[i],
                     "reserved '%s'", names[i]);
        cr_assert(vm_contains(glint_errmsg(), "reserved"), "%s", glint_errmsg());
    }
    cr_assert_eq(glint_host_fns_add(fns, "glintx.ok", GLINT_VOID, NULL, 0, h_mixed, NULL), 0, "%s",
                 glint_errmsg());
    cr_assert_eq(glint_host_fns_add(fns, "myglint.signature", GLINT_VOID, NULL, 0, h_mixed, NULL),
                 0, "%s", glint_errmsg());
}
