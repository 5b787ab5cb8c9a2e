/* JavaScript rows: fib(27) in js.elf vs native mujs (the same MuJS 1.3 from Debian). Skipped when
 * js.elf or mujs is missing. */
#include <errno.h>
#include <glint.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

/* The script both interpreters run. Native mujs reports the time of the fib(27) call alone
 * (Date.now(), milliseconds; process start and compilation are excluded); in the guest Date.now()
 * is 0 (no clock), so its row is the host's time for the whole Eval call. */
#define FIB_SRC                                                                                    \
    "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n"                            \
    "var t0 = Date.now();\n"                                                                       \
    "var r = fib(27);\n"                                                                           \
    "var dt = Date.now() - t0;\n"
#define FIB_RESULT "196418"

/* Is `name` an executable in $PATH (or, with a slash, itself)? */
static int on_path(const char *name)
{
    if (strchr(name, '/'))
        return access(name, X_OK) == 0;
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n && n + strlen(name) + 2 <= sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, name);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        path += n + (path[n] == ':');
    }
    return 0;
}

/* Run `mujs FILE` once (FILE holds FIB_SRC and a print); the in-script time of fib(27) in
 * microseconds. */
static double native_fib(const char *mujs, const char *file)
{
    int fd[2];
    if (pipe(fd))
        die("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    char prog[4096], path[4096];
    snprintf(prog, sizeof prog, "%s", mujs);
    snprintf(path, sizeof path, "%s", file);
    char *argv[] = {prog, path, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, mujs, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (rc) {
        close(fd[0]);
        die("cannot start mujs");
    }
    char out[128] = "";
    size_t len = 0;
    ssize_t n;
    while (len + 1 < sizeof out && (n = read(fd[0], out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = 0;
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    double ms;
    char result[32];
    if (!WIFEXITED(status) || WEXITSTATUS(status) || sscanf(out, "%31s %lf", result, &ms) != 2 ||
        strcmp(result, FIB_RESULT))
        die("native mujs fib(27) gave an unexpected result");
    return ms * 1e3;
}

/* CPU time of this thread (the vCPU runs in it). */
static double thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
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
    struct row *native = row_new("js_fib_native", "mujs: fib(27), in-script Date.now() (ms)");
    struct row *guest =
        row_new("js_fib_guest", "glint: js.elf Eval of the same fib(27), warm sandbox");
    struct row *guest_cpu =
        row_new("js_fib_guest_cpu", "glint: same call, CPU time of the calling thread (vCPU)");
    row_floor(guest, native, 1, 0, "js_fib_native");
    row_floor(guest_cpu, native, 1, 0, "js_fib_native");
    glint_value src = glint_string(FIB_SRC "r"), ret;
    for (int i = 0; i < runs + 1; i++) {
        double tn = native_fib(mujs, file);
        double t = now_us(), c = thread_cpu_us();
        int rc = glint_sandbox_call(sb, "Eval", &src, 1, &ret);
        double tg = now_us() - t, cg = thread_cpu_us() - c;
        if (rc)
            die_glint("js.elf Eval fib(27)", rc);
        if (ret.as.str.len != strlen(FIB_RESULT) ||
            memcmp(ret.as.str.ptr, FIB_RESULT, ret.as.str.len))
            die("js.elf fib(27) gave an unexpected result");
        if (i == 0)
            continue; /* warm-up */
        row_add(native, tn);
        row_add(guest, tg);
        row_add(guest_cpu, cg);
    }
    unlink(file);
}

void bench_js(const char *guest, const char *mujs, int iters)
{
    if (access(guest, R_OK)) {
        printf("bench: SKIPPED the js_* rows: %s: %s (make builds it from libmujs-dev)\n", guest,
               strerror(errno));
        return;
    }
    if (!on_path(mujs)) {
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
