/* Helpers for rows that time a native interpreter: find it, run it, read what it printed. */
#ifndef GLINT_BENCH_CHILD_H
#define GLINT_BENCH_CHILD_H

#include <stddef.h>

/* Is `name` an executable in $PATH (or, with a slash, itself)? */
int bench_on_path(const char *name);

/* Run argv (argv[0] searched in $PATH) with stdout into out (at most n - 1
 * bytes, NUL-terminated; the rest is read and dropped). Returns 0 if it
 * exited with status 0; dies if it cannot be started. */
int bench_run_capture(char *const argv[], char *out, size_t n);

/* CPU time of the calling thread in microseconds: a vCPU runs in the thread
 * that calls KVM_RUN, so guest time counts, as os.clock() or Date.now() count
 * the native interpreter's. */
double bench_thread_cpu_us(void);

/* A fib(27) comparison: the native interpreter's in-script time against the
 * same script through the guest's Eval on a warm sandbox (host wall time, and
 * the vCPU thread's CPU time). */
struct bench_fib {
    const char *native_name, *native_what; /* e.g. "lua_fib_native", "lua5.4: ..." */
    const char *guest_name, *guest_what, *cpu_name;
    const char *guest_src; /* the script for Eval; its result must be `result` */
    const char *result;
    const char *label;           /* for failure messages, e.g. "lua.elf" */
    double (*native)(void *ctx); /* one native run: in-script µs */
    void *ctx;
};

/* `runs` interleaved native and guest runs after one warm-up pair, into the
 * three rows (the guest rows' floor: the native row). */
struct glint_sandbox;
void bench_fib_rows(struct glint_sandbox *sb, const struct bench_fib *f, int runs);

#endif
