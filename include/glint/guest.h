/* glint guest API: export functions, call the host, print, abort (freestanding). */
#ifndef GLINT_GUEST_H
#define GLINT_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

/*
 * Names: every function and type here is glint_guest_*, every macro
 * GLINT_GUEST_* (the ABI's own names, glint_abi_* and GLINT_ABI_*, come from
 * abi.h). None is shared with the host API in <glint.h>, so a file may include
 * both headers, in either order. (They replace the earlier glint_val,
 * GLINT_I32, GLINT_EXPORT, glint_error, ...; the ABI bytes are unchanged: see
 * docs/abi.md.)
 */

/* Value types, as in the ABI. */
#define GLINT_GUEST_VOID   GLINT_ABI_VOID
#define GLINT_GUEST_I32    GLINT_ABI_I32
#define GLINT_GUEST_U32    GLINT_ABI_U32
#define GLINT_GUEST_I64    GLINT_ABI_I64
#define GLINT_GUEST_U64    GLINT_ABI_U64
#define GLINT_GUEST_F32    GLINT_ABI_F32
#define GLINT_GUEST_F64    GLINT_ABI_F64
#define GLINT_GUEST_BOOL   GLINT_ABI_BOOL
#define GLINT_GUEST_STRING GLINT_ABI_STRING
#define GLINT_GUEST_BYTES  GLINT_ABI_BYTES

/* Set on a returned string/bytes value: the runtime free()s it once sent. */
#define GLINT_GUEST_VAL_FREE 1u

typedef struct glint_guest_val {
    uint8_t type;  /* GLINT_GUEST_I32 ... */
    uint8_t flags; /* GLINT_GUEST_VAL_FREE or 0 */
    uint32_t len;  /* string/bytes length in bytes */
    union {
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        float f32;
        double f64;
        bool b;
        const char *str; /* NUL-terminated */
        const uint8_t *bytes;
    };
} glint_guest_val;

/*
 * An exported function. args[i] has exactly the declared type (string args
 * are NUL-terminated, in the input buffer, valid until the function returns).
 * ret->type is preset to the declared return type; set the value. A returned
 * string/bytes must outlive the function: static data, an argument, a host
 * call result, or heap memory (set GLINT_GUEST_VAL_FREE to have it freed).
 * Return 0, or the result of glint_guest_error() to fail the call.
 */
typedef int (*glint_guest_fn)(const glint_guest_val *args, glint_guest_val *ret);

/*
 * Export `fn` under its own name with a return type and parameter types:
 *   static int Add(const glint_guest_val *a, glint_guest_val *r)
 *   {
 *       r->i32 = a[0].i32 + a[1].i32;
 *       return 0;
 *   }
 *   GLINT_GUEST_EXPORT(Add, GLINT_GUEST_I32, GLINT_GUEST_I32, GLINT_GUEST_I32);
 * The table lives in the ELF (section .glint_exports), so the host lists the
 * functions without running the guest.
 */
#define GLINT_GUEST_EXPORT(func_, ret_, ...)                                                       \
    static const struct glint_abi_export glint_guest__export_##func_                               \
        __attribute__((used, section(".glint_exports"), aligned(8))) = {                           \
            .name = #func_,                                                                        \
            .fn = (uint64_t)(uintptr_t)(func_),                                                    \
            .ret_type = (ret_),                                                                    \
            .nparams = sizeof((uint8_t[]){0, ##__VA_ARGS__}) - 1,                                  \
            .params = {__VA_ARGS__},                                                               \
    }

/*
 * Optional, at most once per guest: the sizes it needs by default and what it
 * supports, in an ELF note the host reads before loading:
 *   GLINT_GUEST_DEFAULTS(.heap_size = 16 << 20, .stack_size = 256 << 10);
 * Fields are those of struct glint_abi_defaults (abi.h): heap_size,
 * stack_size, input_size, output_size (0 or a multiple of 4 KiB within the
 * ranges of glint.h: a bad value makes the host refuse the ELF), and flags
 * (GLINT_GUEST_BUDGET: the guest enforces glint_guest_budget_*). A size the
 * host's config sets wins; one it leaves 0 takes the guest's.
 */
#define GLINT_GUEST_BUDGET GLINT_ABI_DEFAULTS_BUDGET
#define GLINT_GUEST_DEFAULTS(...)                                                                  \
    static const struct __attribute__((packed)) {                                                  \
        uint32_t namesz, descsz, type;                                                             \
        char name[8];                                                                              \
        struct glint_abi_defaults desc;                                                            \
    } glint_guest__defaults __attribute__((used, section(".note.glint"), aligned(4))) = {          \
        .namesz = sizeof GLINT_ABI_NOTE_NAME,                                                      \
        .descsz = sizeof(struct glint_abi_defaults),                                               \
        .type = GLINT_ABI_NOTE_DEFAULTS_TYPE,                                                      \
        .name = GLINT_ABI_NOTE_NAME,                                                               \
        .desc = {__VA_ARGS__},                                                                     \
    }

/*
 * The running call's instruction budget (host: glint_config.budget,
 * glint_sandbox_set_budget), for guests that declare GLINT_GUEST_BUDGET.
 * glint_guest_budget_left() is what remains (UINT64_MAX: no budget), for
 * cooperative use by C guests. glint_guest_budget_charge(n) spends n units;
 * once the budget is spent it ends the call at once (it does not return):
 * the host reports GLINT_FAIL_BUDGET. Without a budget it does nothing.
 */
uint64_t glint_guest_budget_left(void);
void glint_guest_budget_charge(uint64_t n);

/* Optional: defined by the guest, runs once when the image is built, before
 * the memory snapshot. Return 0, or glint_guest_error(...) to fail image creation. */
int glint_guest_init(void);

/* Record an error message for the current call; returns `code` (must be
 * non-zero) so that `return glint_guest_error(2, "bad input %d", x);` works. */
int glint_guest_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stop the guest now; the host reports an abort with code and message. */
__attribute__((noreturn)) void glint_guest_abort(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Send formatted text to the host's `print`. Returns bytes sent or < 0. */
int glint_guest_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int glint_guest_vprint(const char *fmt, va_list ap);

/*
 * Call host function `name` with nargs values; on success *ret holds the
 * result (string/bytes results point into the output buffer and are valid
 * until the next host call or until this guest function returns).
 * Returns 0, or a negative code with the host's message in
 * glint_guest_host_error_message(): -1 the host reported an error (unknown name,
 * wrong signature, or the function failed); -2 the request does not fit.
 */
int glint_guest_host_call(const char *name, uint8_t ret_type, glint_guest_val *ret, unsigned nargs,
                          const glint_guest_val *args);
const char *glint_guest_host_error_message(void);

/*
 * Host function signatures, for script runtimes (glint.call): a guest does not know the
 * signature of a host function, so it asks the host's built-in glint.signature(string) -> string,
 * whose reply is "ret(param,param,...)" in the type names of docs/abi.md ("i64(i32,string)",
 * "void()"). The host answers only for functions registered for this sandbox.
 */
typedef struct glint_guest_host_sig {
    uint8_t ret;                             /* GLINT_GUEST_VOID ... GLINT_GUEST_BYTES */
    uint8_t nparams;                         /* <= GLINT_ABI_MAX_PARAMS */
    uint8_t params[GLINT_ABI_MAX_PARAMS];    /* never GLINT_GUEST_VOID */
    char text[8 + GLINT_ABI_MAX_PARAMS * 8]; /* the host's text, NUL-terminated */
} glint_guest_host_sig;

/* Parse the text form (len bytes, not necessarily NUL-terminated) strictly: known type names,
 * no void parameter, at most GLINT_ABI_MAX_PARAMS, no spaces or trailing bytes. Returns 0, or -1
 * if the text is malformed. */
int glint_guest_host_sig_parse(const char *text, size_t len, glint_guest_host_sig *out);

/* Fetch (through glint.signature), parse and cache the signature of host function `name`.
 * Returns 0; or -1 with the reason in glint_guest_host_error_message() (the host's message,
 * e.g. no such function, or a malformed reply); -2 if name is not a valid function name. A few
 * entries are cached per call; the cache lives in guest memory, so a restore empties it. */
int glint_guest_host_signature(const char *name, glint_guest_host_sig *out);

/* Name of a value type ("i32", "string", ...; "?" if unknown). */
const char *glint_guest_type_name(uint8_t type);

/* A script value, described for conversion to a host function parameter. */
#define GLINT_GUEST_SCRIPT_INT    1 /* i: an integer (Lua integer) */
#define GLINT_GUEST_SCRIPT_FLOAT  2 /* f: a floating-point number (Lua float, any JS number) */
#define GLINT_GUEST_SCRIPT_STRING 3 /* s, len: a string (any bytes) */
#define GLINT_GUEST_SCRIPT_BOOL   4 /* b */
#define GLINT_GUEST_SCRIPT_OTHER  5 /* anything else (nil, table, function, ...) */
typedef struct glint_guest_script_val {
    int kind;              /* GLINT_GUEST_SCRIPT_* */
    const char *type_name; /* the script's name of its type, for messages ("table") */
    int64_t i;
    double f;
    const char *s;
    size_t len;
    bool b;
} glint_guest_script_val;

/*
 * Convert a script value to a value of `type` (a parameter type): integers to i32/u32/i64/u64
 * with a range check, integer-valued finite floats to those too, integers and floats to f32/f64
 * (a finite float beyond the f32 range is refused), strings to string (valid UTF-8 without NUL)
 * or bytes, booleans to bool; nothing else. out->str/bytes point at in->s. Returns 0, or -1
 * with a message such as "expects i32, got string" or "expects u32, -1 is out of range" in
 * why (n bytes, NUL-terminated), for the runtime to prefix with the function's name.
 */
int glint_guest_host_convert(uint8_t type, const glint_guest_script_val *in, glint_guest_val *out,
                             char *why, size_t n);

/* Value constructors. */
static inline glint_guest_val glint_guest_val_i32(int32_t v)
{
    glint_guest_val x = {.type = GLINT_GUEST_I32, .i32 = v};
    return x;
}
static inline glint_guest_val glint_guest_val_u32(uint32_t v)
{
    glint_guest_val x = {.type = GLINT_GUEST_U32, .u32 = v};
    return x;
}
static inline glint_guest_val glint_guest_val_i64(int64_t v)
{
    glint_guest_val x = {.type = GLINT_GUEST_I64, .i64 = v};
    return x;
}
static inline glint_guest_val glint_guest_val_u64(uint64_t v)
{
    glint_guest_val x = {.type = GLINT_GUEST_U64, .u64 = v};
    return x;
}
static inline glint_guest_val glint_guest_val_f32(float v)
{
    glint_guest_val x = {.type = GLINT_GUEST_F32, .f32 = v};
    return x;
}
static inline glint_guest_val glint_guest_val_f64(double v)
{
    glint_guest_val x = {.type = GLINT_GUEST_F64, .f64 = v};
    return x;
}
static inline glint_guest_val glint_guest_val_bool(bool v)
{
    glint_guest_val x = {.type = GLINT_GUEST_BOOL, .b = v};
    return x;
}
static inline glint_guest_val glint_guest_val_bytes(const void *p, uint32_t n)
{
    glint_guest_val x = {.type = GLINT_GUEST_BYTES, .len = n, .bytes = (const uint8_t *)p};
    return x;
}
glint_guest_val glint_guest_val_string(const char *s);

/* Boot information (memory map) of this guest. */
const struct glint_abi_boot *glint_guest_boot_info(void);

#endif
