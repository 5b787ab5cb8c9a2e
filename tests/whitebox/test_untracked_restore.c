/* Whitebox tests: restore on a VM without dirty tracking copies back every page the memory map
 * says can change, and leaves memory exactly the image. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "whitebox.h"

/* The first page where the sandbox's memory differs from its image's, or -1. */
static long first_difference(const glint_sandbox *sb)
{
    for (uint64_t off = 0; off < sb->mem_size; off += GLINT_ABI_PAGE_SIZE)
        if (memcmp(sb->mem + off, sb->img->mem + off, GLINT_ABI_PAGE_SIZE) != 0)
            return (long)off;
    return -1;
}

static void expect_untracked(glint_sandbox *sb)
{
    uint64_t *bm = calloc(sb->img->bitmap_words, sizeof *bm);
    cr_assert_not_null(bm);
    cr_assert_eq(glint__vm_dirty_log(sb->vm, bm), 1, "the hook must make the VM untracked");
    free(bm);
}

/* Scribbling (heap, data, stack, buffers) and faulting (exception stack, page-table accessed and
 * dirty bits), then restoring, many times: memory is the image each time, byte for byte. */
Test(vm_untracked_restore, scribble_fault_restore_is_exact, .timeout = 60)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint__vm_test_untracked(sb->vm);
    expect_untracked(sb);
    for (uint64_t seed = 1; seed <= 10; seed++) {
        glint_value a = glint_u64(seed);
        const char *fn = seed % 2 ? "ScribbleAll" : "ScribbleThenFault";
        int rc = glint_sandbox_call(sb, fn, &a, 1, NULL);
        cr_assert(seed % 2 ? rc == 0 : rc == GLINT_EFAULT, "%s: %s", fn, glint_errmsg());
        cr_assert_neq(first_difference(sb), -1, "%s changed nothing?", fn);
        cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
        long off = first_difference(sb);
        cr_assert_eq(off, -1, "after %s and restore, page 0x%lx differs from the image", fn, off);
        expect_untracked(sb);
    }
    glint_value ret;
    cr_assert_eq(glint_sandbox_call(sb, "Calls", NULL, 0, &ret), 0, "%s", glint_errmsg());
    cr_assert_eq(ret.as.u64, 1, "state survived restore: Calls() = %lu", ret.as.u64);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

/* The same through a user snapshot: the snapshot holds every changeable page. */
Test(vm_untracked_restore, snapshot_round_trip_is_exact, .timeout = 60)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint__vm_test_untracked(sb->vm);
    glint_value a = glint_u64(7);
    cr_assert_eq(glint_sandbox_call(sb, "ScribbleAll", &a, 1, NULL), 0, "%s", glint_errmsg());
    uint8_t *want = malloc(sb->mem_size);
    cr_assert_not_null(want);
    memcpy(want, sb->mem, sb->mem_size);
    glint_snapshot *snap;
    cr_assert_eq(glint_sandbox_snapshot(sb, &snap), 0, "%s", glint_errmsg());
    a = glint_u64(8);
    cr_assert_eq(glint_sandbox_call(sb, "ScribbleAll", &a, 1, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(glint_sandbox_restore(sb, snap), 0, "%s", glint_errmsg());
    for (uint64_t off = 0; off < sb->mem_size; off += GLINT_ABI_PAGE_SIZE)
        cr_assert_eq(memcmp(sb->mem + off, want + off, GLINT_ABI_PAGE_SIZE), 0,
                     "page 0x%llx differs from the snapshot", (unsigned long long)off);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(first_difference(sb), -1, "restore to the image after a snapshot restore");
    free(want);
    glint_snapshot_destroy(snap);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}
