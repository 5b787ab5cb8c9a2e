/* VM tests for image files: save, load (also in a new process), same results, host functions,
 * config. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glint/abi.h"
#include "helpers.h"

static char dir[256];

/* Remove the test's directory and what it holds. */
static void remove_dir(void)
{
    if (!dir[0])
        return;
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[600];
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

TestSuite(vm_image_file, .timeout = 120, .fini = remove_dir);

/* A fresh directory for this test's files; path of NAME inside it. */
static const char *tmp_path(const char *name)
{
    static char path[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/glint-gimg-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        cr_assert_not_null(mkdtemp(dir));
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void save(const glint_image *img, const char *path)
{
    int rc = glint_image_save(img, path);
    cr_assert_eq(rc, 0, "glint_image_save(%s): %s (%s)", path, glint_strerror(rc), glint_errmsg());
}

static glint_image *load_file(const char *path, const glint_config *cfg, const glint_host_fns *fns)
{
    glint_image *img = NULL;
    int rc = glint_image_load_file(path, cfg, fns, &img);
    cr_assert_eq(rc, 0, "glint_image_load_file(%s): %s (%s)", path, glint_strerror(rc),
                 glint_errmsg());
    return img;
}

static void expect_load_fails(const char *path, const glint_config *cfg, const glint_host_fns *fns,
                              int code, const char *needle)
{
    glint_image *img = NULL;
    int rc = glint_image_load_file(path, cfg, fns, &img);
    cr_assert_eq(rc, code, "load %s: rc %d (%s), want %d", path, rc, glint_errmsg(), code);
    cr_assert(vm_contains(glint_errmsg(), needle), "message \"%s\" lacks \"%s\"", glint_errmsg(),
              needle);
    cr_assert_null(img);
}

/* A string result as a malloc'd C string. */
static char *call_str(glint_sandbox *sb, const char *fn, const glint_value *args, size_t n)
{
    glint_value r = vm_call_ok(sb, fn, args, n);
    cr_assert_eq(r.type, GLINT_STRING, "%s returned type %d", fn, r.type);
    return strndup(r.as.str.ptr, r.as.str.len);
}

static void expect_str(glint_sandbox *sb, const char *fn, const glint_value *args, size_t n,
                       const char *want)
{
    char *got = call_str(sb, fn, args, n);
    cr_assert_str_eq(got, want, "%s", fn);
    free(got);
}

static int multiply(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    *ret = glint_i64(args[0].as.i64 * args[1].as.i64);
    return 0;
}

Test(vm_image_file, hello_round_trip_gives_the_elfs_results)
{
    vm_require_kvm();
    glint_image *elf = vm_load_example("hello", NULL, NULL);
    save(elf, tmp_path("hello.gimg"));
    glint_image *file = load_file(tmp_path("hello.gimg"), NULL, NULL);
    glint_sandbox *a = vm_sandbox(elf, NULL), *b = vm_sandbox(file, NULL);
    glint_value s = glint_string("round trip");
    char *ea = call_str(a, "Echo", &s, 1), *da = call_str(a, "Describe", &s, 1);
    expect_str(b, "Echo", &s, 1, ea);
    expect_str(b, "Describe", &s, 1, da);
    glint_value ab[2] = {glint_i32(40), glint_i32(2)};
    cr_assert_eq(vm_call_ok(b, "Add", ab, 2).as.i32, vm_call_ok(a, "Add", ab, 2).as.i32);
    /* The exports are the ELF's, in order, with their signatures. */
    const glint_exports *xe = glint_image_exports(elf), *xf = glint_image_exports(file);
    cr_assert_eq(glint_exports_count(xf), glint_exports_count(xe));
    for (size_t k = 0; k < glint_exports_count(xe); k++) {
        glint_function_info fe, ff;
        cr_assert_eq(glint_exports_get(xe, k, &fe), 0);
        cr_assert_eq(glint_exports_get(xf, k, &ff), 0);
        cr_assert_str_eq(ff.name, fe.name);
        cr_assert_eq(ff.ret, fe.ret);
        cr_assert_eq(ff.nparams, fe.nparams);
        cr_assert_arr_eq(ff.params, fe.params, fe.nparams * sizeof fe.params[0]);
    }
    free(ea);
    free(da);
    glint_sandbox_destroy(a);
    glint_sandbox_destroy(b);
    glint_image_destroy(elf);
    glint_image_destroy(file);
}

/* The file keeps what the guest's features note said: its sandboxes serve hot calls, as the
 * ELF's do; a derived image (exit-mode calls before it, so its mailbox page holds their
 * handshake) too. */
Test(vm_image_file, hot_mode_works_on_images_from_files)
{
    vm_require_kvm();
    glint_image *elf = vm_load_example("hello", NULL, NULL);
    glint_sandbox *warm = vm_sandbox(elf, NULL);
    glint_value ab[2] = {glint_i32(40), glint_i32(2)};
    cr_assert_eq(vm_call_ok(warm, "Add", ab, 2).as.i32, 42);
    glint_image *derived = NULL;
    cr_assert_eq(glint_image_derive(warm, &derived), 0, "%s", glint_errmsg());
    save(elf, tmp_path("hot.gimg"));
    save(derived, tmp_path("hot-derived.gimg"));
    const char *files[] = {"hot.gimg", "hot-derived.gimg"};
    for (size_t i = 0; i < 2; i++) {
        glint_image *file = load_file(tmp_path(files[i]), NULL, NULL);
        glint_sandbox *sb = vm_sandbox(file, NULL);
        vm_go_hot(sb, 0);
        glint_hot_status st;
        for (int k = 0; k < 3; k++)
            cr_assert_eq(vm_call_ok(sb, "Add", ab, 2).as.i32, 42);
        glint_sandbox_hot_status(sb, &st);
        cr_assert_geq(st.calls, 3, "%s: the calls went through the mailbox", files[i]);
        glint_sandbox_destroy(sb);
        glint_image_destroy(file);
    }
    glint_sandbox_destroy(warm);
    glint_image_destroy(derived);
    glint_image_destroy(elf);
}

Test(vm_image_file, a_new_process_loads_the_file_and_gets_the_same_results)
{
    vm_require_kvm();
    glint_image *elf = vm_load_example("hello", NULL, NULL);
    save(elf, tmp_path("child.gimg"));
    glint_sandbox *a = vm_sandbox(elf, NULL);
    glint_value s = glint_string("from a child");
    char *want = call_str(a, "Describe", &s, 1);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) { /* the child: nothing of the parent's image, only the file */
        close(fds[0]);
        glint_image *img = NULL;
        glint_sandbox *sb = NULL;
        glint_value r;
        char out[512] = "load failed";
        if (glint_image_load_file(tmp_path("child.gimg"), NULL, NULL, &img) == 0 &&
            glint_sandbox_create(img, NULL, &sb) == 0 &&
            glint_sandbox_call(sb, "Describe", &s, 1, &r) == 0 && r.type == GLINT_STRING)
            snprintf(out, sizeof out, "%.*s", (int)r.as.str.len, r.as.str.ptr);
        else
            snprintf(out, sizeof out, "error: %s", glint_errmsg());
        ssize_t w = write(fds[1], out, strlen(out));
        _exit(w == (ssize_t)strlen(out) ? 0 : 1);
    }
    close(fds[1]);
    char got[512] = {0};
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], got + n, sizeof got - 1 - n)) > 0)
        n += (size_t)r;
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
    cr_assert_str_eq(got, want);
    free(want);
    glint_sandbox_destroy(a);
    glint_image_destroy(elf);
}

/* Load(script) in a sandbox of the runtime, derive, save; load the file. */
static void runtime_round_trip(const char *runtime, const char *script, const char *args,
                               const char *want_first, const char *want_second)
{
    vm_require_kvm();
    glint_image *elf = vm_load_example(runtime, NULL, NULL);
    glint_sandbox *sb = vm_sandbox(elf, NULL);
    glint_value a = glint_string(script);
    vm_call_ok(sb, "Load", &a, 1);
    glint_image *derived = NULL;
    cr_assert_eq(glint_image_derive(sb, &derived), 0, "%s", glint_errmsg());
    save(derived, tmp_path("rt.gimg"));
    glint_image *file = load_file(tmp_path("rt.gimg"), NULL, NULL);
    glint_sandbox *d = vm_sandbox(derived, NULL), *f = vm_sandbox(file, NULL);
    glint_value call[2] = {glint_string("handle"), glint_string(args)};
    char *from_elf = call_str(d, "Call", call, 2);
    cr_assert_str_eq(from_elf, want_first);
    expect_str(f, "Call", call, 2, from_elf);
    /* The script's state lives on in the sandbox until it is restored ... */
    expect_str(f, "Call", call, 2, want_second);
    /* ... and a restore goes back exactly to the file's state. */
    cr_assert_eq(glint_sandbox_restore(f, NULL), 0, "%s", glint_errmsg());
    expect_str(f, "Call", call, 2, want_first);
    /* A derived image of a file image saves and loads again. */
    cr_assert_eq(glint_sandbox_restore(f, NULL), 0, "%s", glint_errmsg());
    glint_image *again = NULL;
    cr_assert_eq(glint_image_derive(f, &again), 0, "%s", glint_errmsg());
    save(again, tmp_path("rt2.gimg"));
    glint_image *file2 = load_file(tmp_path("rt2.gimg"), NULL, NULL);
    glint_sandbox *f2 = vm_sandbox(file2, NULL);
    expect_str(f2, "Call", call, 2, want_first);
    free(from_elf);
    glint_sandbox_destroy(f2);
    glint_sandbox_destroy(f);
    glint_sandbox_destroy(d);
    glint_sandbox_destroy(sb);
    glint_image_destroy(file2);
    glint_image_destroy(again);
    glint_image_destroy(file);
    glint_image_destroy(derived);
    glint_image_destroy(elf);
}

Test(vm_image_file, lua_with_a_loaded_handler_round_trips_and_restores_exactly)
{
    runtime_round_trip("lua", "n = 0\nfunction handle(who) n = n + 1; return who .. ':' .. n end",
                       "[\"bob\"]", "\"bob:1\"", "\"bob:2\"");
}

Test(vm_image_file, js_with_a_loaded_handler_round_trips_and_restores_exactly)
{
    runtime_round_trip("js", "var n = 0; function handle(who) { n++; return who + ':' + n; }",
                       "[\"bob\"]", "\"bob:1\"", "\"bob:2\"");
}

Test(vm_image_file, host_functions_the_file_expects_must_be_in_the_registry)
{
    vm_require_kvm();
    glint_host_fns *mul = vm_host_fns_one("Multiply", multiply, NULL);
    glint_image *elf = vm_load_example("hello", NULL, mul);
    save(elf, tmp_path("mul.gimg"));
    expect_load_fails(tmp_path("mul.gimg"), NULL, NULL, GLINT_ENOFUNC,
                      "expects host function 'Multiply' i64(i64,i64)");
    glint_host_fns *other = NULL;
    cr_assert_eq(glint_host_fns_create(&other), 0);
    static const glint_type one[] = {GLINT_I32};
    cr_assert_eq(glint_host_fns_add(other, "Multiply", GLINT_I64, one, 1, multiply, NULL), 0);
    expect_load_fails(tmp_path("mul.gimg"), NULL, other, GLINT_ESIG,
                      "'Multiply' i64(i64,i64), but the registry has i64(i32)");
    glint_image *file = load_file(tmp_path("mul.gimg"), NULL, mul);
    glint_sandbox *sb = vm_sandbox(file, NULL);
    glint_value ab[2] = {glint_i64(6), glint_i64(7)};
    cr_assert_eq(vm_call_ok(sb, "MultiplyOnHost", ab, 2).as.i64, 42);
    glint_exports *expected = NULL;
    glint_image_file_info info;
    cr_assert_eq(glint_image_file_info_read(tmp_path("mul.gimg"), &info, &expected), 0);
    cr_assert_eq(glint_exports_count(expected), 1);
    glint_function_info fi;
    cr_assert_eq(glint_exports_get(expected, 0, &fi), 0);
    cr_assert_str_eq(fi.name, "Multiply");
    glint_exports_destroy(expected);
    glint_sandbox_destroy(sb);
    glint_image_destroy(file);
    glint_image_destroy(elf);
    glint_host_fns_destroy(other);
    glint_host_fns_destroy(mul);
}

Test(vm_image_file, sizes_come_from_the_file_timeout_and_budget_from_the_caller)
{
    vm_require_kvm();
    glint_config c;
    glint_config_init(&c);
    c.heap_size = 256 << 10;
    c.timeout_ms = 777;
    glint_image *elf = vm_load_example("hello", &c, NULL);
    save(elf, tmp_path("cfg.gimg"));
    glint_config other;
    glint_config_init(&other);
    other.heap_size = 512 << 10;
    expect_load_fails(tmp_path("cfg.gimg"), &other, NULL, GLINT_EINVAL,
                      "heap_size 524288 differs from the image file's 262144");
    other.heap_size = 0;
    other.timeout_ms = 5;
    glint_image *img = load_file(tmp_path("cfg.gimg"), &other, NULL);
    glint_config used;
    glint_config_init(&used);
    cr_assert_eq(glint_image_config(img, &used), 0);
    cr_assert_eq(used.heap_size, 256 << 10);
    cr_assert_eq(used.timeout_ms, 5);
    glint_image_destroy(img);
    img = load_file(tmp_path("cfg.gimg"), NULL, NULL);
    glint_config_init(&used);
    cr_assert_eq(glint_image_config(img, &used), 0);
    cr_assert_eq(used.timeout_ms, 777, "a NULL config takes the file's timeout");
    glint_image_destroy(img);
    glint_image_destroy(elf);
}

Test(vm_image_file, exports_and_info_are_read_without_kvm_work)
{
    vm_require_kvm();
    glint_image *elf = vm_load_example("hello", NULL, NULL);
    save(elf, tmp_path("info.gimg"));
    glint_exports *ex = NULL;
    cr_assert_eq(glint_exports_read_file(tmp_path("info.gimg"), &ex), 0, "%s", glint_errmsg());
    glint_function_info fi;
    cr_assert_eq(glint_exports_find(ex, "Echo", &fi), 0);
    glint_exports_destroy(ex);
    glint_image_file_info info;
    cr_assert_eq(glint_image_file_info_read(tmp_path("info.gimg"), &info, NULL), 0);
    cr_assert_eq(info.format_version, 1);
    cr_assert_eq(info.abi_version, GLINT_ABI_VERSION);
    struct stat st;
    cr_assert_eq(stat(tmp_path("info.gimg"), &st), 0);
    cr_assert_eq(info.file_size, (uint64_t)st.st_size);
    cr_assert_gt(info.pages, 0);
    cr_assert_eq(info.file_size % 4096, 0);
    char elfpath[512];
    vm_example_guest_path(elfpath, sizeof elfpath, "hello");
    cr_assert_eq(glint_image_file_info_read(elfpath, &info, NULL), 0);
    cr_assert_eq(info.format_version, 0, "an ELF is not an image file");
    glint_image_destroy(elf);
}

Test(vm_image_file, save_replaces_atomically_and_old_loads_keep_their_pages)
{
    vm_require_kvm();
    glint_image *hello = vm_load_example("hello", NULL, NULL);
    glint_image *lua = vm_load_example("lua", NULL, NULL);
    save(hello, tmp_path("same.gimg"));
    glint_image *old = load_file(tmp_path("same.gimg"), NULL, NULL);
    save(lua, tmp_path("same.gimg")); /* replaces the file under the loaded image */
    glint_sandbox *sb = vm_sandbox(old, NULL);
    glint_value s = glint_string("still hello");
    expect_str(sb, "Echo", &s, 1, "still hello");
    glint_image *now = load_file(tmp_path("same.gimg"), NULL, NULL);
    glint_function_info fi;
    cr_assert_eq(glint_exports_find(glint_image_exports(now), "Eval", &fi), 0);
    /* No temporary file is left beside it. */
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert(!strstr(e->d_name, ".tmp."), "left over: %s", e->d_name);
    closedir(d);
    cr_assert_eq(glint_image_save(hello, "/nonexistent-dir/x.gimg"), GLINT_EIO);
    cr_assert(vm_contains(glint_errmsg(), "temporary file"), "%s", glint_errmsg());
    cr_assert_eq(glint_image_save(NULL, "x"), GLINT_EINVAL);
    glint_sandbox_destroy(sb);
    glint_image_destroy(now);
    glint_image_destroy(old);
    glint_image_destroy(lua);
    glint_image_destroy(hello);
}
