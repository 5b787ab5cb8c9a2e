/* `make bench`: glint's costs beside raw-KVM floors measured in the same run. */
#include <errno.h>
#include <glint.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "raw_kvm.h"

extern char **environ;

struct series {
    const char *name, *what, *floor_name;
    double *v;
    size_t n, cap;
    double min, median, p99, mean;
};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void add(struct series *s, double us)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        double *v = realloc(s->v, s->cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "bench: out of memory\n");
            exit(1);
        }
        s->v = v;
    }
    s->v[s->n++] = us;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void finish(struct series *s)
{
    if (!s->n)
        return;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->v[i];
    s->min = s->v[0];
    s->median = s->v[s->n / 2];
    s->p99 = s->v[(size_t)((double)(s->n - 1) * 0.99)];
    s->mean = sum / (double)s->n;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench: %s: %s: %s\n", what, glint_strerror(rc), glint_errmsg());
    exit(1);
}

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "bench: %s failed: %s\n", what, strerror(errno));
        exit(1);
    }
}

static int multiply(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    ret->as.i64 = args[0].as.i64 * args[1].as.i64;
    return 0;
}

enum {
    RAW_CREATE,
    RAW_FIRST,
    RAW_CALL,
    RAW_RESUME,
    RAW_DESTROY,
    SPAWN,
    IMAGE,
    COLD,
    WARM,
    HOSTCALL,
    DESTROY,
    NSERIES
};

static struct series S[NSERIES] = {
    [RAW_CREATE] = {"raw_create", "KVM: VM + memory slot + vCPU + CPUID + registers", NULL},
    [RAW_FIRST] = {"raw_first_run", "KVM: first KVM_RUN of a new VM to its `out` exit", NULL},
    [RAW_CALL] = {"raw_warm_call", "KVM: KVM_SET_REGS + KVM_RUN to `out` exit (CPL3)", NULL},
    [RAW_RESUME] = {"raw_exit_roundtrip", "KVM: KVM_RUN resuming after `out` to the next `out`",
                    NULL},
    [RAW_DESTROY] = {"raw_destroy", "KVM: close vCPU + VM, unmap memory", NULL},
    [SPAWN] = {"process_spawn", "posix_spawn + waitpid of /bin/true (process isolation)", NULL},
    [IMAGE] = {"image_load", "glint: read + validate ELF + build + init guest + snapshot", NULL},
    [COLD] = {"cold_sandbox_first_call", "glint: sandbox from ready image + first Echo result",
              "raw_create+raw_first_run"},
    [WARM] = {"warm_call", "glint: Echo(\"hello\") on a warm sandbox", "raw_warm_call"},
    [HOSTCALL] = {"host_call", "glint: MultiplyOnHost: call + one guest->host call",
                  "raw_warm_call+raw_exit_roundtrip"},
    [DESTROY] = {"sandbox_destroy", "glint: destroy a sandbox (off the request path)",
                 "raw_destroy"},
};

static double floor_of(int i)
{
    switch (i) {
    case COLD:
        return S[RAW_CREATE].median + S[RAW_FIRST].median;
    case WARM:
        return S[RAW_CALL].median;
    case HOSTCALL:
        return S[RAW_CALL].median + S[RAW_RESUME].median;
    case DESTROY:
        return S[RAW_DESTROY].median;
    default:
        return 0;
    }
}

static void run_benchmarks(const char *guest, int iters)
{
    check(raw_prepare() == 0, "preparing the raw-KVM floor VM (is /dev/kvm usable?)");

    glint_host_fns *fns;
    static const glint_type p2[] = {GLINT_I64, GLINT_I64};
    int rc;
    if ((rc = glint_host_fns_create(&fns)) ||
        (rc = glint_host_fns_add(fns, "Multiply", GLINT_I64, p2, 2, multiply, NULL)))
        die("host functions", rc);
    glint_image *img = NULL;
    for (int i = 0; i < 20; i++) {
        glint_image *tmp;
        double t = now_us();
        if ((rc = glint_image_load_file(guest, NULL, fns, &tmp)))
            die(guest, rc);
        add(&S[IMAGE], now_us() - t);
        if (img)
            glint_image_destroy(tmp);
        else
            img = tmp;
    }

    /* Cold paths: alternate raw and glint so both see the same machine. */
    int cold = iters / 10 > 50 ? iters / 10 : 50;
    glint_value hello = glint_string("hello"), ret;
    for (int i = 0; i < cold; i++) {
        struct raw_vm vm;
        double t = now_us();
        check(raw_create(&vm) == 0, "raw create");
        double t1 = now_us();
        check(raw_call(&vm) == 0, "raw first run");
        double t2 = now_us();
        raw_destroy(&vm);
        double t3 = now_us();
        add(&S[RAW_CREATE], t1 - t);
        add(&S[RAW_FIRST], t2 - t1);
        add(&S[RAW_DESTROY], t3 - t2);

        glint_sandbox *sb;
        t = now_us();
        if ((rc = glint_sandbox_create(img, NULL, &sb)) ||
            (rc = glint_sandbox_call(sb, "Echo", &hello, 1, &ret)))
            die("cold sandbox", rc);
        t1 = now_us();
        glint_sandbox_destroy(sb);
        t2 = now_us();
        add(&S[COLD], t1 - t);
        add(&S[DESTROY], t2 - t1);

        pid_t pid;
        char *argv[] = {"/bin/true", NULL};
        t = now_us();
        if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0) {
            waitpid(pid, NULL, 0);
            add(&S[SPAWN], now_us() - t);
        }
    }

    /* Warm paths, interleaved. */
    struct raw_vm vm;
    check(raw_create(&vm) == 0 && raw_call(&vm) == 0, "raw warm VM");
    glint_sandbox *sb;
    if ((rc = glint_sandbox_create(img, NULL, &sb)))
        die("sandbox", rc);
    glint_value mul[] = {glint_i64(6), glint_i64(7)};
    for (int i = 0; i < iters + 100; i++) {
        double t0 = now_us();
        check(raw_call(&vm) == 0, "raw call");
        double t1 = now_us();
        check(raw_resume(&vm) == 0, "raw resume");
        double t2 = now_us();
        if ((rc = glint_sandbox_call(sb, "Echo", &hello, 1, &ret)))
            die("warm call", rc);
        double t3 = now_us();
        if ((rc = glint_sandbox_call(sb, "MultiplyOnHost", mul, 2, &ret)) || ret.as.i64 != 42)
            die("host call", rc);
        double t4 = now_us();
        if (i < 100)
            continue; /* warm-up */
        add(&S[RAW_CALL], t1 - t0);
        add(&S[RAW_RESUME], t2 - t1);
        add(&S[WARM], t3 - t2);
        add(&S[HOSTCALL], t4 - t3);
    }
    glint_sandbox_destroy(sb);
    raw_destroy(&vm);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}

static void report(const char *json_path)
{
    for (int i = 0; i < NSERIES; i++)
        finish(&S[i]);
    printf("\n%-26s %9s %9s %9s %7s  %s\n", "benchmark (us)", "min", "median", "p99", "ratio",
           "what / floor");
    for (int i = 0; i < NSERIES; i++) {
        double f = floor_of(i);
        char ratio[16] = "floor";
        if (f > 0)
            snprintf(ratio, sizeof ratio, "%.2fx", S[i].median / f);
        else if (i >= SPAWN)
            snprintf(ratio, sizeof ratio, "-");
        printf("%-26s %9.1f %9.1f %9.1f %7s  %s%s%s\n", S[i].name, S[i].min, S[i].median, S[i].p99,
               ratio, S[i].what, S[i].floor_name ? " / " : "",
               S[i].floor_name ? S[i].floor_name : "");
    }
    if (!json_path)
        return;
    FILE *f = fopen(json_path, "w");
    check(f != NULL, "opening the JSON output");
    fprintf(f, "[\n");
    for (int i = 0; i < NSERIES; i++) {
        double fl = floor_of(i);
        fprintf(f,
                "  {\"name\": \"%s\", \"what\": \"%s\", \"samples\": %zu, \"min_us\": %.2f, "
                "\"median_us\": %.2f, \"p99_us\": %.2f, \"mean_us\": %.2f, ",
                S[i].name, S[i].what, S[i].n, S[i].min, S[i].median, S[i].p99, S[i].mean);
        if (fl > 0)
            fprintf(f, "\"floor\": \"%s\", \"floor_us\": %.2f, \"ratio\": %.3f}", S[i].floor_name,
                    fl, S[i].median / fl);
        else
            fprintf(f, "\"floor\": %s, \"ratio\": null}", i < SPAWN ? "\"self\"" : "null");
        fprintf(f, "%s\n", i + 1 < NSERIES ? "," : "");
    }
    fprintf(f, "]\n");
    check(fclose(f) == 0, "writing the JSON output");
    printf("\nwrote %s\n", json_path);
}

int main(int argc, char **argv)
{
    const char *guest = "build/guests/hello.elf", *json = NULL;
    int iters = 2000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--guest") && i + 1 < argc)
            guest = argv[++i];
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 10 || n > 10000000) {
                fprintf(stderr, "bench: --iters wants 10..10000000\n");
                return 2;
            }
            iters = (int)n;
        } else {
            fprintf(stderr, "usage: glint-bench [--guest ELF] [--json FILE] [--iters N]\n");
            return 2;
        }
    }
    printf("glint %s benchmarks: %d warm iterations; raw-KVM floors measured in this run\n",
           GLINT_VERSION_STRING, iters);
    run_benchmarks(guest, iters);
    report(json);
    return 0;
}
