/* Helpers for rows that time a native interpreter: find it, run it, read what it printed. */
#include "child.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glint.h>

#include "bench.h"
#include "stats.h"

extern char **environ;

int bench_on_path(const char *name)
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

int bench_run_capture(char *const argv[], char *out, size_t n)
{
    int fd[2];
    if (pipe(fd))
        die("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (rc) {
        close(fd[0]);
        die("cannot start a native interpreter");
    }
    size_t len = 0;
    char drop[256];
    for (;;) {
        ssize_t k =
            len + 1 < n ? read(fd[0], out + len, n - 1 - len) : read(fd[0], drop, sizeof drop);
        if (k <= 0)
            break;
        if (len + 1 < n)
            len += (size_t)k;
    }
    out[len] = 0;
    close(fd[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

double bench_thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

void bench_fib_rows(glint_sandbox *sb, const struct bench_fib *f, int runs)
{
    struct row *native = row_new(f->native_name, f->native_what);
    struct row *guest = row_new(f->guest_name, f->guest_what);
    struct row *guest_cpu =
        row_new(f->cpu_name, "glint: same call, CPU time of the calling thread (vCPU)");
    row_floor(guest, native, 1, 0, f->native_name);
    row_floor(guest_cpu, native, 1, 0, f->native_name);
    glint_value src = glint_string(f->guest_src), ret;
    for (int i = 0; i < runs + 1; i++) {
        double tn = f->native(f->ctx);
        double t = now_us(), c = bench_thread_cpu_us();
        int rc = glint_sandbox_call(sb, "Eval", &src, 1, &ret);
        double tg = now_us() - t, cg = bench_thread_cpu_us() - c;
        if (rc)
            die_glint(f->label, rc);
        if (ret.as.str.len != strlen(f->result) ||
            memcmp(ret.as.str.ptr, f->result, ret.as.str.len))
            die("fib(27) in the guest gave an unexpected result");
        if (i == 0)
            continue; /* warm-up */
        row_add(native, tn);
        row_add(guest, tg);
        row_add(guest_cpu, cg);
    }
}
