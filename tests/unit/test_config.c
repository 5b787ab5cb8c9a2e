/* Unit tests: glint_config reading (struct_size compatibility, size rounding, ranges) and the
 * max_image_memory check on the ELF's span, all without KVM. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "load/elf.h"
#include "elf_builder.h"
#include "runtime/error.h"
#include "glint.h"
#include "mem/layout.h"

#define MIB (1ull << 20)

TestSuite(config);

Test(config, defaults)
{
    glint_config c;
    cr_assert_eq(glint__config_read(NULL, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.max_image_memory, 16 * MIB);
    cr_assert(c.confine_init);
    cr_assert_eq(c.struct_size, sizeof c);
}

Test(config, old_size_gets_defaults_for_new_fields)
{
    glint_config in, c;
    glint_config_init(&in);
    in.heap_size = 1 * MIB;
    in.timeout_ms = 7;
    in.max_image_memory = 1; /* past the old end: must not be read */
    in.confine_init = false;
    in.struct_size = (uint32_t)offsetof(glint_config, max_image_memory);
    cr_assert_eq(glint__config_read(&in, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.heap_size, 1 * MIB);
    cr_assert_eq(c.timeout_ms, 7);
    cr_assert_eq(c.max_image_memory, 16 * MIB);
    cr_assert(c.confine_init);
}

Test(config, struct_size_limits)
{
    glint_config in, c;
    glint_config_init(&in);
    in.struct_size = (uint32_t)offsetof(glint_config, max_image_memory) - 1;
    cr_assert_eq(glint__config_read(&in, &c), GLINT_EINVAL);
    cr_assert(strstr(glint_errmsg(), "struct_size") != NULL, "%s", glint_errmsg());
    in.struct_size = 0;
    cr_assert_eq(glint__config_read(&in, &c), GLINT_EINVAL);
    in.struct_size = (uint32_t)sizeof in + 1;
    cr_assert_eq(glint__config_read(&in, &c), GLINT_EINVAL);
    cr_assert(strstr(glint_errmsg(), "newer glint.h") != NULL, "%s", glint_errmsg());
}

/* One rule for every size: round up to 4 KiB, then check the range (the CLI uses the same
 * constants and rule). */
Test(config, sizes_round_up_then_range_check)
{
    static const struct {
        size_t off;
        uint64_t min, max;
    } f[] = {
        {offsetof(glint_config, heap_size), GLINT_HEAP_SIZE_MIN, GLINT_HEAP_SIZE_MAX},
        {offsetof(glint_config, stack_size), GLINT_STACK_SIZE_MIN, GLINT_STACK_SIZE_MAX},
        {offsetof(glint_config, input_size), GLINT_BUFFER_SIZE_MIN, GLINT_BUFFER_SIZE_MAX},
        {offsetof(glint_config, output_size), GLINT_BUFFER_SIZE_MIN, GLINT_BUFFER_SIZE_MAX},
        {offsetof(glint_config, max_image_memory), GLINT_IMAGE_MEMORY_MIN, GLINT_IMAGE_MEMORY_MAX},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        const uint64_t cases[][2] = {
            /* value, result (0: refused) */
            {f[i].min - 1, f[i].min},
            {f[i].min, f[i].min},
            {f[i].min + 1, f[i].min + 4096},
            {f[i].max, f[i].max},
            {f[i].max - 4095, f[i].max},
            {f[i].max + 1, 0},
            {f[i].min - 4096, 0},
            {0, 0},
            {UINT64_MAX, 0},
        };
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            glint_config in, c;
            glint_config_init(&in);
            memcpy((char *)&in + f[i].off, &cases[k][0], 8);
            int rc = glint__config_read(&in, &c);
            if (cases[k][0] == 0 && i < 4) {
                /* The four sizes: 0 is "not set", the guest's or glint's default. */
                cr_assert_eq(rc, 0, "field %zu: 0 is the default: %s", i, glint_errmsg());
                continue;
            }
            if (cases[k][1] == 0) {
                cr_assert_eq(rc, GLINT_EINVAL, "field %zu value %llu accepted", i,
                             (unsigned long long)cases[k][0]);
                continue;
            }
            cr_assert_eq(rc, 0, "field %zu value %llu: %s", i, (unsigned long long)cases[k][0],
                         glint_errmsg());
            uint64_t got;
            memcpy(&got, (char *)&c + f[i].off, 8);
            cr_assert_eq(got, cases[k][1], "field %zu value %llu -> %llu", i,
                         (unsigned long long)cases[k][0], (unsigned long long)got);
        }
    }
}

/* The builder's image with its .bss grown to bss bytes. */
static void build_big(struct elfb_image *im, uint64_t bss)
{
    cr_assert_eq(elfb_build(im, 2), 0);
    elfb_phdr(im, ELFB_PH_DATA)->p_memsz = bss;
}

Test(config, elf_span_over_max_image_memory)
{
    struct elfb_image im;
    build_big(&im, 64 * MIB);
    struct glint__elf e;
    cr_assert_eq(glint__elf_parse(im.data, im.len, &e), 0, "%s", glint_errmsg());
    glint_config c;
    cr_assert_eq(glint__config_read(NULL, &c), 0);
    struct glint__layout l;
    cr_assert_eq(glint__layout_compute(&e, &c, &l), GLINT_EINVAL);
    const char *msg = glint_errmsg();
    cr_assert(strstr(msg, "span 64.0 MiB, over the 16 MiB max_image_memory") != NULL, "%s", msg);
    /* With a larger limit the same ELF lays out. */
    c.max_image_memory = 128 * MIB;
    cr_assert_eq(glint__layout_compute(&e, &c, &l), 0, "%s", glint_errmsg());
    cr_assert_geq(l.heap_addr, im.data_vaddr + 64 * MIB);
    glint__elf_release(&e);
    /* The public loader refuses it before it needs KVM or maps guest memory. */
    glint_image *img = NULL;
    cr_assert_eq(glint_image_load_memory(im.data, im.len, NULL, NULL, &img), GLINT_EINVAL);
    cr_assert(strstr(glint_errmsg(), "max_image_memory") != NULL, "%s", glint_errmsg());
    cr_assert_null(img);
    elfb_free(&im);
}

/* The span counts from the lowest page to the highest: a far segment costs page tables and
 * address space even if small. */
Test(config, elf_span_counts_gaps)
{
    struct elfb_image im;
    cr_assert_eq(elfb_build(&im, 2), 0);
    cr_assert_geq(elfb_add_empty_load(&im, GLINT_ABI_IMAGE_BASE + 32 * MIB), 0);
    struct glint__elf e;
    cr_assert_eq(glint__elf_parse(im.data, im.len, &e), 0, "%s", glint_errmsg());
    glint_config c;
    cr_assert_eq(glint__config_read(NULL, &c), 0);
    struct glint__layout l;
    cr_assert_eq(glint__layout_compute(&e, &c, &l), GLINT_EINVAL);
    cr_assert(strstr(glint_errmsg(), "span 32.0 MiB") != NULL, "%s", glint_errmsg());
    glint__elf_release(&e);
    elfb_free(&im);
}
