/* Soak test: N sandbox create + Echo call + destroy cycles; checks fds and RSS do not leak. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glint.h"

/*
 * Usage: glint-soak [CYCLES [GUEST.elf]]   (default 100000 build/guests/hello.elf)
 *
 * Loads the image once, then repeats glint_sandbox_create, Echo("soak") and
 * glint_sandbox_destroy. Every REPORT_EVERY cycles it prints the rate over the
 * last interval, VmRSS and the number of open file descriptors. At the end the
 * fd count must equal the count before the first cycle, and RSS may grow by
 * less than RSS_LIMIT_KIB from the first report (the warm-up: allocator arenas,
 * KVM caches) to the end. The last line is "soak: PASS ..." or "soak: FAIL ...";
 * the exit status is 0 or 1 (2 for a usage error).
 */

#define REPORT_EVERY  10000ul
#define RSS_LIMIT_KIB 4096l
#define MESSAGE       "soak"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS of this process in KiB, or -1. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* Number of open file descriptors (not counting the one used to list them), or -1. */
static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

/* Print the FAIL line for a glint error; detail is glint_errmsg() or the failure message. */
static int fail(const char *what, unsigned long cycle, int rc, const char *detail)
{
    if (cycle)
        printf("soak: FAIL %s at cycle %lu: %s: %s\n", what, cycle, glint_strerror(rc), detail);
    else
        printf("soak: FAIL %s: %s: %s\n", what, glint_strerror(rc), detail);
    return 1;
}

int main(int argc, char **argv)
{
    unsigned long cycles = 100000;
    const char *path = "build/guests/hello.elf";
    if (argc > 3 || (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
        fprintf(stderr, "usage: %s [CYCLES [GUEST.elf]]  (default 100000 %s)\n", argv[0], path);
        return 2;
    }
    if (argc > 1) {
        char *end;
        errno = 0;
        cycles = strtoul(argv[1], &end, 10);
        if (errno || end == argv[1] || *end || cycles == 0 || argv[1][0] == '-') {
            fprintf(stderr, "soak: CYCLES must be a positive number, not '%s'\n", argv[1]);
            return 2;
        }
    }
    if (argc > 2)
        path = argv[2];
    setvbuf(stdout, NULL, _IOLBF, 0);

    glint_image *img = NULL;
    int rc = glint_image_load_file(path, NULL, NULL, &img);
    if (rc) {
        char what[300];
        snprintf(what, sizeof what, "loading %s", path);
        return fail(what, 0, rc, glint_errmsg());
    }
    glint_value arg = glint_string(MESSAGE);

    long fds_start = open_fds(), rss_start = rss_kib();
    long rss_mark = rss_start; /* RSS at the first report */
    unsigned long mark_cycle = 0;
    printf("soak: %lu cycles of create + Echo(\"%s\") + destroy on %s\n", cycles, MESSAGE, path);
    printf("soak: start: rss %ld KiB, fds %ld\n", rss_start, fds_start);

    double t0 = now_s(), t_last = t0;
    unsigned long last = 0;
    for (unsigned long i = 1; i <= cycles; i++) {
        glint_sandbox *sb = NULL;
        rc = glint_sandbox_create(img, NULL, &sb);
        if (rc) {
            char detail[512];
            snprintf(detail, sizeof detail, "%s", glint_errmsg());
            glint_image_destroy(img);
            return fail("glint_sandbox_create", i, rc, detail);
        }
        glint_value ret;
        rc = glint_sandbox_call(sb, "Echo", &arg, 1, &ret);
        if (rc) {
            glint_failure f;
            glint_sandbox_last_failure(sb, &f);
            glint_sandbox_destroy(sb);
            glint_image_destroy(img);
            return fail("Echo", i, rc, f.message);
        }
        if (ret.type != GLINT_STRING || ret.as.str.len != strlen(MESSAGE) ||
            memcmp(ret.as.str.ptr, MESSAGE, strlen(MESSAGE)) != 0) {
            printf("soak: FAIL Echo at cycle %lu returned the wrong value\n", i);
            glint_sandbox_destroy(sb);
            glint_image_destroy(img);
            return 1;
        }
        glint_sandbox_destroy(sb);

        if (i % REPORT_EVERY == 0 || i == cycles) {
            double t = now_s();
            long rss = rss_kib(), fds = open_fds();
            printf("soak: %9lu cycles  %7.0f cycles/s  rss %6ld KiB  fds %ld\n", i,
                   (double)(i - last) / (t - t_last), rss, fds);
            if (mark_cycle == 0) {
                mark_cycle = i;
                rss_mark = rss;
            }
            last = i;
            t_last = t;
        }
    }
    double secs = now_s() - t0;
    long fds_end = open_fds(), rss_end = rss_kib();
    glint_image_destroy(img);

    char summary[256];
    snprintf(summary, sizeof summary,
             "%lu cycles in %.1f s (%.0f cycles/s), rss %ld -> %ld KiB (%+ld KiB since cycle "
             "%lu, limit %ld), fds %ld -> %ld",
             cycles, secs, (double)cycles / secs, rss_mark, rss_end, rss_end - rss_mark, mark_cycle,
             RSS_LIMIT_KIB, fds_start, fds_end);
    if (fds_start < 0 || rss_start < 0) {
        printf("soak: FAIL cannot read /proc/self (fd or VmRSS): %s\n", summary);
        return 1;
    }
    if (fds_end != fds_start) {
        printf("soak: FAIL file descriptors leaked: %s\n", summary);
        return 1;
    }
    if (rss_end - rss_mark >= RSS_LIMIT_KIB) {
        printf("soak: FAIL memory grew: %s\n", summary);
        return 1;
    }
    printf("soak: PASS %s\n", summary);
    return 0;
}
