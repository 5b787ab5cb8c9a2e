/* Test guest: glint.signature from C: the raw text, the strict parser, and a call typed by it. */
#include <glint/guest.h>
#include <stdio.h>
#include <string.h>

/* Sig(name) -> string: glint.signature's reply, or the host's error as the call's error. */
static int Sig(const glint_guest_val *a, glint_guest_val *r)
{
    glint_guest_val arg = glint_guest_val_string(a[0].str);
    if (glint_guest_host_call("glint.signature", GLINT_GUEST_STRING, r, 1, &arg) != 0)
        return glint_guest_error(1, "%s", glint_guest_host_error_message());
    return 0;
}
GLINT_GUEST_EXPORT(Sig, GLINT_GUEST_STRING, GLINT_GUEST_STRING);

/* Parse(text) -> string: "ret;param,param" in type names, or "malformed". */
static int Parse(const glint_guest_val *a, glint_guest_val *r)
{
    static char out[256];
    glint_guest_host_sig s;
    if (glint_guest_host_sig_parse(a[0].str, a[0].len, &s) != 0) {
        *r = glint_guest_val_string("malformed");
        return 0;
    }
    int k = snprintf(out, sizeof out, "%s;", glint_guest_type_name(s.ret));
    for (unsigned i = 0; i < s.nparams; i++)
        k += snprintf(out + k, sizeof out - (size_t)k, "%s%s", i ? "," : "",
                      glint_guest_type_name(s.params[i]));
    *r = glint_guest_val_string(out);
    return 0;
}
GLINT_GUEST_EXPORT(Parse, GLINT_GUEST_STRING, GLINT_GUEST_STRING);

/* Typed(name, a, b) -> i64: calls a two-parameter host function with a and b converted to its
 * declared parameter types (as a script runtime does); the result must be an i64. */
static int Typed(const glint_guest_val *a, glint_guest_val *r)
{
    glint_guest_host_sig s;
    if (glint_guest_host_signature(a[0].str, &s) != 0)
        return glint_guest_error(1, "%s", glint_guest_host_error_message());
    if (s.nparams != 2 || s.ret != GLINT_GUEST_I64)
        return glint_guest_error(2, "%s is %s, not ?(?,?) -> i64", a[0].str, s.text);
    glint_guest_val args[2];
    for (int i = 0; i < 2; i++) {
        glint_guest_script_val v = {.kind = GLINT_GUEST_SCRIPT_INT, .i = a[i + 1].i64};
        char why[128];
        if (glint_guest_host_convert(s.params[i], &v, &args[i], why, sizeof why) != 0)
            return glint_guest_error(3, "argument %d: %s %s", i + 1, a[0].str, why);
    }
    if (glint_guest_host_call(a[0].str, s.ret, r, 2, args) != 0)
        return glint_guest_error(4, "%s", glint_guest_host_error_message());
    return 0;
}
GLINT_GUEST_EXPORT(Typed, GLINT_GUEST_I64, GLINT_GUEST_STRING, GLINT_GUEST_I64, GLINT_GUEST_I64);
