/* Whitebox tests for derived images and sparse image memory: whole-memory comparisons. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "helpers.h"
#include "whitebox.h"

TestSuite(wb_derive, .timeout = 60);

/* The first page offset at which a and b (size bytes) differ, or -1. */
static long first_difference(const uint8_t *a, const uint8_t *b, uint64_t size)
{
    for (uint64_t off = 0; off < size; off += 4096)
        if (memcmp(a + off, b + off, 4096) != 0)
            return (long)off;
    return -1;
}

static void assert_same_memory(const uint8_t *got, const uint8_t *want, uint64_t size,
                               const char *what)
{
    long off = first_difference(got, want, size);
    cr_assert_eq(off, -1, "%s: guest memory differs at page 0x%lx", what, off);
}

/* Pages of [p, p+size) that are resident in host memory. */
static size_t resident_pages(const uint8_t *p, uint64_t size)
{
    size_t n = size / 4096, count = 0;
    unsigned char *v = malloc(n);
    cr_assert_not_null(v);
    cr_assert_eq(mincore((void *)(uintptr_t)p, size, v), 0);
    for (size_t i = 0; i < n; i++)
        count += v[i] & 1;
    free(v);
    return count;
}

Test(wb_derive, derived_image_is_the_sandbox_and_restores_exactly)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("stateful", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value a = glint_string("the loaded state");
    vm_call_ok(sb, "Load", &a, 1);
    glint_image *d = NULL;
    cr_assert_eq(glint_image_derive(sb, &d), 0, "%s", glint_errmsg());
    assert_same_memory(d->mem, sb->mem, sb->mem_size, "derived image vs its source sandbox");
    cr_assert_neq(first_difference(d->mem, img->mem, sb->mem_size), -1,
                  "derived image equals the source image");
    /* Its page index names exactly its non-zero pages. */
    static const uint8_t zero[4096];
    uint32_t k = 0;
    for (uint64_t p = 0; p < sb->mem_size / 4096; p++) {
        bool nz = memcmp(d->mem + p * 4096, zero, 4096) != 0;
        bool indexed = k < d->npages && d->pages[k] == p;
        cr_assert_eq(nz, indexed, "page 0x%lx: non-zero %d, indexed %d", p, nz, indexed);
        k += indexed;
    }
    glint_sandbox *dsb = vm_sandbox(d, NULL);
    assert_same_memory(dsb->mem, d->mem, dsb->mem_size, "new sandbox of the derived image");
    for (uint32_t i = 1; i <= 5; i++) {
        glint_value n = glint_u32(4 * i);
        vm_call_ok(dsb, "Scribble", &n, 1);
        cr_assert_neq(first_difference(dsb->mem, d->mem, dsb->mem_size), -1, "no scribble?");
        cr_assert_eq(glint_sandbox_restore(dsb, NULL), 0, "%s", glint_errmsg());
        assert_same_memory(dsb->mem, d->mem, dsb->mem_size, "after Scribble and restore");
    }
    glint_sandbox_destroy(dsb);
    glint_image_destroy(d);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

/* Image load and sandbox creation touch only the pages the guest and the
 * template wrote: a 64 MiB heap stays unmapped in the image and sandbox. */
Test(wb_derive, large_heap_image_keeps_only_written_pages)
{
    vm_require_kvm();
    glint_config c;
    glint_config_init(&c);
    c.heap_size = 64ull << 20;
    glint_image *img = vm_load_test("stateful", &c, NULL);
    uint64_t total = img->layout.mem_size / 4096;
    size_t res = resident_pages(img->mem, img->layout.mem_size);
    cr_assert_lt(img->npages, 512, "%u non-zero pages indexed of %lu", img->npages, total);
    cr_assert_leq(res, (size_t)img->npages + 64,
                  "image keeps %zu of %lu pages resident (%u non-zero)", res, total, img->npages);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value a = glint_string("abc");
    vm_call_ok(sb, "Load", &a, 1);
    res = resident_pages(sb->mem, sb->mem_size);
    cr_assert_leq(res, (size_t)img->npages + 64, "sandbox has %zu of %lu pages resident", res,
                  total);
    /* (Reading all memory maps the zero page everywhere: compare last.) */
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    assert_same_memory(sb->mem, img->mem, sb->mem_size, "after restore");
    glint_sandbox *fresh = vm_sandbox(img, NULL);
    assert_same_memory(fresh->mem, img->mem, sb->mem_size, "new sandbox of a sparse image");
    glint_sandbox_destroy(fresh);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}
