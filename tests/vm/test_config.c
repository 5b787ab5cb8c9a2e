/* VM tests: glint_config limits (max_image_memory), size rounding and struct_size compatibility. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "glint.h"
#include "helpers.h"

TestSuite(vm_config, .timeout = 60);

static int load_test_guest(const char *name, const glint_config *cfg, glint_image **img)
{
    char path[4096];
    vm_test_guest_path(path, sizeof path, name);
    *img = NULL;
    return glint_image_load_file(path, cfg, NULL, img);
}

/* A 64 MiB .bss is over the 16 MiB default: the load fails before any guest memory exists,
 * naming both sizes. */
Test(vm_config, big_bss_refused_by_default)
{
    vm_require_kvm();
    glint_image *img;
    int rc = load_test_guest("bigbss", NULL, &img);
    const char *msg = glint_errmsg();
    cr_assert_eq(rc, GLINT_EINVAL, "rc %d: %s", rc, msg);
    cr_assert_null(img);
    cr_assert(vm_contains(msg, "64."), "names the ELF's span: %s", msg);
    cr_assert(vm_contains(msg, "16 MiB max_image_memory"), "names the limit: %s", msg);
}

Test(vm_config, big_bss_loads_with_a_larger_limit)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.max_image_memory = 128ull << 20;
    glint_image *img;
    int rc = load_test_guest("bigbss", &cfg, &img);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value arg = glint_u32(5), r;
    cr_assert_eq(glint_sandbox_call(sb, "Check", &arg, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.u32, 5);
    arg = glint_u32((64u << 8) - 1);
    cr_assert_eq(glint_sandbox_call(sb, "Check", &arg, 1, &r), 0, "%s", glint_errmsg());
    cr_assert_eq(r.as.u32, (uint8_t)((64u << 8) - 1));
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
}

Test(vm_config, max_image_memory_range)
{
    vm_require_kvm();
    glint_config cfg;
    glint_image *img;
    glint_config_init(&cfg);
    cfg.max_image_memory = GLINT_IMAGE_MEMORY_MIN - 4096; /* below even rounded up */
    cr_assert_eq(load_test_guest("initprint", &cfg, &img), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "max_image_memory"), "%s", glint_errmsg());
    glint_config_init(&cfg);
    cfg.max_image_memory = GLINT_IMAGE_MEMORY_MAX + 1;
    cr_assert_eq(load_test_guest("initprint", &cfg, &img), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "max_image_memory"), "%s", glint_errmsg());
    glint_config_init(&cfg);
    cfg.max_image_memory = GLINT_IMAGE_MEMORY_MIN;
    cr_assert_eq(load_test_guest("initprint", &cfg, &img), 0, "%s", glint_errmsg());
    glint_image_destroy(img);
}

/* A caller built against the 0.1.0 header passes the smaller struct: the newer fields get
 * their defaults, and the library reads nothing past struct_size. */
Test(vm_config, old_size_config_gets_defaults)
{
    vm_require_kvm();
    size_t old = offsetof(glint_config, max_image_memory);
    glint_config *cfg = malloc(sizeof *cfg);
    cr_assert_not_null(cfg);
    memset(cfg, 0xff, sizeof *cfg); /* garbage past the old end */
    glint_config_init(cfg);
    cfg->max_image_memory = 1; /* out of range: must not be read */
    memset(&cfg->confine_init, 0xff, sizeof cfg->confine_init);
    cfg->struct_size = (uint32_t)old;
    cfg->timeout_ms = 0;
    glint_image *img;
    int rc = load_test_guest("initprint", cfg, &img);
    cr_assert_eq(rc, 0, "%s", glint_errmsg());
    glint_sandbox *sb = vm_sandbox(img, NULL);
    cr_assert_eq(vm_call_ok(sb, "Initialised", NULL, 0).as.i32, 7);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    /* The old size still caps the image at the default 16 MiB. */
    rc = load_test_guest("bigbss", cfg, &img);
    cr_assert_eq(rc, GLINT_EINVAL, "%s", glint_errmsg());
    cr_assert(vm_contains(glint_errmsg(), "16 MiB max_image_memory"), "%s", glint_errmsg());
    free(cfg);
}

Test(vm_config, struct_size_out_of_range)
{
    vm_require_kvm();
    glint_config cfg[2];
    memset(cfg, 0, sizeof cfg);
    glint_config_init(&cfg[0]);
    glint_image *img;
    cfg[0].struct_size = (uint32_t)offsetof(glint_config, max_image_memory) - 1;
    cr_assert_eq(load_test_guest("initprint", &cfg[0], &img), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "struct_size"), "%s", glint_errmsg());
    /* Larger than this library's struct: from a newer header; refused. */
    cfg[0].struct_size = (uint32_t)sizeof cfg[0] + 8;
    cr_assert_eq(load_test_guest("initprint", &cfg[0], &img), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "struct_size"), "%s", glint_errmsg());
}

/* Sizes just under a minimum round up to it, as documented ("rounded up to 4 KiB"), in the
 * library exactly as in the CLI. */
Test(vm_config, sizes_round_up_to_the_minimum)
{
    vm_require_kvm();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 1;
    cfg.stack_size = GLINT_STACK_SIZE_MIN - 1;
    cfg.input_size = GLINT_BUFFER_SIZE_MIN - 1;
    cfg.output_size = GLINT_BUFFER_SIZE_MIN - 1;
    glint_image *img;
    cr_assert_eq(load_test_guest("initprint", &cfg, &img), 0, "%s", glint_errmsg());
    glint_image_destroy(img);
    /* Below the minimum even after rounding: refused, naming the range. */
    glint_config_init(&cfg);
    cfg.stack_size = GLINT_STACK_SIZE_MIN - 4096;
    cr_assert_eq(load_test_guest("initprint", &cfg, &img), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "stack_size"), "%s", glint_errmsg());
}

Test(vm_config, pool_struct_size)
{
    vm_require_kvm();
    glint_image *img;
    cr_assert_eq(load_test_guest("initprint", NULL, &img), 0, "%s", glint_errmsg());
    glint_pool_config pc[2];
    memset(pc, 0, sizeof pc);
    glint_pool_config_init(&pc[0]);
    glint_pool *pool = NULL;
    pc[0].struct_size = (uint32_t)sizeof pc[0] + 8;
    cr_assert_eq(glint_pool_create(img, NULL, &pc[0], &pool), GLINT_EINVAL);
    cr_assert(vm_contains(glint_errmsg(), "struct_size"), "%s", glint_errmsg());
    pc[0].struct_size = (uint32_t)sizeof pc[0] - 1;
    cr_assert_eq(glint_pool_create(img, NULL, &pc[0], &pool), GLINT_EINVAL);
    cr_assert_null(pool);
    glint_image_destroy(img);
}
