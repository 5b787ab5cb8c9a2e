/* Whitebox tests: idle sandboxes give back the zero pages their calls wrote, and stay exact. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "integrity.h"
#include "runtime/pool.h"
#include "whitebox.h"

#define PAGE     GLINT_ABI_PAGE_SIZE
#define MiB      (1ull << 20)
#define CHURN    20u       /* MiB the call writes */
#define MAX_IDLE (1 * MiB) /* the pool's idle_resident_max here */

static glint_image *load_churn(void)
{
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 32 * MiB;
    return vm_load_test("heapchurn", &cfg, NULL);
}

/* Resident bytes of the sandbox's guest memory beyond its image's non-zero pages (which every
 * sandbox holds): the Rss of its mapping in /proc/self/smaps, which unlike mincore does not count
 * mappings of the shared zero page (what reading a never-written page maps). */
static uint64_t resident_outside_image(const glint_sandbox *sb)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    cr_assert_not_null(f);
    char line[256];
    unsigned long lo, hi;
    bool in = false;
    uint64_t rss_kib = UINT64_MAX;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = lo == (uintptr_t)sb->mem;
            continue;
        }
        unsigned long kib;
        if (in && sscanf(line, "Rss: %lu kB", &kib) == 1) {
            rss_kib = kib;
            break;
        }
    }
    fclose(f);
    cr_assert_neq(rss_kib, UINT64_MAX, "no mapping at the sandbox's memory in smaps");
    uint64_t image = (uint64_t)sb->img->npages * PAGE;
    return rss_kib * 1024 > image ? rss_kib * 1024 - image : 0;
}

/* Whole guest memory, byte for byte, against the image. */
static void expect_memory_is_image(const glint_sandbox *sb, const char *who)
{
    uint64_t at = vm_first_difference(sb, 0, sb->mem_size);
    cr_assert_eq(at, UINT64_MAX, "%s: byte 0x%llx is %02x, the image has %02x", who,
                 (unsigned long long)at, at == UINT64_MAX ? 0 : sb->mem[at],
                 at == UINT64_MAX ? 0 : sb->img->mem[at]);
}

/* Pages of the heap where the sandbox differs from its image: what the host sees of the
 * guest's writes. */
static uint64_t heap_pages_written(const glint_sandbox *sb)
{
    const struct glint__layout *l = &sb->img->layout;
    uint64_t n = 0;
    for (uint64_t a = l->heap_addr; a < l->heap_addr + l->heap_size; a += PAGE)
        n += memcmp(sb->mem + a, sb->img->mem + a, PAGE) != 0;
    return n;
}

static uint64_t churn(glint_sandbox *sb, uint64_t seed)
{
    glint_value a[] = {glint_u32(CHURN), glint_u64(seed)}, ret;
    cr_assert_eq(glint_sandbox_call(sb, "Churn", a, 2, &ret), 0, "%s", glint_errmsg());
    return ret.as.u64;
}

/* A trimmed sandbox: memory still the image; what the guest writes afterwards lands where the
 * host sees it (KVM dropped its mappings of the freed pages), and it reads zeros first. */
Test(vm_trim, trimmed_sandbox_stays_exact_and_coherent, .timeout = 60)
{
    vm_require_kvm();
    glint_image *img = load_churn();
    glint_sandbox *sb = vm_sandbox(img, NULL);
    if (!glint__vm_tracks_writes(sb->vm))
        cr_skip_test("no dirty tracking here: trimming is off");
    for (uint64_t round = 1; round <= 3; round++) {
        /* Twice: the second restore sizes the sticky working set to hold these pages. */
        for (int twice = 0; twice < 2; twice++) {
            cr_assert_eq(churn(sb, round), 0, "round %llu: the fresh heap was not zero",
                         (unsigned long long)round);
            cr_assert_geq(heap_pages_written(sb), CHURN * MiB / PAGE, "the host sees the writes");
            cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
            expect_memory_is_image(sb, "restored");
        }
        uint64_t before = resident_outside_image(sb), resident, trimmed;
        cr_assert_geq(before, CHURN * MiB, "the restored zero pages are resident");
        cr_assert_eq(glint__sandbox_trim(sb, MAX_IDLE, &resident, &trimmed), 0, "%s",
                     glint_errmsg());
        cr_assert_geq(resident, before, "mincore counts at least what smaps does");
        cr_assert_geq(trimmed, CHURN * MiB);
        uint64_t after = resident_outside_image(sb);
        cr_assert_leq(after, MAX_IDLE, "round %llu: %llu KiB still resident",
                      (unsigned long long)round, (unsigned long long)(after / 1024));
        expect_memory_is_image(sb, "trimmed");
        /* The trimmed pages left the dirty log too: a call that writes no heap, and its
         * restore, do not fault them back in. */
        glint_value none[] = {glint_u32(0), glint_u64(0)}, ret;
        cr_assert_eq(glint_sandbox_call(sb, "Churn", none, 2, &ret), 0, "%s", glint_errmsg());
        cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
        after = resident_outside_image(sb);
        cr_assert_leq(after, MAX_IDLE, "round %llu: restore brought back %llu KiB",
                      (unsigned long long)round, (unsigned long long)(after / 1024));
    }
    /* Under the limit (a fresh sandbox: the host's reads above mapped the zero page, which
     * mincore counts): nothing is given back. */
    glint_sandbox_destroy(sb);
    sb = vm_sandbox(img, NULL);
    glint_value a[] = {glint_u32(1), glint_u64(9)}, ret;
    cr_assert_eq(glint_sandbox_call(sb, "Churn", a, 2, &ret), 0, "%s", glint_errmsg());
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0);
    uint64_t resident, trimmed;
    cr_assert_eq(glint__sandbox_trim(sb, 8 * MiB, &resident, &trimmed), 0);
    cr_assert_eq(trimmed, 0, "resident %llu KiB, trimmed %llu KiB",
                 (unsigned long long)resident / 1024, (unsigned long long)trimmed / 1024);
    cr_assert_geq(resident, 1 * MiB);
    cr_assert_geq(resident_outside_image(sb), 1 * MiB);
    expect_memory_is_image(sb, "untrimmed");
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

/* A pool: after the allocation-heavy call, give-back restores on the caller's thread and the
 * maintainer trims the idle sandbox below the limit; the next call sees pristine memory. */
Test(vm_trim, pool_trims_idle_sandbox_after_give_back, .timeout = 60)
{
    vm_require_kvm();
    glint_image *img = load_churn();
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    cr_assert_eq(pc.idle_resident_max, GLINT_POOL_IDLE_RESIDENT_DEFAULT);
    pc.size = 1;
    pc.idle_resident_max = MAX_IDLE;
    glint_pool *pool;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    glint_sandbox *sb = glint__pool_test_idle(pool, 10000, NULL);
    cr_assert_not_null(sb);
    if (!glint__vm_tracks_writes(sb->vm))
        cr_skip_test("no dirty tracking here: trimming is off");
    for (uint64_t round = 1; round <= 3; round++) {
        glint_value a[] = {glint_u32(CHURN), glint_u64(round)}, ret;
        cr_assert_eq(glint_pool_call(pool, "Churn", a, 2, &ret, NULL), 0, "%s", glint_errmsg());
        cr_assert_eq(ret.as.u64, 0, "round %llu: the call saw a dirty heap",
                     (unsigned long long)round);
        uint64_t trims = 0;
        sb = glint__pool_test_idle(pool, 10000, &trims);
        cr_assert_not_null(sb, "the pool did not settle");
        cr_assert_eq(trims, round, "the maintainer trimmed %llu times after %llu calls",
                     (unsigned long long)trims, (unsigned long long)round);
        uint64_t after = resident_outside_image(sb);
        cr_assert_leq(after, MAX_IDLE, "round %llu: %llu KiB resident after give-back",
                      (unsigned long long)round, (unsigned long long)(after / 1024));
        expect_memory_is_image(sb, "pooled");
    }
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* UINT64_MAX turns trimming off: the pool keeps what restores cleared. */
Test(vm_trim, pool_without_limit_keeps_pages, .timeout = 60)
{
    vm_require_kvm();
    glint_image *img = load_churn();
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 1;
    pc.idle_resident_max = UINT64_MAX;
    glint_pool *pool;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    glint_value a[] = {glint_u32(CHURN), glint_u64(5)}, ret;
    cr_assert_eq(glint_pool_call(pool, "Churn", a, 2, &ret, NULL), 0, "%s", glint_errmsg());
    uint64_t trims = 1;
    glint_sandbox *sb = glint__pool_test_idle(pool, 10000, &trims);
    cr_assert_not_null(sb);
    cr_assert_eq(trims, 0);
    cr_assert_geq(resident_outside_image(sb), CHURN * MiB);
    expect_memory_is_image(sb, "pooled");
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* A caller built against 0.1.0 passes the 20-byte struct: its pool trims at the default. */
Test(vm_trim, pool_0_1_0_config_trims_at_the_default, .timeout = 60)
{
    vm_require_kvm();
    glint_image *img = load_churn();
    glint_pool_config pc;
    memset(&pc, 0xa5, sizeof pc); /* bytes past the old struct must not be read */
    (glint_pool_config_init)(&pc);
    cr_assert_eq(pc.struct_size, 20);
    pc.size = 1;
    glint_pool *pool;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    glint_value a[] = {glint_u32(CHURN), glint_u64(3)}, ret;
    cr_assert_eq(glint_pool_call(pool, "Churn", a, 2, &ret, NULL), 0, "%s", glint_errmsg());
    uint64_t trims = 0;
    glint_sandbox *sb = glint__pool_test_idle(pool, 10000, &trims);
    cr_assert_not_null(sb);
    if (glint__vm_tracks_writes(sb->vm)) {
        cr_assert_eq(trims, 1);
        cr_assert_leq(resident_outside_image(sb), GLINT_POOL_IDLE_RESIDENT_DEFAULT);
    }
    expect_memory_is_image(sb, "pooled");
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}
