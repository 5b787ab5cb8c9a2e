/* Guest runtime: start-up, the call loop, host calls, print, errors and abort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "ident.h"
#include "utf8.h"
#include "glint/guest.h"

/* The export table, delimited by the linker script. */
extern const struct glint_abi_export __glint_exports_start[], __glint_exports_end[];

/* The ABI note the host checks before loading: version and export table. */
static const struct __attribute__((packed)) {
    uint32_t namesz, descsz, type;
    char name[8];
    struct glint_abi_note desc;
} abi_note __attribute__((used, section(".note.glint"), aligned(4))) = {
    .namesz = sizeof GLINT_ABI_NOTE_NAME,
    .descsz = sizeof(struct glint_abi_note),
    .type = GLINT_ABI_NOTE_TYPE,
    .name = GLINT_ABI_NOTE_NAME,
    .desc =
        {
            .abi_version = GLINT_ABI_VERSION,
            .export_size = sizeof(struct glint_abi_export),
            .exports_addr = (uint64_t)(uintptr_t)__glint_exports_start,
            .exports_end = (uint64_t)(uintptr_t)__glint_exports_end,
        },
};

/* The features note: this runtime serves hot calls through the mailbox (see hot_serve). */
static const struct __attribute__((packed)) {
    uint32_t namesz, descsz, type;
    char name[8];
    struct glint_abi_features desc;
} features_note __attribute__((used, section(".note.glint"), aligned(4))) = {
    .namesz = sizeof GLINT_ABI_NOTE_NAME,
    .descsz = sizeof(struct glint_abi_features),
    .type = GLINT_ABI_NOTE_FEATURES_TYPE,
    .name = GLINT_ABI_NOTE_NAME,
    .desc = {.flags = GLINT_ABI_FEATURE_HOT},
};

__attribute__((weak)) int glint_guest_init(void);
void glint__start(void);
void glint__heap_init(void *base, size_t size);
void glint__heap_corrupt(const char *what);

static const struct glint_abi_boot *const boot = (const struct glint_abi_boot *)GLINT_ABI_BOOT_ADDR;
static char error_text[512];
static uint64_t budget_left = UINT64_MAX; /* of the running call; UINT64_MAX: none */
static char host_error[256];

static inline void exit_to_host(uint8_t port)
{
    __asm__ volatile("outb %%al, %w0" : : "Nd"((uint16_t)port), "a"((uint8_t)0) : "memory");
}

const struct glint_abi_boot *glint_guest_boot_info(void)
{
    return boot;
}

static uint8_t *out_buf(void)
{
    return (uint8_t *)(uintptr_t)boot->output_addr;
}

static uint32_t out_cap(void)
{
    return (uint32_t)boot->output_size;
}

/* Replace bytes that would make text invalid (bad UTF-8, NUL) with '?'. */
static void make_text(char *s, uint32_t len)
{
    if (glint__utf8_valid((const uint8_t *)s, len))
        return;
    for (uint32_t i = 0; i < len; i++)
        if ((uint8_t)s[i] >= 0x80 || s[i] == 0)
            s[i] = '?';
}

/* Format into a string value being written in place in the message. */
static int put_formatted(glint__writer *w, const char *fmt, va_list ap)
{
    uint32_t max = UINT32_MAX - 8;
    char *p = glint__msg_reserve_string(w, &max);
    if (!p)
        return -1;
    int n = vsnprintf(p, (size_t)max + 1, fmt, ap);
    if (n < 0)
        n = 0;
    uint32_t len = (uint32_t)n > max ? max : (uint32_t)n;
    make_text(p, len);
    return glint__msg_put_reserved(w, len) == 0 ? n : -1;
}

int glint_guest_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_text, sizeof error_text, fmt, ap);
    va_end(ap);
    return code ? code : -1;
}

void glint_guest_abort(int code, const char *fmt, ...)
{
    glint__writer w;
    glint__msg_begin(&w, out_buf(), out_cap(), GLINT_ABI_MSG_ABORT, 0, code, NULL, 0);
    va_list ap;
    va_start(ap, fmt);
    put_formatted(&w, fmt, ap);
    va_end(ap);
    glint__msg_end(&w);
    for (;;)
        exit_to_host(GLINT_ABI_PORT_ABORT);
}

void glint__heap_corrupt(const char *what)
{
    glint_guest_abort(-2, "heap corruption detected: %s", what);
}

glint_guest_val glint_guest_val_string(const char *s)
{
    glint_guest_val v = {.type = GLINT_GUEST_STRING, .len = (uint32_t)strlen(s), .str = s};
    return v;
}

const char *glint_guest_host_error_message(void)
{
    return host_error;
}

/* For guest/hostsig.c: set the message glint_guest_host_error_message() returns. */
void glint__set_host_error(const char *msg);
void glint__set_host_error(const char *msg)
{
    snprintf(host_error, sizeof host_error, "%s", msg);
}

static glint__cval to_cval(const glint_guest_val *v)
{
    glint__cval c = {.type = v->type, .bits = v->u64};
    if (glint__scalar_len(v->type) == 4)
        c.bits = v->u32;
    else if (v->type == GLINT_GUEST_BOOL)
        c.bits = v->b ? 1 : 0;
    else if (v->type == GLINT_GUEST_STRING || v->type == GLINT_GUEST_BYTES) {
        c.bits = 0;
        c.len = v->len;
        c.ptr = v->bytes;
    }
    return c;
}

static glint_guest_val from_cval(const glint__cval *c)
{
    glint_guest_val v = {.type = c->type, .u64 = c->bits};
    if (c->type == GLINT_GUEST_BOOL)
        v.b = c->bits != 0;
    else if (c->type == GLINT_GUEST_STRING || c->type == GLINT_GUEST_BYTES) {
        v.len = c->len;
        v.bytes = c->ptr;
    }
    return v;
}

/* Exchange one host call message; the reply is decoded into m. */
static int host_roundtrip(glint__writer *w, glint__msg *m)
{
    if (glint__msg_end(w) < 0) {
        strcpy(host_error, "host call request does not fit the output buffer");
        return -2;
    }
    exit_to_host(GLINT_ABI_PORT_HOSTCALL);
    const char *why;
    if (glint__msg_decode(out_buf(), out_cap(), m, &why) != 0 ||
        m->kind != GLINT_ABI_MSG_HOSTRESULT) {
        strcpy(host_error, "malformed reply from the host");
        return -1;
    }
    if (m->status != 0) {
        uint32_t n = 0;
        if (m->count == 1 && m->vals[0].type == GLINT_GUEST_STRING) {
            n = m->vals[0].len < sizeof host_error - 1 ? m->vals[0].len : sizeof host_error - 1;
            memcpy(host_error, m->vals[0].ptr, n);
        }
        host_error[n] = 0;
        return -1;
    }
    host_error[0] = 0;
    return 0;
}

int glint_guest_host_call(const char *name, uint8_t ret_type, glint_guest_val *ret, unsigned nargs,
                          const glint_guest_val *args)
{
    size_t nlen = strlen(name);
    if (!glint__name_valid(name, nlen) || nargs > GLINT_ABI_MAX_PARAMS ||
        ret_type > GLINT_ABI_TYPE_MAX) {
        strcpy(host_error, "bad host call: invalid name, argument count or return type");
        return -2;
    }
    glint__writer w;
    glint__msg_begin(&w, out_buf(), out_cap(), GLINT_ABI_MSG_HOSTCALL, ret_type, 0, name,
                     (uint32_t)nlen);
    for (unsigned i = 0; i < nargs; i++) {
        if (args[i].type == GLINT_GUEST_STRING &&
            !glint__utf8_valid((const uint8_t *)args[i].str, args[i].len)) {
            strcpy(host_error, "bad host call: string argument is not valid UTF-8");
            return -2;
        }
        glint__cval c = to_cval(&args[i]);
        if (glint__msg_put(&w, &c) != 0)
            break; /* reported by host_roundtrip */
    }
    glint__msg m;
    int rc = host_roundtrip(&w, &m);
    if (rc)
        return rc;
    if (m.count != (ret_type == GLINT_GUEST_VOID ? 0 : 1) ||
        (m.count && m.vals[0].type != ret_type)) {
        strcpy(host_error, "host reply has the wrong type");
        return -1;
    }
    if (ret)
        *ret = m.count ? from_cval(&m.vals[0]) : (glint_guest_val){.type = GLINT_GUEST_VOID};
    return 0;
}

int glint_guest_vprint(const char *fmt, va_list ap)
{
    glint__writer w;
    glint__msg_begin(&w, out_buf(), out_cap(), GLINT_ABI_MSG_HOSTCALL, GLINT_GUEST_VOID, 0, "print",
                     5);
    int n = put_formatted(&w, fmt, ap);
    glint__msg m;
    if (n < 0 || host_roundtrip(&w, &m) != 0)
        return -1;
    return n;
}

int glint_guest_print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = glint_guest_vprint(fmt, ap);
    va_end(ap);
    return n;
}

/* A successful RESULT carrying ret (none for void or NULL). Returns 0, or the
 * error code (message recorded) if the value is invalid or does not fit. */
static int write_ok(const glint_guest_val *ret)
{
    glint__writer w;
    glint__msg_begin(&w, out_buf(), out_cap(), GLINT_ABI_MSG_RESULT, 0, 0, NULL, 0);
    if (!ret || ret->type == GLINT_GUEST_VOID) {
        glint__msg_end(&w);
        return 0;
    }
    glint__cval c = to_cval(ret);
    if (ret->type == GLINT_GUEST_STRING && !glint__utf8_valid(c.ptr, c.len))
        return glint_guest_error(-1, "function returned a string that is not valid UTF-8");
    if (glint__msg_put(&w, &c) != 0 || glint__msg_end(&w) < 0)
        return glint_guest_error(-1, "result of %u bytes does not fit the %u-byte output buffer",
                                 c.len, out_cap());
    return 0;
}

/* A failed RESULT: status rc and the recorded message, repaired to text. */
static void write_failure(int rc)
{
    glint__writer w;
    glint__msg_begin(&w, out_buf(), out_cap(), GLINT_ABI_MSG_RESULT, 0, rc, NULL, 0);
    uint32_t len = (uint32_t)strlen(error_text);
    make_text(error_text, len);
    glint__cval c = {.type = GLINT_GUEST_STRING, .len = len, .ptr = error_text};
    glint__msg_put(&w, &c);
    glint__msg_end(&w);
}

/* Write the RESULT message for a finished call (or initialisation), then free
 * a returned string/bytes marked GLINT_GUEST_VAL_FREE. */
static void write_result(int rc, const glint_guest_val *ret)
{
    if (rc == 0)
        rc = write_ok(ret);
    if (rc != 0)
        write_failure(rc);
    if (ret && (ret->flags & GLINT_GUEST_VAL_FREE) &&
        (ret->type == GLINT_GUEST_STRING || ret->type == GLINT_GUEST_BYTES))
        free((void *)(uintptr_t)ret->bytes);
}

uint64_t glint_guest_budget_left(void)
{
    return budget_left;
}

void glint_guest_budget_charge(uint64_t n)
{
    if (budget_left == UINT64_MAX)
        return;
    if (n < budget_left) {
        budget_left -= n;
        return;
    }
    budget_left = 0;
    glint_guest_abort(GLINT_ABI_ABORT_BUDGET, "instruction budget spent");
}

/* Decode the CALL in the input buffer, run the function, write the result. */
static void dispatch(void)
{
    glint__msg m;
    const char *why;
    const uint8_t *in = (const uint8_t *)(uintptr_t)boot->input_addr;
    error_text[0] = 0;
    if (glint__msg_decode(in, (uint32_t)boot->input_size, &m, &why) != 0 ||
        m.kind != GLINT_ABI_MSG_CALL) {
        write_result(glint_guest_error(-1, "malformed call message"), NULL);
        return;
    }
    size_t count = (size_t)(__glint_exports_end - __glint_exports_start);
    if (m.status < 0 || (size_t)m.status >= count) {
        write_result(glint_guest_error(-1, "no function with index %d", (int)m.status), NULL);
        return;
    }
    const struct glint_abi_export *e = &__glint_exports_start[m.status];
    glint_guest_val args[GLINT_ABI_MAX_PARAMS];
    if (m.count != e->nparams) {
        write_result(glint_guest_error(-1, "%s: wrong argument count", e->name), NULL);
        return;
    }
    for (unsigned i = 0; i < m.count; i++) {
        if (m.vals[i].type != e->params[i]) {
            write_result(
                glint_guest_error(-1, "%s: argument %u has the wrong type", e->name, i + 1), NULL);
            return;
        }
        args[i] = from_cval(&m.vals[i]);
    }
    glint_guest_val ret = {.type = e->ret_type};
    budget_left = boot->budget ? boot->budget : UINT64_MAX;
    int rc = ((glint_guest_fn)(uintptr_t)e->fn)(args, &ret);
    if (rc == 0 && ret.type != e->ret_type)
        rc = glint_guest_error(-1, "%s: returned a value of the wrong type", e->name);
    if (rc != 0 && !error_text[0])
        glint_guest_error(rc, "%s failed with code %d", e->name, rc);
    budget_left = UINT64_MAX;
    write_result(rc, &ret);
}

static inline uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* The hot mailbox, if the host has one (an older host leaves hot_addr 0). */
static volatile struct glint_abi_hot *hot_box(void)
{
    return boot->hot_addr == GLINT_ABI_HOT_ADDR
               ? (volatile struct glint_abi_hot *)GLINT_ABI_HOT_ADDR
               : NULL;
}

/* Hot mode (docs/abi.md): serve each new request the host publishes in the
 * mailbox without exiting, spinning with `pause` in between; return (to
 * park with an exit) when hot mode is turned off or no request came for the
 * host's window. The host's fields are trusted; done_seq is ours. */
static void hot_serve(volatile struct glint_abi_hot *h)
{
    uint64_t idle_since = read_tsc();
    while (h->magic == GLINT_ABI_HOT_MAGIC) {
        uint64_t seq = __atomic_load_n(&h->req_seq, __ATOMIC_ACQUIRE);
        if (seq != h->done_seq) {
            dispatch();
            __atomic_store_n(&h->done_seq, seq, __ATOMIC_RELEASE);
            if (h->flags & GLINT_ABI_HOT_PARK_AFTER_RESULT)
                return; /* the host restores this sandbox next */
            idle_since = read_tsc();
            continue;
        }
        if (read_tsc() - idle_since >= h->window_tsc)
            return;
        __asm__ volatile("pause" ::: "memory");
    }
}

void glint__start(void)
{
    if (boot->magic != GLINT_ABI_BOOT_MAGIC || boot->abi_version != GLINT_ABI_VERSION)
        glint_guest_abort(-3, "boot information has the wrong magic or ABI version");
    glint__heap_init((void *)(uintptr_t)boot->heap_addr, (size_t)boot->heap_size);
    error_text[0] = 0;
    int rc = glint_guest_init ? glint_guest_init() : 0;
    if (rc != 0 && !error_text[0])
        glint_guest_error(rc, "glint_guest_init failed with code %d", rc);
    write_result(rc, NULL);
    /* Each `out` on the DONE port is a result (exit mode) or a park (hot
     * mode); on resuming, the mailbox says which mode the host is in, and in
     * exit mode whether a new call is in the input buffer (a resume without
     * one parks again instead of taking old input for a call). */
    for (;;) {
        exit_to_host(GLINT_ABI_PORT_DONE);
        volatile struct glint_abi_hot *h = hot_box();
        if (!h) {
            dispatch(); /* an older host: every resume is a call */
        } else if (h->magic == GLINT_ABI_HOT_MAGIC) {
            hot_serve(h);
        } else if (h->call_seq != h->call_seen) {
            h->call_seen = h->call_seq;
            dispatch();
        }
    }
}
