/* Human-readable names for types, failure kinds and x86 exception vectors. */
#include <string.h>

#include "glint.h"

const char *glint_type_name(glint_type t)
{
    static const char *const names[] = {"void", "i32", "u32",  "i64",    "u64",
                                        "f32",  "f64", "bool", "string", "bytes"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

const char *glint_failure_kind_name(glint_failure_kind k)
{
    static const char *const names[] = {
        [GLINT_FAIL_NONE] = "none",
        [GLINT_FAIL_USAGE] = "usage",
        [GLINT_FAIL_GUEST_ERROR] = "guest error",
        [GLINT_FAIL_ABORT] = "abort",
        [GLINT_FAIL_FAULT] = "fault",
        [GLINT_FAIL_TRIPLE_FAULT] = "triple fault",
        [GLINT_FAIL_TIMEOUT] = "timeout",
        [GLINT_FAIL_PROTOCOL] = "protocol violation",
        [GLINT_FAIL_HYPERVISOR] = "hypervisor error",
        [GLINT_FAIL_INTERRUPTED] = "interrupted",
        [GLINT_FAIL_BUDGET] = "budget",
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

const char *glint_vector_name(uint32_t v)
{
    static const char *const names[] = {
        "#DE divide error",
        "#DB debug",
        "NMI",
        "#BP breakpoint",
        "#OF overflow",
        "#BR bound range",
        "#UD invalid opcode",
        "#NM no FPU",
        "#DF double fault",
        "coprocessor overrun",
        "#TS invalid TSS",
        "#NP segment not present",
        "#SS stack fault",
        "#GP general protection",
        "#PF page fault",
        "reserved",
        "#MF x87 error",
        "#AC alignment check",
        "#MC machine check",
        "#XM SIMD error",
        "#VE virtualization",
        "#CP control protection",
    };
    return v < sizeof names / sizeof names[0] ? names[v] : "interrupt";
}

glint_value glint_string(const char *s)
{
    return glint_string_n(s, s ? strlen(s) : 0);
}
