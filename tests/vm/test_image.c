/* VM tests: image loading (init, malformed ELF, config), export lists and sharing across threads.
 */
#include <criterion/criterion.h>

#include <linux/elf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

TestSuite(vm_image, .timeout = 120);

/* ---- guest initialisation ------------------------------------------------------- */

Test(vm_image, init_failure_fails_load)
{
    vm_require_kvm();
    char path[4096];
    vm_test_guest_path(path, sizeof path, "initfail");
    glint_image *img = NULL;
    int rc = glint_image_load_file(path, NULL, NULL, &img);
    cr_assert_eq(rc, GLINT_EGUEST, "got %s: %s", glint_strerror(rc), glint_errmsg());
    cr_assert(vm_contains(glint_errmsg(), "init says no"), "%s", glint_errmsg());
    cr_assert_null(img);
}

Test(vm_image, init_fault_fails_load)
{
    vm_require_kvm();
    char path[4096];
    vm_test_guest_path(path, sizeof path, "initfault");
    glint_image *img = NULL;
    int rc = glint_image_load_file(path, NULL, NULL, &img);
    cr_assert_eq(rc, GLINT_EFAULT, "got %s: %s", glint_strerror(rc), glint_errmsg());
    cr_assert(vm_contains(glint_errmsg(), "null"), "%s", glint_errmsg());
    cr_assert_null(img);
}

Test(vm_image, init_timeout_fails_load)
{
    vm_require_kvm();
    char path[4096];
    vm_test_guest_path(path, sizeof path, "initspin");
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.timeout_ms = 100;
    glint_image *img = NULL;
    double t0 = vm_now_ms();
    int rc = glint_image_load_file(path, &cfg, NULL, &img);
    double ms = vm_now_ms() - t0;
    cr_assert_eq(rc, GLINT_ETIMEDOUT, "got %s: %s", glint_strerror(rc), glint_errmsg());
    cr_assert(ms >= 90 && ms < 2000, "init timed out after %.1f ms", ms);
    cr_assert_null(img);
}

Test(vm_image, init_prints_once_and_state_is_snapshotted)
{
    vm_require_kvm();
    struct vm_capture cap;
    vm_capture_init(&cap);
    glint_host_fns *fns = vm_host_fns(&cap);
    glint_image *img = vm_load_test("initprint", NULL, fns);
    cr_assert_str_eq(cap.text, "init ran 1\n");
    cr_assert_eq(cap.prints, 1);
    for (int i = 0; i < 3; i++) {
        glint_sandbox *sb = vm_sandbox(img, NULL);
        glint_value r;
        cr_assert_eq(glint_sandbox_call(sb, "Initialised", NULL, 0, &r), 0, "%s", glint_errmsg());
        cr_assert_eq(r.as.i32, 7, "sandbox %d sees %d", i, r.as.i32);
        cr_assert_eq(glint_sandbox_call(sb, "Initialised", NULL, 0, &r), 0, "%s", glint_errmsg());
        cr_assert_eq(r.as.i32, 8);
        glint_sandbox_destroy(sb);
    }
    cr_assert_eq(cap.prints, 1, "init runs once per image, not per sandbox");
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

/* ---- malformed ELF and bad configuration (no VM is needed to reject these) ------------------ */

static void expect_load_error(const void *p, size_t n, const glint_config *cfg, int err)
{
    glint_image *img = NULL;
    int rc = glint_image_load_memory(p, n, cfg, NULL, &img);
    cr_assert_eq(rc, err, "%zu bytes: expected %s, got %s: %s", n, glint_strerror(err),
                 glint_strerror(rc), glint_errmsg());
    cr_assert_null(img);
    cr_assert(glint_errmsg()[0] != 0, "no error message");
}

Test(vm_image, garbage_bytes)
{
    uint8_t junk[4096];
    uint32_t x = 0x2545f491u;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        junk[i] = (uint8_t)x;
    }
    expect_load_error(junk, sizeof junk, NULL, GLINT_EELF);
    expect_load_error(junk, 1, NULL, GLINT_EELF);
    expect_load_error("", 0, NULL, GLINT_EELF);
    /* ELF magic followed by garbage. */
    memcpy(junk,
           "\x7f"
           "ELF",
           4);
    expect_load_error(junk, sizeof junk, NULL, GLINT_EELF);
}

static uint8_t *read_hello(size_t *len)
{
    char path[4096];
    vm_example_guest_path(path, sizeof path, "hello");
    return vm_read_file(path, len);
}

Test(vm_image, truncated_elf)
{
    size_t len;
    uint8_t *elf = read_hello(&len);
    Elf64_Ehdr eh;
    cr_assert(len > sizeof eh);
    memcpy(&eh, elf, sizeof eh);
    /* End of the loaded and note data: the file must reach at least that far. */
    uint64_t need = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, elf + eh.e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
        if ((ph.p_type == PT_LOAD || ph.p_type == PT_NOTE) && ph.p_offset + ph.p_filesz > need)
            need = ph.p_offset + ph.p_filesz;
    }
    cr_assert(need > 0 && need <= len);
    const size_t cuts[] = {4,        sizeof eh - 1, sizeof eh, eh.e_phoff + sizeof(Elf64_Phdr),
                           need / 2, need - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        uint8_t *copy = malloc(cuts[i]);
        memcpy(copy, elf, cuts[i]);
        expect_load_error(copy, cuts[i], NULL, GLINT_EELF);
        free(copy);
    }
    free(elf);
}

Test(vm_image, corrupted_header_fields)
{
    size_t len;
    uint8_t *elf = read_hello(&len);
    Elf64_Ehdr *eh = malloc(sizeof *eh);
    memcpy(eh, elf, sizeof *eh);
    const struct {
        size_t off;
        uint8_t val;
    } pokes[] = {
        {offsetof(Elf64_Ehdr, e_ident) + EI_CLASS, ELFCLASS32},
        {offsetof(Elf64_Ehdr, e_ident) + EI_DATA, ELFDATA2MSB},
        {offsetof(Elf64_Ehdr, e_type), ET_DYN},
        {offsetof(Elf64_Ehdr, e_machine), 0x28 /* ARM */},
        {offsetof(Elf64_Ehdr, e_phentsize), 1},
        {offsetof(Elf64_Ehdr, e_phoff) + 3, 0x7f},
    };
    for (size_t i = 0; i < sizeof pokes / sizeof pokes[0]; i++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, elf, len);
        copy[pokes[i].off] = pokes[i].val;
        expect_load_error(copy, len, NULL, GLINT_EELF);
        free(copy);
    }
    free(eh);
    free(elf);
}

Test(vm_image, bad_config)
{
    size_t len;
    uint8_t *elf = read_hello(&len);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = GLINT_HEAP_SIZE_MAX + 1; /* (0 is "not set": the default) */
    expect_load_error(elf, len, &cfg, GLINT_EINVAL);
    glint_config_init(&cfg);
    cfg.stack_size = 1024;
    expect_load_error(elf, len, &cfg, GLINT_EINVAL);
    glint_config_init(&cfg);
    cfg.input_size = 32ull << 20;
    expect_load_error(elf, len, &cfg, GLINT_EINVAL);
    glint_config_init(&cfg);
    cfg.output_size = GLINT_BUFFER_SIZE_MAX + 1;
    expect_load_error(elf, len, &cfg, GLINT_EINVAL);
    glint_config_init(&cfg);
    cfg.heap_size = 1ull << 40;
    expect_load_error(elf, len, &cfg, GLINT_EINVAL);
    glint_config_init(&cfg);
    cfg.struct_size = 0; /* not initialised with glint_config_init */
    expect_load_error(elf, len, &cfg, GLINT_EINVAL);
    glint_image *img = NULL;
    cr_assert_eq(glint_image_load_memory(NULL, len, NULL, NULL, &img), GLINT_EINVAL);
    cr_assert_eq(glint_image_load_memory(elf, len, NULL, NULL, NULL), GLINT_EINVAL);
    cr_assert_eq(glint_image_load_file(NULL, NULL, NULL, &img), GLINT_EINVAL);
    cr_assert_eq(glint_image_load_file("/nonexistent/guest.elf", NULL, NULL, &img), GLINT_EIO);
    cr_assert_null(img);
    free(elf);
}

Test(vm_image, load_from_memory_works)
{
    vm_require_kvm();
    size_t len;
    uint8_t *elf = read_hello(&len);
    glint_image *img = NULL;
    int rc = glint_image_load_memory(elf, len, NULL, NULL, &img);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    free(elf); /* the image must not keep pointers into the caller's bytes */
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value args[2] = {glint_i32(40), glint_i32(2)}, r;
    cr_assert_eq(glint_sandbox_call(sb, "Add", args, 2, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.i32, 42);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

/* ---- export list -------------------------------------------------------------------------- */

Test(vm_image, exports_without_kvm)
{
    char path[4096];
    vm_test_guest_path(path, sizeof path, "types");
    glint_exports *ex = NULL;
    cr_assert_eq(glint_exports_read_file(path, &ex), 0, "%s", glint_errmsg());
    static const char *const names[] = {
        "EchoI32",        "EchoU32",    "EchoI64",          "EchoU64",   "EchoF32",
        "EchoF64",        "EchoBool",   "EchoString",       "EchoBytes", "Sum16",
        "Mixed16",        "StringLen",  "MakeString",       "MakeBytes", "ReturnError",
        "Counter",        "HeapStress", "PrintMany",        "CallHost",  "CallHostWrongSig",
        "CallHostString", "SpinLoops",  "CallHostThenSpin",
    };
    cr_assert_eq(glint_exports_count(ex), sizeof names / sizeof names[0]);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        glint_function_info info;
        cr_assert_eq(glint_exports_find(ex, names[i], &info), 0, "%s missing", names[i]);
        cr_assert_str_eq(info.name, names[i]);
    }
    glint_function_info info;
    cr_assert_eq(glint_exports_find(ex, "CallHost", &info), 0);
    cr_assert_eq(info.ret, GLINT_I64);
    cr_assert_eq(info.nparams, 3);
    cr_assert_eq(info.params[0], GLINT_STRING);
    cr_assert_eq(glint_exports_find(ex, "PrintMany", &info), 0);
    cr_assert_eq(info.ret, GLINT_VOID);
    cr_assert_neq(glint_exports_find(ex, "Nope", &info), 0);
    glint_exports_destroy(ex);
}

/* ---- one image, many sandboxes, many threads ---------------------------------------------- */

#define THREADS    4
#define PER_THREAD 2
#define CALLS      300

struct worker {
    glint_image *img;
    glint_sandbox *sb[PER_THREAD]; /* NULL: the thread creates its own */
    int id;
    int failures;
    char first[512];
};

/* Criterion asserts are for the test's own thread: workers only count and remember. */
static void fail(struct worker *w, const char *what, int rc, long i)
{
    if (w->failures++ == 0)
        snprintf(w->first, sizeof w->first, "%s rc %d at %ld: %s", what, rc, i, glint_errmsg());
}

static void *work(void *arg)
{
    struct worker *w = arg;
    glint_sandbox *sb[PER_THREAD];
    for (int k = 0; k < PER_THREAD; k++) {
        sb[k] = w->sb[k];
        if (!sb[k] && glint_sandbox_create(w->img, NULL, &sb[k]) != 0) {
            fail(w, "create", -1, k);
            return NULL;
        }
    }
    char text[64];
    for (long i = 0; i < CALLS; i++) {
        for (int k = 0; k < PER_THREAD; k++) {
            glint_value r;
            int64_t v = (int64_t)w->id * 1000000 + k * 100000 + i;
            glint_value a = glint_i64(v);
            int rc = glint_sandbox_call(sb[k], "EchoI64", &a, 1, &r);
            if (rc || r.as.i64 != v)
                fail(w, "EchoI64", rc, i);
            rc = glint_sandbox_call(sb[k], "Counter", NULL, 0, &r);
            if (rc || r.as.i64 != i + 1)
                fail(w, "Counter", rc, i);
            int n = snprintf(text, sizeof text, "t%d s%d call %ld", w->id, k, i);
            a = glint_string_n(text, (size_t)n);
            rc = glint_sandbox_call(sb[k], "EchoString", &a, 1, &r);
            if (rc || r.as.str.len != (size_t)n || memcmp(r.as.str.ptr, text, (size_t)n) != 0)
                fail(w, "EchoString", rc, i);
            glint_value h[3] = {glint_string("HostAdd"), glint_i64(v), glint_i64(i)};
            rc = glint_sandbox_call(sb[k], "CallHost", h, 3, &r);
            if (rc || r.as.i64 != v + i)
                fail(w, "CallHost", rc, i);
        }
    }
    for (int k = 0; k < PER_THREAD; k++)
        if (!w->sb[k])
            glint_sandbox_destroy(sb[k]);
    return NULL;
}

static void run_workers(bool create_in_threads)
{
    vm_require_kvm();
    glint_host_fns *fns = vm_host_fns(NULL);
    glint_image *img = vm_load_test("types", NULL, fns);
    glint_host_fns_destroy(fns);
    struct worker w[THREADS];
    pthread_t th[THREADS];
    memset(w, 0, sizeof w);
    for (int t = 0; t < THREADS; t++) {
        w[t].img = img;
        w[t].id = t;
        if (!create_in_threads)
            for (int k = 0; k < PER_THREAD; k++)
                w[t].sb[k] = vm_sandbox(img, NULL);
    }
    for (int t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, work, &w[t]), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++) {
        cr_expect_eq(w[t].failures, 0, "thread %d: %d failures, first: %s", t, w[t].failures,
                     w[t].first);
        for (int k = 0; k < PER_THREAD; k++)
            glint_sandbox_destroy(w[t].sb[k]);
    }
    glint_image_destroy(img);
}

Test(vm_image, shared_image_sandboxes_made_in_threads)
{
    run_workers(true);
}

Test(vm_image, shared_image_sandboxes_moved_to_threads)
{
    run_workers(false);
}
