/* Memory rows: image load time and sandbox resident memory do not grow with the configured heap. */
#include <glint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "stats.h"

/* Resident memory of this process in KiB (/proc/self/statm). */
static double rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f || fscanf(f, "%lu %lu", &size, &res) != 2)
        die("cannot read /proc/self/statm");
    fclose(f);
    return (double)res * (double)sysconf(_SC_PAGESIZE) / 1024.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One heap size: load-time samples into `load`; the median resident growth
 * of a new sandbox after one call, in KiB. */
static double measure(const char *guest, uint64_t heap, struct row *load, int loads)
{
    glint_config c;
    glint_config_init(&c);
    c.heap_size = heap;
    glint_image *img = NULL;
    int rc;
    for (int i = 0; i < loads; i++) {
        glint_image *tmp;
        double t = now_us();
        if ((rc = glint_image_load_file(guest, &c, NULL, &tmp)))
            die_glint(guest, rc);
        row_add(load, now_us() - t);
        if (img)
            glint_image_destroy(tmp);
        else
            img = tmp;
    }
    enum { SAMPLES = 15 };
    double kib[SAMPLES];
    glint_value arg = glint_string("a loaded script"), ret;
    for (int i = 0; i < SAMPLES; i++) {
        glint_sandbox *sb;
        double before = rss_kib();
        if ((rc = glint_sandbox_create(img, NULL, &sb)) ||
            (rc = glint_sandbox_call(sb, "Load", &arg, 1, &ret)))
            die_glint("sandbox", rc);
        kib[i] = rss_kib() - before;
        glint_sandbox_destroy(sb);
    }
    qsort(kib, SAMPLES, sizeof kib[0], cmp_double);
    glint_image_destroy(img);
    return kib[SAMPLES / 2];
}

void bench_memory(const char *guest, int iters)
{
    int loads = iters / 100 > 20 ? iters / 100 : 20;
    struct row *l1 = row_new("image_load_heap_1m", "glint: image load, 1 MiB heap");
    struct row *l64 = row_new("image_load_heap_64m", "glint: image load, 64 MiB heap");
    double r1 = measure(guest, 1ull << 20, l1, loads);
    double r64 = measure(guest, 64ull << 20, l64, loads);
    row_floor(l64, l1, 1, 0, "image_load_heap_1m");
    struct row *s1 =
        row_value("sandbox_rss_heap_1m",
                  "glint: resident growth of a new sandbox after one call, 1 MiB heap", r1, "KiB");
    struct row *s64 = row_value(
        "sandbox_rss_heap_64m",
        "glint: resident growth of a new sandbox after one call, 64 MiB heap", r64, "KiB");
    row_floor(s64, s1, 1, 0, "sandbox_rss_heap_1m");
}
