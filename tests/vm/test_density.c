/* VM test: a thousand sandboxes alive at once, each answering, within a memory budget. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "helpers.h"

#define LIVE 1000

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

Test(vm_density, thousand_live_sandboxes, .timeout = 120)
{
    vm_require_kvm();
    /* Each sandbox holds two descriptors (VM and vCPU). */
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < 2 * LIVE + 64) {
        rl.rlim_cur = rl.rlim_max < 2 * LIVE + 64 ? rl.rlim_max : 2 * LIVE + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    cr_assert_geq(rl.rlim_cur, 2 * LIVE + 64, "RLIMIT_NOFILE hard limit too low for the test");
    glint_image *img = vm_load_example("hello", NULL, NULL);
    glint_sandbox **sbs = calloc(LIVE, sizeof *sbs);
    cr_assert_not_null(sbs);
    long before = meminfo_kib("MemAvailable");
    double t0 = vm_now_ms();
    for (int i = 0; i < LIVE; i++) {
        cr_assert_eq(glint_sandbox_create(img, NULL, &sbs[i]), 0, "sandbox %d: %s", i,
                     glint_errmsg());
        glint_value a[] = {glint_i32(i), glint_i32(1)}, ret;
        cr_assert_eq(glint_sandbox_call(sbs[i], "Add", a, 2, &ret), 0, "%s", glint_errmsg());
        cr_assert_eq(ret.as.i32, i + 1);
    }
    double created = vm_now_ms() - t0;
    long used = before - meminfo_kib("MemAvailable");
    /* All still alive and independent: call each again. */
    for (int i = 0; i < LIVE; i++) {
        glint_value a[] = {glint_i32(i), glint_i32(i)}, ret;
        cr_assert_eq(glint_sandbox_call(sbs[i], "Add", a, 2, &ret), 0);
        cr_assert_eq(ret.as.i32, 2 * i);
    }
    fprintf(stderr,
            "vm_density: %d live sandboxes created and called in %.0f ms; MemAvailable "
            "dropped by %ld KiB (%.0f KiB each)\n",
            LIVE, created, used, (double)used / LIVE);
    /* The machine is shared: only a gross excess can be asserted. */
    cr_expect_lt(used, 2L * 1024 * 1024, "1000 sandboxes used more than 2 GiB");
    for (int i = 0; i < LIVE; i++)
        glint_sandbox_destroy(sbs[i]);
    free(sbs);
    glint_image_destroy(img);
}
