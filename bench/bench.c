/* `make bench`: glint's costs beside raw-KVM floors measured in the same run. */
#include <glint.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"
#include "raw_kvm.h"
#include "stats.h"

extern char **environ;

struct floors floors;

static void check(int ok, const char *what)
{
    if (!ok)
        die(what);
}

void die_glint(const char *what, int rc)
{
    fprintf(stderr, "bench: %s: %s: %s\n", what, glint_strerror(rc), glint_errmsg());
    exit(1);
}

static int multiply(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    ret->as.i64 = args[0].as.i64 * args[1].as.i64;
    return 0;
}

/* Raw floors, glint's core operations, and process spawning for scale. */
static void bench_core(const char *guest, int iters)
{
    check(raw_prepare() == 0, "cannot prepare the raw-KVM floor VM (is /dev/kvm usable?)");
    struct row *raw_create_r = row_new("raw_create", "KVM: VM + memory slot + vCPU + CPUID + regs");
    struct row *raw_first = row_new("raw_first_run", "KVM: first KVM_RUN of a new VM to `out`");
    struct row *raw_call_r =
        row_new("raw_warm_call", "KVM: KVM_SET_REGS + KVM_RUN to `out` (CPL3)");
    struct row *raw_resume_r =
        row_new("raw_exit_roundtrip", "KVM: KVM_RUN after `out` to next `out`");
    struct row *raw_destroy_r = row_new("raw_destroy", "KVM: close vCPU + VM, unmap memory");
    struct row *raw_copy =
        row_new("raw_page_copy", "memcpy of one 4 KiB page (restore floor unit)");
    raw_create_r->is_floor = raw_first->is_floor = raw_call_r->is_floor = 1;
    raw_resume_r->is_floor = raw_destroy_r->is_floor = raw_copy->is_floor = 1;
    floors.warm_call = raw_call_r;
    floors.roundtrip = raw_resume_r;
    floors.page_copy = raw_copy;
    floors.create = raw_create_r;
    struct row *spawn = row_new("process_spawn", "posix_spawn + waitpid of /bin/true");
    struct row *image =
        row_new("image_load", "glint: read + validate ELF + build + init + snapshot");
    struct row *cold = row_new("cold_sandbox_first_call", "glint: sandbox from image + first Echo");
    struct row *warm = row_new("warm_call", "glint: Echo(\"hello\") on a warm sandbox");
    floors.warm_echo = warm;
    struct row *host = row_new("host_call", "glint: call making one guest->host call");
    struct row *destroy =
        row_new("sandbox_destroy", "glint: destroy a sandbox (off the request path)");
    row_floor(warm, raw_call_r, 1, 0, "raw_warm_call");
    row_floor(destroy, raw_destroy_r, 1, 0, "raw_destroy");

    glint_host_fns *fns;
    static const glint_type p2[] = {GLINT_I64, GLINT_I64};
    int rc;
    if ((rc = glint_host_fns_create(&fns)) ||
        (rc = glint_host_fns_add(fns, "Multiply", GLINT_I64, p2, 2, multiply, NULL)))
        die_glint("host functions", rc);
    glint_image *img = NULL;
    for (int i = 0; i < 20; i++) {
        glint_image *tmp;
        double t = now_us();
        if ((rc = glint_image_load_file(guest, NULL, fns, &tmp)))
            die_glint(guest, rc);
        row_add(image, now_us() - t);
        if (img)
            glint_image_destroy(tmp);
        else
            img = tmp;
    }

    /* Cold paths: alternate raw and glint so both see the same machine. */
    int cold_iters = iters / 10 > 50 ? iters / 10 : 50;
    glint_value hello = glint_string("hello"), ret;
    static uint8_t page_a[4096], page_b[4096];
    for (int i = 0; i < cold_iters; i++) {
        struct raw_vm vm;
        double t = now_us();
        check(raw_create(&vm) == 0, "raw create failed");
        double t1 = now_us();
        check(raw_call(&vm) == 0, "raw first run failed");
        double t2 = now_us();
        raw_destroy(&vm);
        double t3 = now_us();
        row_add(raw_create_r, t1 - t);
        row_add(raw_first, t2 - t1);
        row_add(raw_destroy_r, t3 - t2);

        glint_sandbox *sb;
        t = now_us();
        if ((rc = glint_sandbox_create(img, NULL, &sb)) ||
            (rc = glint_sandbox_call(sb, "Echo", &hello, 1, &ret)))
            die_glint("cold sandbox", rc);
        t1 = now_us();
        glint_sandbox_destroy(sb);
        t2 = now_us();
        row_add(cold, t1 - t);
        row_add(destroy, t2 - t1);

        pid_t pid;
        char *argv[] = {"/bin/true", NULL};
        t = now_us();
        if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0) {
            waitpid(pid, NULL, 0);
            row_add(spawn, now_us() - t);
        }
    }

    /* Warm paths, interleaved. */
    struct raw_vm vm;
    check(raw_create(&vm) == 0 && raw_call(&vm) == 0, "raw warm VM failed");
    glint_sandbox *sb;
    if ((rc = glint_sandbox_create(img, NULL, &sb)))
        die_glint("sandbox", rc);
    glint_value mul[] = {glint_i64(6), glint_i64(7)};
    for (int i = 0; i < iters + 100; i++) {
        double t0 = now_us();
        check(raw_call(&vm) == 0, "raw call failed");
        double t1 = now_us();
        check(raw_resume(&vm) == 0, "raw resume failed");
        double t2 = now_us();
        if ((rc = glint_sandbox_call(sb, "Echo", &hello, 1, &ret)))
            die_glint("warm call", rc);
        double t3 = now_us();
        if ((rc = glint_sandbox_call(sb, "MultiplyOnHost", mul, 2, &ret)) || ret.as.i64 != 42)
            die_glint("host call", rc);
        double t4 = now_us();
        page_a[i % 4096]++;
        double t5 = now_us();
        memcpy(page_b, page_a, sizeof page_a);
        double t6 = now_us();
        __asm__ volatile("" : : "r"(page_b) : "memory");
        if (i < 100)
            continue; /* warm-up */
        row_add(raw_call_r, t1 - t0);
        row_add(raw_resume_r, t2 - t1);
        row_add(warm, t3 - t2);
        row_add(host, t4 - t3);
        row_add(raw_copy, t6 - t5);
    }
    /* host_call's floor is the sum of two floors: fold the second in. */
    row_floor(host, raw_call_r, 1, row_median(raw_resume_r), "raw_warm_call+raw_exit_roundtrip");
    row_floor(cold, raw_create_r, 1, row_median(raw_first), "raw_create+raw_first_run");
    glint_sandbox_destroy(sb);
    raw_destroy(&vm);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

/* Is `name` one of the comma-separated groups in `list`? */
static int group(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == 0))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *guest = "build/guests/hello.elf", *json = NULL;
    const char *iso_guest = "build/tests/guests/isolation.elf";
    const char *mem_guest = "build/tests/guests/stateful.elf";
    const char *lua_guest = "build/guests/lua.elf", *lua = "lua5.4";
    const char *js_guest = "build/guests/js.elf", *mujs = "mujs";
    const char *glint = "build/bin/glint";
    const char *only = "core,isolation,memory,lua,js,serve,image_file,hot";
    int iters = 2000, density = 1000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--guest") && i + 1 < argc)
            guest = argv[++i];
        else if (!strcmp(argv[i], "--isolation-guest") && i + 1 < argc)
            iso_guest = argv[++i];
        else if (!strcmp(argv[i], "--memory-guest") && i + 1 < argc)
            mem_guest = argv[++i];
        else if (!strcmp(argv[i], "--lua-guest") && i + 1 < argc)
            lua_guest = argv[++i];
        else if (!strcmp(argv[i], "--lua") && i + 1 < argc)
            lua = argv[++i];
        else if (!strcmp(argv[i], "--js-guest") && i + 1 < argc)
            js_guest = argv[++i];
        else if (!strcmp(argv[i], "--mujs") && i + 1 < argc)
            mujs = argv[++i];
        else if (!strcmp(argv[i], "--glint") && i + 1 < argc)
            glint = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--only-memory"))
            only = "memory";
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else if ((!strcmp(argv[i], "--iters") || !strcmp(argv[i], "--density")) && i + 1 < argc) {
            int *dst = !strcmp(argv[i], "--iters") ? &iters : &density;
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 10 || n > 10000000)
                die("--iters and --density want 10..10000000");
            *dst = (int)n;
        } else {
            fprintf(stderr,
                    "usage: glint-bench [--guest ELF] [--isolation-guest ELF] "
                    "[--memory-guest ELF] [--lua-guest ELF] [--lua LUA] "
                    "[--js-guest ELF] [--mujs MUJS] [--glint GLINT] "
                    "[--only core,isolation,memory,lua,js,serve,image_file,hot] [--only-memory] "
                    "[--json FILE] [--iters N] [--density N]\n");
            return 2;
        }
    }
    int core = group(only, "core"), isolation = group(only, "isolation");
    int memory = group(only, "memory"), lua_rows = group(only, "lua");
    int js_rows = group(only, "js"), serve_rows = group(only, "serve");
    int image_rows = group(only, "image_file"), hot_rows = group(only, "hot");
    size_t known = (size_t)(core + isolation + memory + lua_rows + js_rows + serve_rows +
                            image_rows + hot_rows);
    for (const char *p = only; (p = strchr(p, ',')); p++)
        known--; /* one fewer comma than names: every name must be known */
    if (!*only || known != 1)
        die("--only wants a comma-separated list of core, isolation, memory, lua, js, serve, "
            "image_file, hot");
    printf("glint %s benchmarks: %d warm iterations; raw-KVM floors measured in this run\n",
           GLINT_VERSION_STRING, iters);
    /* The lua rows are compared with warm_call (core) and pool_call_dirty_16 (pool). */
    if (core || lua_rows || serve_rows || hot_rows)
        bench_core(guest, iters);
    if (isolation || lua_rows || serve_rows)
        bench_pool(iso_guest, iters);
    if (isolation)
        bench_isolation(iso_guest, iters, density);
    if (memory)
        bench_memory(mem_guest, iters);
    if (lua_rows)
        bench_lua(lua_guest, lua, iters);
    if (js_rows)
        bench_js(js_guest, mujs, iters);
    if (serve_rows)
        bench_serve(glint, guest, iters);
    if (image_rows)
        bench_image_file(guest, lua_guest, glint, iters);
    if (hot_rows)
        bench_hot(guest, iters);
    report(json);
    return 0;
}
