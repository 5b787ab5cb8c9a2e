/* VM tests for snapshot and restore: exact memory and vCPU state after hostile activity. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <seccomp.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "whitebox.h"

/* The first bytes that differ between the sandbox's memory and want, or -1. */
static long first_difference(const glint_sandbox *sb, const uint8_t *want)
{
    for (uint64_t off = 0; off < sb->mem_size; off += 4096)
        if (memcmp(sb->mem + off, want + off, 4096) != 0)
            return (long)off;
    return -1;
}

static void assert_memory_is_image(const glint_sandbox *sb)
{
    long off = first_difference(sb, sb->img->mem);
    cr_assert_eq(off, -1, "guest memory differs from the image at page 0x%lx", off);
}

/* The vCPU layout KVM hands out, as in src/hv/kvm_x86.c. */
struct state_view {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_vcpu_events events;
    struct kvm_fpu fpu;
    uint8_t xsave[];
};

static void assert_vcpu_is(glint_sandbox *sb, const glint__vcpu_state *want)
{
    glint__vcpu_state *got;
    cr_assert_eq(glint__vm_save(sb->vm, &got), 0, "%s", glint_errmsg());
    const struct state_view *g = (const void *)got, *w = (const void *)want;
    cr_expect_eq(memcmp(&g->regs, &w->regs, sizeof g->regs), 0, "general registers differ");
    cr_expect_eq(memcmp(&g->sregs, &w->sregs, sizeof g->sregs), 0,
                 "segment/control registers differ");
    /* Legacy area (x87, MXCSR, XMM0-15) + XSAVE header + AVX upper halves. */
    cr_expect_eq(memcmp(g->xsave, w->xsave, 1024), 0, "FPU/SSE/AVX state differs");
    glint__vcpu_state_free(got);
}

Test(vm_restore, memory_and_registers_exact_after_scribble)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    assert_memory_is_image(sb); /* a new sandbox is the image */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        glint_value a = glint_u64(seed);
        cr_assert_eq(glint_sandbox_call(sb, "ScribbleAll", &a, 1, NULL), 0, "%s", glint_errmsg());
        cr_assert_neq(first_difference(sb, img->mem), -1, "scribbling changed nothing?");
        cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
        assert_memory_is_image(sb);
        assert_vcpu_is(sb, img->state);
    }
    glint_value ret;
    cr_assert_eq(glint_sandbox_call(sb, "Calls", NULL, 0, &ret), 0);
    cr_assert_eq(ret.as.u64, 1, "state survived restore: Calls() = %lu", ret.as.u64);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

Test(vm_restore, poisoned_by_fault_then_restored_exactly)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value a = glint_u64(7);
    int rc = glint_sandbox_call(sb, "ScribbleThenFault", &a, 1, NULL);
    vm_expect_failure(sb, rc, GLINT_EFAULT, GLINT_FAIL_FAULT);
    cr_assert(glint_sandbox_poisoned(sb));
    cr_assert_eq(glint_sandbox_call(sb, "Calls", NULL, 0, NULL), GLINT_EPOISONED);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert(!glint_sandbox_poisoned(sb));
    assert_memory_is_image(sb);
    assert_vcpu_is(sb, img->state);
    glint_value ret;
    cr_assert_eq(glint_sandbox_call(sb, "Calls", NULL, 0, &ret), 0, "%s", glint_errmsg());
    cr_assert_eq(ret.as.u64, 1);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

Test(vm_restore, timeout_then_restore_is_usable)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_sandbox_set_timeout(sb, 50);
    vm_expect_failure(sb, glint_sandbox_call(sb, "Spin", NULL, 0, NULL), GLINT_ETIMEDOUT,
                      GLINT_FAIL_TIMEOUT);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    assert_memory_is_image(sb);
    assert_vcpu_is(sb, img->state);
    cr_assert_eq(glint_sandbox_call(sb, "Nop", NULL, 0, NULL), 0, "%s", glint_errmsg());
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

Test(vm_restore, no_data_survives_between_requests)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value s = glint_string("alice's password"), ret;
    cr_assert_eq(glint_sandbox_call(sb, "StoreSecret", &s, 1, NULL), 0);
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0);
    cr_assert_eq(glint_sandbox_call(sb, "LoadSecret", NULL, 0, &ret), 0);
    cr_assert_str_eq(ret.as.str.ptr, "", "request 2 saw request 1's data");
    /* Nothing of it anywhere in guest memory either. */
    cr_assert_null(memmem(sb->mem, sb->mem_size, "alice", 5));
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

Test(vm_restore, user_snapshot_round_trip)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value a = glint_string("first"), b = glint_string("second"), ret;
    cr_assert_eq(glint_sandbox_call(sb, "StoreSecret", &a, 1, NULL), 0);
    glint_snapshot *snap;
    cr_assert_eq(glint_sandbox_snapshot(sb, &snap), 0, "%s", glint_errmsg());
    uint8_t *copy = malloc(sb->mem_size);
    memcpy(copy, sb->mem, sb->mem_size);

    cr_assert_eq(glint_sandbox_call(sb, "StoreSecret", &b, 1, NULL), 0);
    glint_value seed = glint_u64(99);
    cr_assert_eq(glint_sandbox_call(sb, "ScribbleAll", &seed, 1, NULL), 0);
    cr_assert_eq(glint_sandbox_restore(sb, snap), 0, "%s", glint_errmsg());
    long off = first_difference(sb, copy);
    cr_assert_eq(off, -1, "memory differs from the snapshot at 0x%lx", off);
    assert_vcpu_is(sb, snap->state);
    cr_assert_eq(glint_sandbox_call(sb, "LoadSecret", NULL, 0, &ret), 0);
    cr_assert_str_eq(ret.as.str.ptr, "first");

    /* Back to the image, then to the snapshot again (pages not written
     * since the image restore must still come back). */
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0);
    assert_memory_is_image(sb);
    cr_assert_eq(glint_sandbox_restore(sb, snap), 0);
    cr_assert_eq(glint_sandbox_call(sb, "LoadSecret", NULL, 0, &ret), 0);
    cr_assert_str_eq(ret.as.str.ptr, "first");
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0);
    assert_memory_is_image(sb);

    /* A snapshot works on another sandbox of the same image too. */
    glint_sandbox *other = vm_sandbox(img, NULL);
    cr_assert_eq(glint_sandbox_restore(other, snap), 0, "%s", glint_errmsg());
    cr_assert_eq(glint_sandbox_call(other, "LoadSecret", NULL, 0, &ret), 0);
    cr_assert_str_eq(ret.as.str.ptr, "first");
    glint_sandbox_destroy(other);

    free(copy);
    glint_snapshot_destroy(snap);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

Test(vm_restore, snapshot_refuses_poisoned_and_foreign)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_image *img2 = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL), *sb2 = vm_sandbox(img2, NULL);
    glint_snapshot *snap;
    cr_assert_eq(glint_sandbox_snapshot(sb, &snap), 0);
    cr_assert_eq(glint_sandbox_restore(sb2, snap), GLINT_EINVAL, "snapshot of another image");
    glint_value a = glint_u64(1);
    glint_sandbox_call(sb, "ScribbleThenFault", &a, 1, NULL);
    glint_snapshot *bad = NULL;
    cr_assert_eq(glint_sandbox_snapshot(sb, &bad), GLINT_EPOISONED);
    cr_assert_null(bad);
    glint_snapshot_destroy(snap);
    glint_sandbox_destroy(sb);
    glint_sandbox_destroy(sb2);
    glint_image_destroy(img);
    glint_image_destroy(img2);
}

Test(vm_restore, working_set_shrinks_and_stays_exact)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 8 << 20;
    glint_image *img = vm_load_test("isolation", &cfg, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    /* Far more pages than GLINT__STICKY_MAX_PAGES, then few: each restore
     * must stay exact whether the set was just re-protected or not. */
    uint32_t counts[] = {1, 600, 16, 16, 1000, 3, 0, 256, 257, 1};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        glint_value a[] = {glint_u32(counts[i]), glint_u64(i * 1000 + 1)}, ret;
        cr_assert_eq(glint_sandbox_call(sb, "DirtyPages", a, 2, &ret), 0, "%s", glint_errmsg());
        cr_assert_eq(ret.as.u32, counts[i]);
        cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
        assert_memory_is_image(sb);
    }
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

Test(vm_restore, thousands_of_restores_never_miss_a_write)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    for (uint32_t i = 0; i < 2000; i++) {
        glint_value a[] = {glint_u32(1 + i % 24), glint_u64(i + 1)};
        cr_assert_eq(glint_sandbox_call(sb, "DirtyPages", a, 2, NULL), 0);
        cr_assert_eq(glint_sandbox_restore(sb, NULL), 0);
        if (i % 97 == 0)
            assert_memory_is_image(sb);
    }
    assert_memory_is_image(sb);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

/* A restore on a thread whose loads of the vCPU's FPU state fail (seccomp
 * filters are per thread): KVM_SET_XSAVE, or KVM_SET_FPU where there is no
 * XSAVE. The registers travel lazily in kvm_run, so this is the first vCPU
 * load to fail, after every page copy. */
struct broken_restore {
    glint_sandbox *sb;
    const glint_snapshot *snap;
    int code; /* 0: failed and poisoned as it must; else what went wrong */
};

static void *restore_with_broken_fpu_load(void *arg)
{
    struct broken_restore *b = arg;
    /* Requests in variables: SCMP_A1 leaves a field to zero-initialisation,
     * which -Wextra reports when the macro's last token comes from a
     * non-system header (the vendored linux/kvm.h). */
    const scmp_datum_t set_xsave = KVM_SET_XSAVE, set_fpu = KVM_SET_FPU;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                         SCMP_A1(SCMP_CMP_EQ, set_xsave)) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                         SCMP_A1(SCMP_CMP_EQ, set_fpu)) != 0 ||
        seccomp_load(ctx) != 0) {
        b->code = 12;
        return NULL;
    }
    seccomp_release(ctx);
    glint_snapshot *s = NULL;
    if (glint_sandbox_restore(b->sb, b->snap) == 0)
        b->code = 14; /* the filter did not bite */
    else if (!glint_sandbox_poisoned(b->sb))
        b->code = 1;
    else if (glint_sandbox_call(b->sb, "Nop", NULL, 0, NULL) != GLINT_EPOISONED)
        b->code = 2;
    else if (glint_sandbox_snapshot(b->sb, &s) != GLINT_EPOISONED)
        b->code = 3;
    else
        b->code = 0;
    return NULL;
}

static int broken_restore(glint_sandbox *sb, const glint_snapshot *snap)
{
    struct broken_restore b = {.sb = sb, .snap = snap, .code = 15};
    pthread_t t;
    if (pthread_create(&t, NULL, restore_with_broken_fpu_load, &b) != 0)
        return 16;
    pthread_join(t, NULL);
    return b.code;
}

static bool same_memory(const glint_sandbox *sb, const uint8_t *want)
{
    return memcmp(sb->mem, want, sb->mem_size) == 0;
}

/* In a child (the filter's no_new_privs stays with the process): restores
 * to the image and to a snapshot fail halfway; each must poison, and a
 * later good restore must still reach exactly the target. Exit 0 if so. */
static int restore_fails_halfway(void)
{
    glint_image *img = NULL;
    glint_sandbox *sb = NULL;
    char path[4096];
    vm_test_guest_path(path, sizeof path, "isolation");
    if (glint_image_load_file(path, NULL, NULL, &img) || glint_sandbox_create(img, NULL, &sb))
        return 10;
    /* DirtyPages writes only heap pages: the input buffer stays a page that
     * only the host writes, so only host accounting can bring it back. */
    glint_value st = glint_string("snapshot state"), dp[2] = {glint_u32(8), glint_u64(5)};
    glint_snapshot *snap = NULL;
    if (glint_sandbox_call(sb, "StoreSecret", &st, 1, NULL) || glint_sandbox_snapshot(sb, &snap))
        return 11;
    uint8_t *copy = malloc(sb->mem_size);
    if (!copy)
        return 11;
    memcpy(copy, sb->mem, sb->mem_size);
    if (glint_sandbox_restore(sb, NULL) || !same_memory(sb, img->mem))
        return 11;

    if (glint_sandbox_call(sb, "DirtyPages", dp, 2, NULL) != 0)
        return 13;
    int code = broken_restore(sb, NULL);
    if (code)
        return code;
    if (glint_sandbox_restore(sb, NULL) != 0 || glint_sandbox_poisoned(sb))
        return 4;
    if (!same_memory(sb, img->mem))
        return 5;

    code = broken_restore(sb, snap); /* copies the snapshot's pages, then fails */
    if (code)
        return code;
    if (glint_sandbox_restore(sb, NULL) != 0)
        return 4;
    if (!same_memory(sb, img->mem))
        return 6;
    if (glint_sandbox_restore(sb, snap) != 0)
        return 4;
    if (!same_memory(sb, copy))
        return 7;
    if (glint_sandbox_call(sb, "Nop", NULL, 0, NULL) != 0)
        return 8;
    free(copy);
    glint_snapshot_destroy(snap);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    return 0;
}

Test(vm_restore, restore_failing_halfway_poisons, .timeout = 60)
{
    vm_require_kvm();
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0)
        _exit(restore_fails_halfway());
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died (status 0x%x)", status);
    int code = WEXITSTATUS(status);
    cr_assert_lt(code, 10, "test set-up failed in the child (code %d)", code);
    cr_assert_neq(code, 1, "restore failed after copying pages, yet the sandbox is not poisoned");
    cr_assert_neq(code, 2, "a call on the half-restored sandbox did not fail with EPOISONED");
    cr_assert_neq(code, 3, "a snapshot of the half-restored sandbox was not refused");
    cr_assert_neq(code, 4, "a good restore after a failed one failed or left the sandbox poisoned");
    cr_assert_neq(code, 5, "after a failed and a good restore, memory differs from the image");
    cr_assert_neq(code, 6,
                  "pages a failed restore copied from a snapshot survived the next restore");
    cr_assert_neq(code, 7, "after a failed restore, a restore to the snapshot is not exact");
    cr_assert_eq(code, 0, "child exit code %d", code);
}

Test(vm_restore, restore_refused_before_any_change_does_not_poison)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_image *img2 = vm_load_test("isolation", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL), *sb2 = vm_sandbox(img2, NULL);
    glint_snapshot *snap;
    cr_assert_eq(glint_sandbox_snapshot(sb2, &snap), 0, "%s", glint_errmsg());
    cr_assert_eq(glint_sandbox_restore(sb, snap), GLINT_EINVAL);
    cr_assert(!glint_sandbox_poisoned(sb), "a refused restore poisoned the sandbox");
    cr_assert_eq(glint_sandbox_call(sb, "Nop", NULL, 0, NULL), 0, "%s", glint_errmsg());
    glint_snapshot_destroy(snap);
    glint_sandbox_destroy(sb);
    glint_sandbox_destroy(sb2);
    glint_image_destroy(img);
    glint_image_destroy(img2);
}
