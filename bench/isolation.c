/* Benchmarks of per-request isolation: pooled calls + restore, restore by size, interrupts,
 * density. */
#include <glint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static glint_image *load(const char *guest, uint64_t heap)
{
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = heap;
    cfg.timeout_ms = 0;
    glint_image *img;
    int rc = glint_image_load_file(guest, &cfg, NULL, &img);
    if (rc)
        die_glint(guest, rc);
    return img;
}

/* Isolated call through a pool: call + restore, guest dirtying n pages. */
static void pooled_calls(glint_image *img, int iters)
{
    static const uint32_t dirty[] = {1, 16, 256};
    static const char *names[] = {"pool_call_dirty_1", "pool_call_dirty_16", "pool_call_dirty_256"};
    static const char *floor_names[] = {"raw_warm_call+1*raw_page_copy",
                                        "raw_warm_call+16*raw_page_copy",
                                        "raw_warm_call+256*raw_page_copy"};
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 1;
    glint_pool *pool;
    int rc = glint_pool_create(img, NULL, &pc, &pool);
    if (rc)
        die_glint("pool", rc);
    for (size_t k = 0; k < 3; k++) {
        struct row *r =
            row_new(names[k], "glint: pool call (take, call, restore) dirtying N pages");
        row_floor(r, floors.warm_call, 1, dirty[k] * row_median(floors.page_copy), floor_names[k]);
        if (dirty[k] == 16)
            floors.pool_dirty_16 = r;
        for (int i = 0; i < iters + 50; i++) {
            glint_value a[] = {glint_u32(dirty[k]), glint_u64((uint64_t)i)}, ret;
            double t = now_us();
            if ((rc = glint_pool_call(pool, "DirtyPages", a, 2, &ret, NULL)))
                die_glint("pool call", rc);
            double dt = now_us() - t;
            if (i >= 50)
                row_add(r, dt);
        }
    }
    glint_pool_destroy(pool);
}

/* Restore alone, after a call that dirtied 16 pages, by heap size. */
static void restore_by_size(const char *guest, int iters)
{
    static const uint64_t heaps[] = {128 << 10, 8 << 20, 64 << 20, 256 << 20};
    static const char *names[] = {"restore_heap_128k", "restore_heap_8m", "restore_heap_64m",
                                  "restore_heap_256m"};
    struct row *base = NULL;
    for (size_t k = 0; k < 4; k++) {
        glint_image *img = load(guest, heaps[k]);
        glint_sandbox *sb;
        int rc = glint_sandbox_create(img, NULL, &sb);
        if (rc)
            die_glint("sandbox", rc);
        struct row *r = row_new(names[k], "glint: restore to image after 16 dirty pages");
        if (base)
            row_floor(r, base, 1, 0, "restore_heap_128k");
        for (int i = 0; i < iters + 50; i++) {
            glint_value a[] = {glint_u32(16), glint_u64((uint64_t)i)};
            if ((rc = glint_sandbox_call(sb, "DirtyPages", a, 2, NULL)))
                die_glint("DirtyPages", rc);
            double t = now_us();
            if ((rc = glint_sandbox_restore(sb, NULL)))
                die_glint("restore", rc);
            double dt = now_us() - t;
            if (i >= 50)
                row_add(r, dt);
        }
        if (!base)
            base = r;
        glint_sandbox_destroy(sb);
        glint_image_destroy(img);
    }
}

struct rate_arg {
    glint_pool *pool;
    double seconds;
    long calls;
};

static void *rate_thread(void *p)
{
    struct rate_arg *a = p;
    double end = now_us() + a->seconds * 1e6;
    while (now_us() < end) {
        if (glint_pool_call(a->pool, "Nop", NULL, 0, NULL, NULL) != 0)
            die("pool call failed in the rate test");
        a->calls++;
    }
    return NULL;
}

/* Calls per second through a pool of 2 from 1 and from 2 threads. */
static void calls_per_second(glint_image *img)
{
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 2;
    glint_pool *pool;
    int rc = glint_pool_create(img, NULL, &pc, &pool);
    if (rc)
        die_glint("pool", rc);
    while (glint_pool_ready(pool) < 2)
        usleep(1000);
    double rate[3] = {0};
    for (int threads = 1; threads <= 2; threads++) {
        struct rate_arg args[2] = {{pool, 2.0, 0}, {pool, 2.0, 0}};
        pthread_t t[2];
        for (int i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, rate_thread, &args[i]);
        long calls = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(t[i], NULL);
            calls += args[i].calls;
        }
        rate[threads] = (double)calls / 2.0;
    }
    row_value("pool_calls_per_s_1_thread", "glint: isolated Nop calls/s, pool of 2, 1 thread",
              rate[1], "calls/s");
    row_value("pool_calls_per_s_2_threads", "glint: isolated Nop calls/s, pool of 2, 2 threads",
              rate[2], "calls/s");
    row_value("pool_scaling_2_vs_1", "glint: calls/s with 2 threads / with 1", rate[2] / rate[1],
              "x");
    glint_pool_destroy(pool);
}

struct spin_arg {
    glint_sandbox *sb;
    volatile int started;
};

static void *spin_thread(void *p)
{
    struct spin_arg *a = p;
    a->started = 1;
    glint_sandbox_call(a->sb, "Spin", NULL, 0, NULL);
    return NULL;
}

/* Interrupt latency: glint_sandbox_interrupt() to the call's return. */
static void interrupt_latency(glint_image *img)
{
    glint_sandbox *sb;
    int rc = glint_sandbox_create(img, NULL, &sb);
    if (rc)
        die_glint("sandbox", rc);
    glint_sandbox_set_timeout(sb, 0);
    struct row *r =
        row_new("interrupt_latency", "glint: interrupt() of a spinning guest to return");
    struct row *d = row_new("deadline_overshoot", "glint: 5 ms deadline: call time minus 5 ms");
    for (int i = 0; i < 200; i++) {
        struct spin_arg a = {sb, 0};
        pthread_t t;
        pthread_create(&t, NULL, spin_thread, &a);
        while (!a.started)
            ;
        usleep(2000); /* let it spin */
        double t0 = now_us();
        glint_sandbox_interrupt(sb);
        pthread_join(t, NULL);
        row_add(r, now_us() - t0);
        glint_sandbox_restore(sb, NULL);
    }
    glint_sandbox_set_timeout(sb, 5);
    for (int i = 0; i < 100; i++) {
        double t0 = now_us();
        glint_sandbox_call(sb, "Spin", NULL, 0, NULL);
        row_add(d, now_us() - t0 - 5000);
        glint_sandbox_restore(sb, NULL);
    }
    glint_sandbox_destroy(sb);
}

static long meminfo_kib(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Live sandboxes: memory per sandbox (user + kernel, from MemAvailable) and
 * how many fit in 2 GiB. Each has made one call. */
static void density(glint_image *img, int n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(2 * n + 64)) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)(2 * n + 64) ? rl.rlim_max : (rlim_t)(2 * n + 64);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    glint_sandbox **sbs = calloc((size_t)n, sizeof *sbs);
    if (!sbs)
        die("out of memory");
    long before = meminfo_kib("MemAvailable");
    double t0 = now_us();
    int made = 0;
    for (; made < n; made++) {
        int rc = glint_sandbox_create(img, NULL, &sbs[made]);
        if (rc) {
            fprintf(stderr, "bench: density: sandbox %d: %s\n", made, glint_errmsg());
            break;
        }
        if ((rc = glint_sandbox_call(sbs[made], "Nop", NULL, 0, NULL)))
            die_glint("density call", rc);
    }
    double secs = (now_us() - t0) / 1e6;
    long after = meminfo_kib("MemAvailable");
    double per_kib = made ? (double)(before - after) / made : 0;
    row_value("live_sandboxes", "glint: sandboxes created and alive at once", made, "sandboxes");
    row_value("live_sandboxes_create_s", "glint: time to create them and call each once", secs,
              "s");
    row_value("memory_per_sandbox", "glint: MemAvailable drop per live sandbox (user+kernel)",
              per_kib, "KiB");
    row_value("sandboxes_per_2gib", "glint: live sandboxes that fit in 2 GiB at that rate",
              per_kib > 0 ? 2.0 * 1024 * 1024 / per_kib : 0, "sandboxes");
    for (int i = 0; i < made; i++)
        glint_sandbox_destroy(sbs[i]);
    free(sbs);
}

void bench_pool(const char *guest, int iters)
{
    glint_image *big = load(guest, 4 << 20); /* room for 256 dirty heap pages */
    pooled_calls(big, iters);
    glint_image_destroy(big);
}

void bench_isolation(const char *guest, int iters, int n_density)
{
    glint_image *img = load(guest, 128 << 10);
    restore_by_size(guest, iters);
    calls_per_second(img);
    interrupt_latency(img);
    density(img, n_density);
    glint_image_destroy(img);
}
