/* Whitebox: a hot pool's background restore leaves guest memory equal to the image (whole-memory
 * comparison) and no byte of an earlier call's secret anywhere. */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <string.h>

#include "helpers.h"
#include "runtime/pool.h"
#include "whitebox.h"

#define MARK "HOT-TENANT-SECRET:"

TestSuite(wb_hot_restore, .timeout = 60);

static bool holds_mark(const glint_sandbox *sb)
{
    for (uint64_t off = 0; off + sizeof MARK - 1 <= sb->mem_size; off++)
        if (sb->mem[off] == 'H' && memcmp(sb->mem + off, MARK, sizeof MARK - 1) == 0)
            return true;
    return false;
}

Test(wb_hot_restore, background_restore_is_exact)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("isolation", NULL, NULL);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 1;
    pc.hot = 1;
    glint_pool *pool;
    cr_assert_eq(glint_pool_create(img, NULL, &pc, &pool), 0, "%s", glint_errmsg());
    double t0 = vm_now_ms();
    while (glint_pool_hot(pool) == 0 && vm_now_ms() - t0 < 5000)
        ;
    if (glint_pool_hot(pool) == 0)
        cr_skip_test("no hot sandbox admitted here");
    char secret[200];
    for (size_t i = 0; i + 1 < sizeof secret; i++)
        secret[i] = MARK[i % (sizeof MARK - 1)];
    secret[sizeof secret - 1] = 0;
    for (int i = 0; i < 20; i++) {
        glint_value seed = glint_u64(0xabc000u + (uint64_t)i), s = glint_string(secret);
        glint_failure f;
        cr_assert_eq(glint_pool_call(pool, "ScribbleAll", &seed, 1, NULL, &f), 0, "%s", f.message);
        cr_assert_eq(glint_pool_call(pool, "StoreSecret", &s, 1, NULL, &f), 0, "%s", f.message);
    }
    glint_sandbox *sb = glint__pool_test_idle(pool, 5000, NULL);
    cr_assert_not_null(sb);
    t0 = vm_now_ms();
    while (glint__hot_ready(sb) == 0 && vm_now_ms() - t0 < 5000)
        ;
    cr_assert_eq(glint__hot_ready(sb), 1, "the background restore finished");
    /* Rest the guest at its park (it was spinning for the next call), then compare. */
    cr_assert_eq(glint__sandbox_hot_pause(sb), 0, "%s", glint_errmsg());
    const struct glint__image_view v = glint__image_view(sb->img);
    const struct glint__layout *l = glint__image_layout(sb->img);
    for (uint64_t off = 0; off < sb->mem_size; off += 4096) {
        if (off == GLINT_ABI_HOT_ADDR)
            continue; /* host-written for hot mode, checked below */
        if (off >= l->stack_addr && off < l->stack_addr + l->stack_size)
            continue; /* the guest's frames while it spun and parked: checked for the secret */
        if (off >= GLINT_ABI_PT_ADDR && off < GLINT_ABI_PT_ADDR + (uint64_t)l->pt_pages * 4096)
            continue; /* accessed/dirty bits the CPU set while the restored guest ran */
        if (memcmp(sb->mem + off, v.mem + off, 4096) != 0)
            for (int k = 0; k < 4096; k++)
                if (sb->mem[off + k] != v.mem[off + k])
                    cr_log_error("0x%llx: %02x want %02x", (unsigned long long)(off + k),
                                 sb->mem[off + k], v.mem[off + k]);
        cr_assert(memcmp(sb->mem + off, v.mem + off, 4096) == 0,
                  "page 0x%llx differs from the image after the background restore",
                  (unsigned long long)off);
    }
    cr_assert_not(holds_mark(sb), "a byte pattern of an earlier call survived the restore");
    const struct glint_abi_hot *box = (const struct glint_abi_hot *)(sb->mem + GLINT_ABI_HOT_ADDR);
    cr_assert_eq(box->magic, 0u, "paused: hot mode off in the mailbox");
    cr_assert_eq(box->req_seq, box->done_seq);
    glint__sandbox_hot_resume(sb);
    glint_value r;
    glint_failure f;
    cr_assert_eq(glint_pool_call(pool, "Calls", NULL, 0, &r, &f), 0, "%s", f.message);
    cr_assert_eq(r.as.u64, 1u);
    glint_pool_destroy(pool);
    glint_image_destroy(img);
}

/* The exit-mode call handshake (call_seq / call_seen) lives in the mailbox page alone: a guest
 * whose page is zero again (an image that does not keep it) still takes every call exactly once.
 */
Test(wb_hot_restore, exit_mode_calls_survive_a_zeroed_mailbox)
{
    vm_require_kvm();
    glint_image *img = vm_load_test("types", NULL, NULL);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    int64_t last = 0;
    for (int i = 0; i < 5; i++) {
        int64_t c = vm_call_ok(sb, "Counter", NULL, 0).as.i64;
        cr_assert_eq(c, last + 1);
        last = c;
        glint__mark_host_dirty(sb, GLINT_ABI_HOT_ADDR, 4096);
        memset(sb->mem + GLINT_ABI_HOT_ADDR, 0, 4096);
    }
    glint_value x = glint_i32(12), r = vm_call_ok(sb, "EchoI32", &x, 1);
    cr_assert_eq(r.as.i32, 12);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}
