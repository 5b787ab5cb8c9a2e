/* Image-file rows: loading a .gimg against loading the ELF, cold starts, and process start to
 * result. */
#include <glint.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "raw_kvm.h"
#include "stats.h"

extern char **environ;

static const char handler[] = "served = 0\n"
                              "function handle(who) served = served + 1; return 'hello, ' .. who "
                              "end\n";

static glint_image *load(const char *path, const glint_config *cfg)
{
    glint_image *img;
    int rc = glint_image_load_file(path, cfg, NULL, &img);
    if (rc)
        die_glint(path, rc);
    return img;
}

/* lua.elf loaded, Load(handler) run once, and the derived image. */
static glint_image *lua_loaded(const char *guest, const glint_config *cfg)
{
    glint_image *img = load(guest, cfg), *derived;
    glint_sandbox *sb;
    glint_value s = glint_string(handler);
    int rc;
    if ((rc = glint_sandbox_create(img, NULL, &sb)) ||
        (rc = glint_sandbox_call(sb, "Load", &s, 1, NULL)) ||
        (rc = glint_image_derive(sb, &derived)))
        die_glint("lua Load + derive", rc);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    return derived;
}

static void save(const glint_image *img, const char *path)
{
    int rc = glint_image_save(img, path);
    if (rc)
        die_glint(path, rc);
}

/* posix_spawn argv (stdout and stderr to /dev/null) and wait: microseconds, or -1 on failure. */
static double spawn_us(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
    pid_t pid;
    int status = -1;
    double t = now_us();
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    if (rc == 0)
        waitpid(pid, &status, 0);
    double us = now_us() - t;
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? us : -1;
}

static void spawn_row(struct row *r, char *const argv[], int runs)
{
    for (int i = 0; i < runs; i++) {
        double us = spawn_us(argv);
        if (us < 0) {
            fprintf(stderr, "bench: %s %s failed\n", argv[0], argv[1]);
            exit(1);
        }
        row_add(r, us);
    }
}

void bench_image_file(const char *hello, const char *lua_guest, const char *glint_cli, int iters)
{
    char dir[] = "/tmp/glint-bench-gimg-XXXXXX";
    if (!mkdtemp(dir))
        die("cannot make a temporary directory");
    char hello_gimg[64], lua_gimg[64], script[64];
    snprintf(hello_gimg, sizeof hello_gimg, "%s/hello.gimg", dir);
    snprintf(lua_gimg, sizeof lua_gimg, "%s/lua.gimg", dir);
    snprintf(script, sizeof script, "%s/handler.lua", dir);
    int loads = iters < 20 ? iters : 20, runs = iters < 10 ? iters : 10;
    if (loads < 3)
        loads = runs = 3;

    struct row *elf = row_new("image_elf_load", "glint: hello.elf: read + validate + build + init");
    struct row *file =
        row_new("image_file_load", "glint: hello.gimg: check + map, ready for sandboxes");
    struct row *lelf = row_new("image_elf_load_lua_script",
                               "glint: lua.elf load + sandbox + Load(handler) + derive");
    struct row *lfile =
        row_new("image_file_load_lua_script", "glint: lua.gimg (handler loaded): check + map");
    struct row *raw_c =
        row_new("image_file_raw_create", "KVM: VM + slot + vCPU (floor, this group)");
    struct row *raw_f =
        row_new("image_file_raw_first_run", "KVM: first KVM_RUN (floor, this group)");
    struct row *cold =
        row_new("cold_from_image_file", "glint: hello.gimg load + sandbox create + first Echo");
    raw_c->is_floor = raw_f->is_floor = 1;
    row_floor(file, elf, 1, 0, "image_elf_load");
    row_floor(lfile, lelf, 1, 0, "image_elf_load_lua_script");

    glint_config lcfg;
    glint_config_init(&lcfg);
    lcfg.heap_size = 16 << 20;
    glint_image *img = load(hello, NULL);
    save(img, hello_gimg);
    glint_image_destroy(img);
    img = lua_loaded(lua_guest, &lcfg);
    save(img, lua_gimg);
    glint_image_destroy(img);
    if (raw_prepare() != 0)
        die("cannot prepare the raw-KVM floor VM");
    glint_value hi = glint_string("hello"), ret;
    for (int i = 0; i < loads; i++) { /* interleaved, so that noise hits both alike */
        double t = now_us();
        img = load(hello, NULL);
        row_add(elf, now_us() - t);
        glint_image_destroy(img);
        t = now_us();
        img = load(hello_gimg, NULL);
        row_add(file, now_us() - t);
        glint_image_destroy(img);
        t = now_us();
        img = lua_loaded(lua_guest, &lcfg);
        row_add(lelf, now_us() - t);
        glint_image_destroy(img);
        t = now_us();
        img = load(lua_gimg, NULL);
        row_add(lfile, now_us() - t);
        glint_image_destroy(img);

        struct raw_vm vm;
        t = now_us();
        if (raw_create(&vm) != 0)
            die("raw create failed");
        double t1 = now_us();
        if (raw_call(&vm) != 0)
            die("raw first run failed");
        row_add(raw_c, t1 - t);
        row_add(raw_f, now_us() - t1);
        raw_destroy(&vm);
        glint_sandbox *sb;
        t = now_us();
        img = load(hello_gimg, NULL);
        int rc = glint_sandbox_create(img, NULL, &sb);
        if (rc || (rc = glint_sandbox_call(sb, "Echo", &hi, 1, &ret)))
            die_glint("cold from image file", rc);
        row_add(cold, now_us() - t);
        glint_sandbox_destroy(sb);
        glint_image_destroy(img);
    }
    row_floor(cold, raw_c, 1, row_median(raw_f), "raw_create+raw_first_run");

    /* Process start to first call result: `glint run` on the ELF and on the image file. */
    struct row *pelf =
        row_new("process_first_call_elf", "glint run hello.elf Echo hi (spawn to exit)");
    struct row *pfile =
        row_new("process_first_call_file", "glint run hello.gimg Echo hi (spawn to exit)");
    struct row *plelf = row_new("process_first_call_lua_elf",
                                "glint run --load handler.lua lua.elf Call handle (spawn to exit)");
    struct row *plfile =
        row_new("process_first_call_lua_file", "glint run lua.gimg Call handle (spawn to exit)");
    row_floor(pfile, pelf, 1, 0, "process_first_call_elf");
    row_floor(plfile, plelf, 1, 0, "process_first_call_lua_elf");
    FILE *f = fopen(script, "w");
    if (!f || fputs(handler, f) < 0 || fclose(f) != 0)
        die("cannot write the handler script");
    char cli[512], elf_path[512], lua_path[512]; /* argv wants char *, the arguments are const */
    snprintf(cli, sizeof cli, "%s", glint_cli);
    snprintf(elf_path, sizeof elf_path, "%s", hello);
    snprintf(lua_path, sizeof lua_path, "%s", lua_guest);
    char *a1[] = {cli, "run", elf_path, "Echo", "hi", NULL};
    char *a2[] = {cli, "run", hello_gimg, "Echo", "hi", NULL};
    char *a3[] = {cli,      "run",  "--heap", "16M",       "--load", script,
                  lua_path, "Call", "handle", "[\"ada\"]", NULL};
    char *a4[] = {cli, "run", lua_gimg, "Call", "handle", "[\"ada\"]", NULL};
    for (int i = 0; i < runs; i++) {
        spawn_row(pelf, a1, 1);
        spawn_row(pfile, a2, 1);
        spawn_row(plelf, a3, 1);
        spawn_row(plfile, a4, 1);
    }
    unlink(hello_gimg);
    unlink(lua_gimg);
    unlink(script);
    rmdir(dir);
}
