/* JavaScript rows: fib(27) in js.elf vs native mujs (the same MuJS 1.3 from Debian). Skipped when
 * js.elf or mujs is missing. */
#include <errno.h>
#include <glint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "child.h"

/* The script both interpreters run. Native mujs reports the time of the fib(27) call alone
 * (Date.now(), milliseconds; process start and compilation are excluded); in the guest Date.now()
 * is 0 (no clock), so its row is the host's time for the whole Eval call. */
#define FIB_SRC                                                                                    \
    "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n"                            \
    "var t0 = Date.now();\n"                                                                       \
    "var r = fib(27);\n"                                                                           \
    "var dt = Date.now() - t0;\n"
#define FIB_RESULT "196418"

/* Run `mujs FILE` once (FILE holds FIB_SRC and a print); the in-script time of fib(27) in
 * microseconds. */
static double native_fib(const char *mujs, const char *file)
{
    char prog[4096], path[4096];
    snprintf(prog, sizeof prog, "%s", mujs);
    snprintf(path, sizeof path, "%s", file);
    char *argv[] = {prog, path, NULL};
    char out[128];
    double ms;
    char result[32];
    if (bench_run_capture(argv, out, sizeof out) != 0 ||
        sscanf(out, "%31s %lf", result, &ms) != 2 || strcmp(result, FIB_RESULT))
        die("native mujs fib(27) gave an unexpected result");
    return ms * 1e3;
}

struct native_js {
    const char *mujs, *file;
};

static double native_fib_ctx(void *arg)
{
    const struct native_js *n = arg;
    return native_fib(n->mujs, n->file);
}

/* fib(27) natively and in the guest, interleaved; `runs` of each after a warm-up pair. */
static void fib_rows(glint_sandbox *sb, const char *mujs, int runs)
{
    char file[] = "/tmp/glint-bench-fib-XXXXXX";
    int fd = mkstemp(file);
    static const char native_src[] = FIB_SRC "print(r + ' ' + dt);\n";
    if (fd < 0 || write(fd, native_src, sizeof native_src - 1) != (ssize_t)(sizeof native_src - 1))
        die("cannot write the native mujs script to /tmp");
    close(fd);
    struct native_js ctx = {mujs, file};
    const struct bench_fib f = {
        .native_name = "js_fib_native",
        .native_what = "mujs: fib(27), in-script Date.now() (ms)",
        .guest_name = "js_fib_guest",
        .guest_what = "glint: js.elf Eval of the same fib(27), warm sandbox",
        .cpu_name = "js_fib_guest_cpu",
        .guest_src = FIB_SRC "r",
        .result = FIB_RESULT,
        .label = "js.elf Eval fib(27)",
        .native = native_fib_ctx,
        .ctx = &ctx,
    };
    bench_fib_rows(sb, &f, runs);
    unlink(file);
}

void bench_js(const char *guest, const char *mujs, int iters)
{
    if (access(guest, R_OK)) {
        printf("bench: SKIPPED the js_* rows: %s: %s (make builds it from libmujs-dev)\n", guest,
               strerror(errno));
        return;
    }
    if (!bench_on_path(mujs)) {
        printf("bench: SKIPPED js_fib_native, js_fib_guest, js_fib_guest_cpu: %s not found "
               "(package mujs)\n",
               mujs);
        return;
    }
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 16 << 20;
    cfg.stack_size = 256 << 10;
    cfg.input_size = 64 << 10;
    cfg.timeout_ms = 0;
    glint_image *img;
    int rc = glint_image_load_file(guest, &cfg, NULL, &img);
    if (rc)
        die_glint(guest, rc);
    glint_sandbox *sb;
    if ((rc = glint_sandbox_create(img, NULL, &sb)))
        die_glint("js.elf sandbox", rc);
    int runs = iters / 100;
    fib_rows(sb, mujs, runs < 5 ? 5 : runs > 30 ? 30 : runs);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}
