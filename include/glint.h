/* glint public host API: run untrusted guest functions in KVM micro-VMs. */
#ifndef GLINT_H
#define GLINT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GLINT_API __attribute__((visibility("default")))
#else
#define GLINT_API
#endif

/* ---- version and ABI stability ----------------------------------------------
 * Versions are MAJOR.MINOR.PATCH. The rules, for the library's ABI (what a
 * compiled program relies on) and API (what source relies on):
 *  - A patch release changes no declaration: it only fixes behaviour that
 *    contradicts this header.
 *  - A minor release may add functions, error codes, failure kinds, macros
 *    and struct fields, and nothing else. Nothing is removed or renamed, no
 *    signature or existing enum value changes, and a program built against
 *    an older header of the same major version keeps working with the newer
 *    library (before 1.0, minor releases keep this rule too).
 *  - Only a major release may break either; the shared library's soname
 *    (libglint.so.MAJOR) changes with it.
 *  - Structs that callers allocate grow only at the end, and only those with
 *    a struct_size field (glint_config, glint_pool_config, glint_host_info,
 *    glint_hot_config) may grow at all. The others (glint_value,
 *    glint_failure, glint_function_info, glint_hot_status,
 *    glint_image_file_info) keep their layout for the whole major version.
 *  - struct_size rules: the caller sets struct_size to the sizeof it was
 *    compiled with; the _init macros do so. The library reads only the
 *    first struct_size bytes and writes no byte past them; fields an older,
 *    smaller struct lacks get their defaults. A struct_size smaller than
 *    the first release's or larger than this library's (a newer header than
 *    the library) fails with GLINT_EINVAL, as a newer caller's fields would
 *    otherwise be ignored silently.
 *  - Error codes, failure kinds and types keep their numbers; messages and
 *    the text of glint_errmsg() may change in any release. */
#define GLINT_VERSION_MAJOR  0
#define GLINT_VERSION_MINOR  1
#define GLINT_VERSION_PATCH  0
#define GLINT_VERSION_STRING "0.1.0"
/* The version as one number: (major << 16) | (minor << 8) | patch. */
#define GLINT_VERSION_HEX                                                                          \
    ((GLINT_VERSION_MAJOR << 16) | (GLINT_VERSION_MINOR << 8) | GLINT_VERSION_PATCH)

/* The library's version (GLINT_VERSION_HEX as it was built), which may be
 * newer than the header a program was compiled with. */
GLINT_API unsigned glint_version(void);
/* The same as "MAJOR.MINOR.PATCH"; never NULL. */
GLINT_API const char *glint_version_string(void);

/* ---- errors -----------------------------------------------------------------
 * Every function that can fail returns 0 or one of these negative codes.
 * glint_errmsg() then names what went wrong in the calling thread. */
#define GLINT_ERRORS(X)                                                                            \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(ENOKVM, -3, "KVM is not available")                                                          \
    X(EHV, -4, "hypervisor operation failed")                                                      \
    X(EIO, -5, "cannot read guest file")                                                           \
    X(EELF, -6, "malformed guest ELF")                                                             \
    X(EABI, -7, "guest ABI missing or mismatched")                                                 \
    X(ENOFUNC, -8, "no such function")                                                             \
    X(ESIG, -9, "arguments do not match the signature")                                            \
    X(ETOOBIG, -10, "message does not fit the buffer")                                             \
    X(EGUEST, -11, "guest function returned an error")                                             \
    X(EABORT, -12, "guest aborted")                                                                \
    X(EFAULT, -13, "guest faulted")                                                                \
    X(ETIMEDOUT, -14, "guest call timed out")                                                      \
    X(EPROTO, -15, "guest broke the call protocol")                                                \
    X(EPOISONED, -16, "sandbox is poisoned by an earlier failure")                                 \
    X(EBUSY, -17, "sandbox is already running a call")                                             \
    X(EEXIST, -18, "name already registered")                                                      \
    X(EINTR, -19, "guest call interrupted")                                                        \
    X(EBUDGET, -20, "guest call exceeded its instruction budget")                                  \
    X(EIMAGE, -21, "malformed image file")

enum glint_error {
#define GLINT_ERROR_ENUM(name, value, text) GLINT_##name = (value),
    GLINT_ERRORS(GLINT_ERROR_ENUM)
#undef GLINT_ERROR_ENUM
};

/* Static description of an error code; never NULL. Thread-safe. */
GLINT_API const char *glint_strerror(int err);

/* Name of an error code's constant ("GLINT_EINVAL", ...): "0" for 0 and
 * "?" for a value that is not a glint error; never NULL. Thread-safe. */
GLINT_API const char *glint_err_name(int err);

/* Details of the last failure in the calling thread (e.g. "guest ELF: program
 * header 2 extends past end of file"). Valid until the next glint call on this
 * thread; "" if none. */
GLINT_API const char *glint_errmsg(void);

/* ---- values -------------------------------------------------------------- */

typedef enum glint_type {
    GLINT_VOID = 0, /* return type only */
    GLINT_I32 = 1,
    GLINT_U32 = 2,
    GLINT_I64 = 3,
    GLINT_U64 = 4,
    GLINT_F32 = 5,
    GLINT_F64 = 6,
    GLINT_BOOL = 7,
    GLINT_STRING = 8, /* UTF-8 text without NUL bytes */
    GLINT_BYTES = 9,
} glint_type;

#define GLINT_MAX_PARAMS 16
#define GLINT_NAME_MAX   63 /* longest function name, in bytes */

/* Name of a type ("i32", "string", ...); "?" if out of range. */
GLINT_API const char *glint_type_name(glint_type t);

/* Set on a string/bytes result of a host function: glint free()s the pointer
 * once it is done with the result, on every path: after copying it into the
 * guest, and equally when the function returns an error, returns another
 * type than declared, or returns a value that is invalid or does not fit.
 * The rule is: if the callback returns with ret->flags holding this flag and
 * ret->type GLINT_STRING or GLINT_BYTES, glint owns and frees that pointer
 * (free(NULL) is fine), so the callback must never free it itself. With any
 * other ret->type the flag is ignored. */
#define GLINT_VALUE_FREE 1u

typedef struct glint_value {
    glint_type type;
    uint32_t flags; /* GLINT_VALUE_FREE or 0 */
    union {
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        float f32;
        double f64;
        bool b;
        struct {
            const char *ptr; /* not NUL-terminated unless stated */
            size_t len;
        } str;
        struct {
            const void *ptr;
            size_t len;
        } bytes;
    } as;
} glint_value;

static inline glint_value glint_i32(int32_t v)
{
    glint_value x = {GLINT_I32, 0, {.i32 = v}};
    return x;
}
static inline glint_value glint_u32(uint32_t v)
{
    glint_value x = {GLINT_U32, 0, {.u32 = v}};
    return x;
}
static inline glint_value glint_i64(int64_t v)
{
    glint_value x = {GLINT_I64, 0, {.i64 = v}};
    return x;
}
static inline glint_value glint_u64(uint64_t v)
{
    glint_value x = {GLINT_U64, 0, {.u64 = v}};
    return x;
}
static inline glint_value glint_f32(float v)
{
    glint_value x = {GLINT_F32, 0, {.f32 = v}};
    return x;
}
static inline glint_value glint_f64(double v)
{
    glint_value x = {GLINT_F64, 0, {.f64 = v}};
    return x;
}
static inline glint_value glint_bool(bool v)
{
    glint_value x = {GLINT_BOOL, 0, {.b = v}};
    return x;
}
static inline glint_value glint_string_n(const char *s, size_t n)
{
    glint_value x = {GLINT_STRING, 0, {.str = {s, n}}};
    return x;
}
static inline glint_value glint_bytes(const void *p, size_t n)
{
    glint_value x = {GLINT_BYTES, 0, {.bytes = {p, n}}};
    return x;
}
GLINT_API glint_value glint_string(const char *s); /* s NUL-terminated */

/* ---- host functions ----------------------------------------------------------
 * A host function receives validated arguments of exactly its declared types
 * (strings are NUL-terminated and valid UTF-8; they and bytes are valid only
 * during the callback). It sets *ret (ret->type is preset to the declared
 * return type) and returns 0, or returns a negative value to report an error
 * to the guest. A string/bytes result must stay valid after the callback
 * returns; glint copies it at once (and frees it if GLINT_VALUE_FREE is set).
 * Callbacks run on the thread that called glint_sandbox_call(). A timeout or
 * glint_sandbox_interrupt() during a callback delivers GLINT_SIGNAL to that
 * thread (handler without SA_RESTART): blocking system calls in the callback
 * may then fail with EINTR; the guest call ends as soon as it returns. A
 * callback doing pure computation cannot be stopped: the call ends (with
 * GLINT_ETIMEDOUT or GLINT_EINTR) when the callback returns.
 * A callback may call other sandboxes (not its own: GLINT_EBUSY). Every
 * deadline keeps working then: when the outer call's timeout passes (or it
 * is interrupted), the nested calls running inside it on this thread stop
 * too, failing with GLINT_ETIMEDOUT (or GLINT_EINTR) and a message naming the
 * enclosing call; once the callback returns, the outer call fails with its
 * own timeout. A nested call's own, shorter timeout stops only that call. */
typedef int (*glint_host_fn)(void *user, const glint_value *args, size_t nargs, glint_value *ret);

/* Called for each guest `print`; text is valid UTF-8 of len bytes. */
typedef void (*glint_print_fn)(void *user, const char *text, size_t len);

typedef struct glint_host_fns glint_host_fns;

/* A registry holding only the built-ins: `print(string) -> void`, which by
 * default writes the text to stdout, and `glint.signature(string) -> string`
 * (docs/abi.md). Not thread-safe while being modified; images copy it. */
GLINT_API int glint_host_fns_create(glint_host_fns **out);
GLINT_API void glint_host_fns_destroy(glint_host_fns *fns); /* NULL ok */

/* Add a function. Names: 1..GLINT_NAME_MAX bytes of [A-Za-z0-9_.]; `print` and
 * names starting `glint.` are reserved (GLINT_EEXIST for a built-in, else GLINT_EINVAL). */
GLINT_API int glint_host_fns_add(glint_host_fns *fns, const char *name, glint_type ret,
                                 const glint_type *params, size_t nparams, glint_host_fn fn,
                                 void *user);

/* Replace the handler of `print` (fn NULL: discard guest text). */
GLINT_API int glint_host_fns_set_print(glint_host_fns *fns, glint_print_fn fn, void *user);

/* ---- configuration ------------------------------------------------------ */

typedef struct glint_config {
    uint32_t struct_size; /* sizeof(glint_config), set by glint_config_init */
    /* The four sizes: 0 (what glint_config_init sets) = the guest's declared
     * default (GLINT_GUEST_DEFAULTS in its ELF), else glint's default below;
     * any other value is the caller's and wins over the guest's. */
    uint64_t heap_size;   /* default 128 KiB; 4 KiB .. 256 MiB */
    uint64_t stack_size;  /* default 64 KiB; 8 KiB .. 64 MiB */
    uint64_t input_size;  /* default 16 KiB; 4 KiB .. 16 MiB */
    uint64_t output_size; /* default 16 KiB; 4 KiB .. 16 MiB */
    uint32_t timeout_ms;  /* per call (and for init); default 1000; 0 = none */
    /* Fields below were added after 0.1.0; a caller's older, smaller struct
     * (struct_size) gets their defaults. */
    uint64_t max_image_memory; /* most memory the guest ELF's own segments
                                  (code, data, .bss) may span; default 16 MiB;
                                  64 KiB .. 1 GiB. Guards against an ELF that
                                  makes every sandbox cost what it likes. */
    bool confine_init;         /* run the guest's initialisation on a
                                  short-lived helper thread confined like
                                  glint_confine_thread_to_sandboxes() to the
                                  one VM it runs; default true. The loading
                                  thread stays unconfined. Host functions
                                  the guest calls during init (e.g. print)
                                  run on that helper thread, under the
                                  filter: set false if they need more (files,
                                  sockets) or thread identity. */
    uint64_t budget;           /* instruction budget per call, 0 (default)
                                  = none; counted by the guest in its own
                                  units (Lua and JS runtimes: interpreter
                                  instructions, checked every
                                  GLINT_BUDGET_STEP), so the same budget
                                  gives the same outcome on every run. A
                                  call that spends it fails with
                                  GLINT_EBUDGET (GLINT_FAIL_BUDGET) and
                                  poisons the sandbox. Only guests that
                                  declare support (the runtimes) enforce
                                  one: for any other guest a non-zero
                                  budget fails the load with GLINT_EINVAL. */
} glint_config;
/* The Lua and JS runtimes check the budget every this many interpreter
 * instructions: a call runs at most budget + GLINT_BUDGET_STEP - 1 of them. */
#define GLINT_BUDGET_STEP 1000
/* Sizes (set, or the guest's) are first rounded up to 4 KiB, then checked against these ranges
 * (inclusive); out-of-range values fail with GLINT_EINVAL naming the field.
 * So heap_size 1 means 4 KiB, while stack_size 4 KiB is refused. */
#define GLINT_HEAP_SIZE_MIN    (4ull << 10)
#define GLINT_HEAP_SIZE_MAX    (256ull << 20)
#define GLINT_STACK_SIZE_MIN   (8ull << 10)
#define GLINT_STACK_SIZE_MAX   (64ull << 20)
#define GLINT_BUFFER_SIZE_MIN  (4ull << 10) /* input_size and output_size */
#define GLINT_BUFFER_SIZE_MAX  (16ull << 20)
#define GLINT_IMAGE_MEMORY_MIN (64ull << 10) /* max_image_memory */
#define GLINT_IMAGE_MEMORY_MAX (1ull << 30)
/* struct_size compatibility: a struct_size from an older header (at least
 * the 0.1.0 size, offsetof(glint_config, max_image_memory)) is accepted and
 * the fields it lacks get their defaults; anything smaller, or larger than
 * this library's sizeof(glint_config) (a newer header than the library),
 * fails with GLINT_EINVAL. The same holds for glint_pool_config, whose
 * struct_size must be exactly 0.1.0's (20 bytes, before idle_resident_max)
 * or this library's sizeof. */

/* Set the defaults in the first `size` bytes of *cfg (at most this
 * library's sizeof) and struct_size to that many bytes; writes nothing past
 * them. cfg NULL: nothing. */
GLINT_API void glint_config_init_sized(glint_config *cfg, size_t size);
/* glint_config_init(cfg) passes the caller's own sizeof. The function of
 * that name is for programs built against 0.1.0, whose macro-less header
 * called it: it initialises only the 0.1.0 struct. */
GLINT_API void glint_config_init(glint_config *cfg);
#define glint_config_init(cfg) glint_config_init_sized((cfg), sizeof *(cfg))

/* ---- function lists ------------------------------------------------------- */

typedef struct glint_function_info {
    const char *name;
    glint_type ret;
    size_t nparams;
    const glint_type *params;
} glint_function_info;

typedef struct glint_exports glint_exports;

/* Read a guest ELF's exported functions without running it (no KVM needed). */
GLINT_API int glint_exports_read_file(const char *path, glint_exports **out);
GLINT_API void glint_exports_destroy(glint_exports *ex); /* NULL ok */
GLINT_API size_t glint_exports_count(const glint_exports *ex);
/* Pointers in *info stay valid as long as ex. */
GLINT_API int glint_exports_get(const glint_exports *ex, size_t i, glint_function_info *info);
GLINT_API int glint_exports_find(const glint_exports *ex, const char *name,
                                 glint_function_info *info);

/* ---- images -----------------------------------------------------------------
 * An image is a guest ELF that has been validated, laid out in guest memory
 * and initialised once in a VM. Immutable after creation: any number of
 * threads may create sandboxes from it at once. Refcounted: destroy drops the
 * caller's reference; sandboxes hold their own. cfg may be NULL (defaults);
 * fns may be NULL (print only) and is copied. */
typedef struct glint_image glint_image;

GLINT_API int glint_image_load_file(const char *path, const glint_config *cfg,
                                    const glint_host_fns *fns, glint_image **out);
GLINT_API int glint_image_load_memory(const void *elf, size_t len, const glint_config *cfg,
                                      const glint_host_fns *fns, glint_image **out);
GLINT_API void glint_image_destroy(glint_image *img); /* NULL ok */
GLINT_API const glint_exports *glint_image_exports(const glint_image *img);
/* The configuration img was loaded with, sizes resolved (the caller's, else
 * the guest's declared default, else glint's) and rounded. Initialise *out
 * with glint_config_init first: only its struct_size bytes are written.
 * GLINT_EINVAL for NULL or a bad struct_size. */
GLINT_API int glint_image_config(const glint_image *img, glint_config *out);

/* ---- sandboxes -------------------------------------------------------------
 * One VM with one vCPU. Use from one thread at a time. */
typedef struct glint_sandbox glint_sandbox;

/* fns NULL: the image's host functions; otherwise copied. */
GLINT_API int glint_sandbox_create(glint_image *img, const glint_host_fns *fns,
                                   glint_sandbox **out);
GLINT_API void glint_sandbox_destroy(glint_sandbox *sb); /* NULL ok */

/* A new image (one reference) whose post-initialisation state is sb's current
 * guest memory and vCPU state, e.g. after a call that loaded a script: every
 * sandbox and pool of it starts, and restores, to that state. Its exports
 * and host functions are those of sb's image (copied). Like any image it is
 * refcounted and immutable; sb and its image are unchanged and stay valid,
 * and either may be destroyed before the new image. sb must not be poisoned
 * (GLINT_EPOISONED) or in a call (GLINT_EBUSY, e.g. from a host function).
 * Costs time in proportion to the non-zero pages of the two images (sb's
 * written pages and its image's), not to the guest memory size. */
GLINT_API int glint_image_derive(glint_sandbox *sb, glint_image **out);

/* ---- image files (docs/images.md) -------------------------------------------
 * glint_image_save writes img (loaded or derived) to path as an image file:
 * its layout, exports, the host functions it expects (the application's
 * functions of its registry: name and signature), its non-zero post-init
 * pages and its vCPU state, checksummed. Atomic: written to a temporary file
 * in the same directory, fsync'd, then renamed over path, so a reader sees
 * the old file or the new one, never a mix (and processes that mapped the old
 * one keep it). GLINT_EIO naming the step if the file cannot be written;
 * GLINT_EINVAL for NULL arguments.
 *
 * glint_image_load_file accepts an image file as well as an ELF (by its
 * magic): the file is checked (every field, the checksum), mapped read-only
 * and shared, never parsed as an ELF and no guest code runs. Config: the
 * four sizes are the file's (a non-zero size that differs is GLINT_EINVAL
 * naming it); timeout_ms, budget and max_image_memory are the caller's (cfg
 * NULL: the file's); confine_init does not apply. fns must hold every
 * host function the file expects with the same signature, else
 * GLINT_ENOFUNC / GLINT_ESIG naming it. GLINT_EIMAGE names a malformed
 * field; GLINT_EABI another format or ABI version, or another CPU's FPU
 * state format. glint_exports_read_file also accepts image files. */
GLINT_API int glint_image_save(const glint_image *img, const char *path);

/* What an image file's header and records say (glint inspect shows it). */
typedef struct glint_image_file_info {
    uint32_t format_version; /* 0: path is not an image file (e.g. an ELF) */
    uint32_t abi_version;
    uint64_t file_size;
    uint64_t heap_size, stack_size, input_size, output_size; /* fixed by the file */
    uint64_t mem_size;                                       /* guest memory */
    uint32_t timeout_ms; /* defaults used when loaded with a NULL config */
    uint64_t budget;
    uint32_t pages;   /* non-zero guest pages stored (4 KiB each) */
    uint32_t fp_size; /* bytes of vCPU FPU/vector state ... */
    uint64_t fp_xcr0; /* ... and the XSAVE features it holds (0: legacy FPU) */
    char library[32]; /* the glint that wrote it, e.g. "glint 0.1.0" */
} glint_image_file_info;

/* Check the image file at path (every field and the checksum, without KVM)
 * and describe it in *info; *host_fns (may be NULL) receives the host
 * functions it expects as a list read like exports (glint_exports_get;
 * destroy with glint_exports_destroy). A file that is not an image file
 * gives 0 with info->format_version 0 and *host_fns NULL. Errors as for
 * glint_image_load_file. */
GLINT_API int glint_image_file_info_read(const char *path, glint_image_file_info *info,
                                         glint_exports **host_fns);

/* Per-call timeout for this sandbox (0 = none); starts as the image's. */
GLINT_API void glint_sandbox_set_timeout(glint_sandbox *sb, uint32_t timeout_ms);

/* Instruction budget per call for this sandbox (0 = none; see
 * glint_config.budget); starts as the image's. GLINT_EINVAL if sb is NULL,
 * or budget is non-zero and the guest does not enforce budgets. */
GLINT_API int glint_sandbox_set_budget(glint_sandbox *sb, uint64_t budget);

/* Call guest function `name`. Argument types must match the signature
 * exactly. On success *ret holds the result (ret->type == declared type);
 * string/bytes results point into the sandbox and stay valid until its next
 * call or destruction; strings are NUL-terminated. ret may be NULL. */
GLINT_API int glint_sandbox_call(glint_sandbox *sb, const char *name, const glint_value *args,
                                 size_t nargs, glint_value *ret);

/* Same, by index into glint_image_exports(): skips the name lookup. */
GLINT_API int glint_sandbox_call_index(glint_sandbox *sb, size_t index, const glint_value *args,
                                       size_t nargs, glint_value *ret);

typedef enum glint_failure_kind {
    GLINT_FAIL_NONE = 0,
    GLINT_FAIL_USAGE,        /* bad call from the host side; sandbox unaffected */
    GLINT_FAIL_GUEST_ERROR,  /* guest returned an error; sandbox still usable */
    GLINT_FAIL_ABORT,        /* guest called abort */
    GLINT_FAIL_FAULT,        /* CPU exception in the guest */
    GLINT_FAIL_TRIPLE_FAULT, /* exception while delivering an exception */
    GLINT_FAIL_TIMEOUT,      /* deadline passed */
    GLINT_FAIL_PROTOCOL,     /* malformed message or unexpected exit */
    GLINT_FAIL_HYPERVISOR,   /* KVM failed */
    GLINT_FAIL_INTERRUPTED,  /* glint_sandbox_interrupt() stopped the call */
    GLINT_FAIL_BUDGET,       /* the call spent its instruction budget */
} glint_failure_kind;

typedef struct glint_failure {
    int error; /* GLINT_E* returned by the failing call */
    glint_failure_kind kind;
    int32_t guest_code;  /* GUEST_ERROR / ABORT: guest's code */
    uint32_t vector;     /* FAULT: exception vector (e.g. 14 = #PF) */
    uint64_t error_code; /* FAULT: CPU error code (0 if none) */
    uint64_t rip;        /* FAULT: faulting instruction */
    uint64_t fault_addr; /* FAULT #PF: CR2 */
    char message[256];   /* human-readable, NUL-terminated */
} glint_failure;

/* Details of the sandbox's last failed call (kind NONE if the last call
 * succeeded). */
GLINT_API void glint_sandbox_last_failure(const glint_sandbox *sb, glint_failure *out);

/* True once an abort, fault, timeout, interrupt, budget or protocol error has
 * poisoned it; every later call fails with GLINT_EPOISONED until restore. */
GLINT_API bool glint_sandbox_poisoned(const glint_sandbox *sb);

/* Stop the call running in sb as soon as possible; it fails with
 * GLINT_EINTR and poisons the sandbox. Callable from any thread at any time;
 * if no call is running it does nothing (it never affects a later call).
 * Uses GLINT_SIGNAL to kick the vCPU thread out of KVM_RUN. Calls that a
 * host function of sb made on other sandboxes, and that are running, are
 * stopped too (GLINT_EINTR, "an enclosing call ... was interrupted"). */
GLINT_API void glint_sandbox_interrupt(glint_sandbox *sb);

/* ---- hot mode ----------------------------------------------------------------
 * A hot sandbox owns a vCPU thread that keeps its guest inside the
 * hypervisor between calls: the guest spins (`pause`) on a mailbox page, the
 * caller publishes each request there and polls for the result, and no VM
 * exit happens per call (docs/abi.md, "Hot mode"). glint_sandbox_call*()
 * keep their signatures and semantics: every value type, errors, aborts,
 * faults, protocol errors, timeouts (the polling caller owns the deadline)
 * and glint_sandbox_interrupt() behave and are reported as in exit mode. A
 * result is copied out of guest memory once, then validated; it never points
 * into guest memory. Host functions still run on the thread that called
 * glint_sandbox_call() (the guest exits for them, as in exit mode).
 * Cost: while a guest spins it occupies a whole CPU, and its caller polls on
 * another. An idle guest spins at most the window, which adapts between 0 and
 * max_spin_us like KVM halt polling, then parks (its vCPU thread sleeps); a
 * call that finds it parked costs a wake-up plus an exit-mode entry. A
 * watchdog parks a guest that keeps spinning past its window. The vCPU
 * thread confines itself with the seccomp allowlist of glint_confine_thread(),
 * ioctl only on this sandbox's descriptors; set_hot needs a thread that may
 * create threads (call it before confining the caller). */
typedef enum glint_hot_busy {
    GLINT_HOT_REFUSE = 0,    /* glint_sandbox_set_hot fails with GLINT_EBUSY */
    GLINT_HOT_DOWNGRADE = 1, /* it succeeds, the sandbox stays in exit mode, and
                                glint_sandbox_hot_status() says why */
} glint_hot_busy;

typedef struct glint_hot_config {
    uint32_t struct_size; /* sizeof(glint_hot_config), set by glint_hot_config_init */
    bool enabled;         /* false: exit mode, as a NULL config; init sets true */
    uint32_t max_spin_us; /* the longest an idle guest spins before it parks; default 200,
                             at most 100000; 0: park right after every call */
    uint32_t max_hot;     /* admission: at most this many hot sandboxes in the process; 0
                             (default): one less than the CPUs the process may use
                             (affinity, cgroup v2 cpu.max), which is also the upper bound */
    uint32_t on_busy;     /* glint_hot_busy: what set_hot does when admission refuses */
} glint_hot_config;

/* As glint_config_init_sized: defaults for the first `size` bytes. */
GLINT_API void glint_hot_config_init_sized(glint_hot_config *cfg, size_t size);
#define glint_hot_config_init(cfg) glint_hot_config_init_sized((cfg), sizeof *(cfg))

/* Turn hot mode on (cfg enabled) or off (cfg NULL or enabled false; waits
 * for the guest to park). sb must not be in a call (GLINT_EBUSY) or
 * poisoned (GLINT_EPOISONED). GLINT_EABI if the guest was built without hot
 * support (an older libglint-guest), GLINT_EINVAL for a bad config,
 * GLINT_EBUSY (naming the count and the limit) when admission refuses and
 * on_busy is GLINT_HOT_REFUSE. Calling it again with a new config applies
 * that config. Turning it off fails with GLINT_EPROTO (and poisons sb) if the
 * guest does not park. */
GLINT_API int glint_sandbox_set_hot(glint_sandbox *sb, const glint_hot_config *cfg);

typedef struct glint_hot_status {
    bool active;           /* calls go through the mailbox */
    uint32_t window_us;    /* the current spin window */
    uint64_t calls;        /* hot calls made */
    uint64_t parks;        /* times the guest parked (window passed) */
    uint64_t wakes;        /* calls that found the guest parked */
    uint64_t forced_parks; /* times the watchdog stopped a guest spinning past its window */
    uint64_t stalls;       /* calls slowed by CPU contention (then parks at once for a while) */
    char reason[256];      /* why hot mode is not active (empty if active or never asked) */
} glint_hot_status;

/* The sandbox's hot-mode state and counters (all zero for NULL sb). */
GLINT_API void glint_sandbox_hot_status(const glint_sandbox *sb, glint_hot_status *out);

/* The real-time signal glint uses for timeouts and interrupts. Its handler
 * is installed on first use; do not block it in threads that call guests. */
#define GLINT_SIGNAL (SIGRTMIN + 8)

/* Confine the calling thread with a seccomp allowlist (libseccomp) that
 * permits what running guest calls on existing sandboxes needs (KVM vCPU
 * requests, deadlines, locks, memory allocation, writes) and fails anything
 * else with EPERM: no open, socket, exec, fork, ptrace, no executable
 * mappings, no signals to other processes, ... Irreversible for the thread
 * and inherited by threads it creates. Host functions then run under the same
 * filter. The allowlist, with a reason per rule, is in src/os/confine.c; what it
 * still allows is in docs/security.md. ioctl is allowed with the KVM requests
 * a call, snapshot or restore needs, on any descriptor. */
GLINT_API int glint_confine_thread(void);

/* The same, but ioctl is allowed only on the VM and vCPU descriptors of these
 * n sandboxes (n <= 256; n == 0: no ioctl at all), each with the requests of
 * its kind. Use it where the thread's sandboxes are known in advance: calls
 * on any other sandbox then fail (KVM requests get EPERM). The descriptors
 * are fixed when the filter is installed: destroying a listed sandbox is
 * allowed, but descriptor numbers that other threads reuse later are allowed
 * too. GLINT_EINVAL if sandboxes is NULL (with n > 0) or holds NULL. */
GLINT_API int glint_confine_thread_to_sandboxes(glint_sandbox *const *sandboxes, size_t n);

/* ---- snapshots -----------------------------------------------------------
 * A snapshot holds a sandbox's guest memory (the pages that differ from its
 * image) and its complete vCPU state. Restore makes every byte of guest
 * memory and every vCPU register equal to the snapshot again, whatever the
 * guest did, and clears poisoning. The guest cannot hide a write from it:
 * pages are tracked by the hypervisor, not reported by the guest. */
typedef struct glint_snapshot glint_snapshot;

/* Capture sb (not poisoned, not in a call). Immutable; usable by any sandbox
 * of the same image, from any thread. */
GLINT_API int glint_sandbox_snapshot(glint_sandbox *sb, glint_snapshot **out);
GLINT_API void glint_snapshot_destroy(glint_snapshot *snap); /* NULL ok */

/* Restore sb to snap, or to its image's post-initialisation state if snap is
 * NULL (the common, fastest case). Cost grows with the pages the guest wrote,
 * not with its memory size. */
GLINT_API int glint_sandbox_restore(glint_sandbox *sb, const glint_snapshot *snap);

/* ---- pools -------------------------------------------------------------------
 * A pool keeps ready sandboxes of one image. glint_pool_call() takes one,
 * makes the call, restores it to the image state and gives it back: every
 * call starts from a pristine, hardware-isolated guest. Sandboxes are created
 * and destroyed on a background thread, never on the calling thread. All
 * pool functions but destroy are safe to call from any number of threads. */
typedef struct glint_pool glint_pool;

typedef struct glint_pool_config {
    uint32_t struct_size; /* sizeof(glint_pool_config), set by the init */
    uint32_t size;        /* sandboxes kept; default 4, 1..4096 */
    uint32_t wait_ms;     /* when all sandboxes (or, with workers, all
                             workers) are busy, wait this long, counted
                             from the start of glint_pool_call, then fail
                             with GLINT_EBUSY; default 1000. Bounds only the
                             wait: a call that started runs to the guest
                             timeout. */
    uint32_t workers;     /* 0 (default): calls run on the caller's thread;
                             N: on N pool threads (0..256), which the caller
                             waits for */
    bool confine;         /* workers confine themselves with
                             glint_confine_thread(); default true */
    /* Appended after 0.1.0. */
    uint64_t idle_resident_max; /* an idle sandbox may keep this many bytes
                             resident beyond its image's non-zero pages (zero
                             pages its calls wrote, which restores cleared);
                             past that, the pool's own thread gives them back
                             to the kernel, never the caller's. Default
                             GLINT_POOL_IDLE_RESIDENT_DEFAULT; UINT64_MAX:
                             never trim */
    uint32_t hot; /* run this many of the sandboxes hot (glint_sandbox_set_hot) for isolated
                     calls: the guest answers through the mailbox without an exit, parks,
                     and the sandbox's vCPU thread restores it to the image off the caller's
                     path; a sandbox is never used before its restore finished. Each takes
                     an admission slot; those refused stay in exit mode (glint_pool_hot()
                     counts the others). Hot sandboxes are not trimmed. Default 0;
                     at most size. */
} glint_pool_config;

#define GLINT_POOL_IDLE_RESIDENT_DEFAULT (4ull << 20) /* 4 MiB */

/* As glint_config_init_sized / glint_config_init. The function of that name
 * is for programs built against 0.1.0: it initialises the 0.1.0 struct
 * (without idle_resident_max). */
GLINT_API void glint_pool_config_init_sized(glint_pool_config *cfg, size_t size);
GLINT_API void glint_pool_config_init(glint_pool_config *cfg);
#define glint_pool_config_init(cfg) glint_pool_config_init_sized((cfg), sizeof *(cfg))

/* Create a pool of sandboxes of img (fns as for glint_sandbox_create; cfg
 * NULL for defaults). Returns once the first sandbox is ready; the rest
 * follow in the background. */
GLINT_API int glint_pool_create(glint_image *img, const glint_host_fns *fns,
                                const glint_pool_config *cfg, glint_pool **out);

/* Destroy the pool and its sandboxes. The caller must make sure no
 * glint_pool_call() on it is running or will start. NULL ok. */
GLINT_API void glint_pool_destroy(glint_pool *pool);

/* Call `name` in a pristine sandbox. A string/bytes result is copied into
 * memory owned by the calling thread, valid until its next glint_pool_call.
 * If failure is non-NULL it receives the failure details (kind NONE on
 * success). Sandboxes that fail are restored (or replaced) automatically.
 * A host function may call other pools, but not a pool whose call it is
 * inside (directly, or through a chain of pools in either mode): that fails
 * at once with GLINT_EBUSY instead of waiting for itself. */
GLINT_API int glint_pool_call(glint_pool *pool, const char *name, const glint_value *args,
                              size_t nargs, glint_value *ret, glint_failure *failure);

/* Sandboxes ready now (for monitoring). */
GLINT_API size_t glint_pool_ready(glint_pool *pool);

/* Sandboxes of the pool running hot now (at most glint_pool_config.hot). */
GLINT_API size_t glint_pool_hot(glint_pool *pool);

/* Calls the pool has made so far, by mode (for monitoring): in *hot those a
 * hot sandbox answered through its mailbox, in *exit_mode those made with VM
 * exits. Either pointer may be NULL; all zero for a NULL pool. */
GLINT_API void glint_pool_calls(glint_pool *pool, uint64_t *hot, uint64_t *exit_mode);

/* ---- the host ----------------------------------------------------------- */

typedef struct glint_host_info {
    uint32_t struct_size; /* IN: sizeof(glint_host_info) as the caller was built;
                             OUT: the bytes glint filled (the smaller of that
                             and this library's size) */
    bool kvm;             /* /dev/kvm is usable */
    bool msr_filter;      /* every VM gets a deny-all MSR filter */
    bool dirty_tracking;  /* restore copies only pages the guest wrote (else
                             every writable page) */
    bool sync_regs;       /* restore loads registers without extra ioctls */
    bool xsave;           /* the full XSAVE state is saved and restored (else
                             x87/SSE only) */
    uint32_t xsave_bytes;
    bool no_hypercall_patching; /* KVM never rewrites a guest's vmcall/vmmcall
                                   (KVM_X86_QUIRK_FIX_HYPERCALL_INSN off) */
    bool osxsave;               /* guests run with CR4.OSXSAVE and XCR0 = xcr0 */
    uint64_t xcr0;              /* 0 if glint cannot set XCR0 (then, e.g. under
                                   PVM, CPL3 code runs under the host's XCR0) */
} glint_host_info;

/* What this host's hypervisor offers glint. The caller sets info->struct_size
 * = sizeof(glint_host_info) first; glint writes no byte past it (a caller built
 * against an older, smaller struct gets the fields it has) and fills what fits,
 * zero where KVM is missing. GLINT_EINVAL if struct_size is below the 0.1.0
 * size (16 bytes); GLINT_ENOKVM if no KVM. */
GLINT_API int glint_host_info_get(glint_host_info *info);

/* Name of a failure kind ("fault", "timeout", ...). */
GLINT_API const char *glint_failure_kind_name(glint_failure_kind k);

/* Name of an x86 exception vector ("#PF", "#GP", ...). */
GLINT_API const char *glint_vector_name(uint32_t vector);

#ifdef __cplusplus
}
#endif
#endif
