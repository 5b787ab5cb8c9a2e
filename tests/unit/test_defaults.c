/* Unit tests: the guest's defaults note (GLINT_GUEST_DEFAULTS) as parsed and validated, and the
 * size precedence caller > guest > glint; the budget's public numbers. No KVM. */
#include <criterion/criterion.h>

#include <string.h>

#include "elf_builder.h"
#include "glint.h"
#include "load/elf.h"
#include "mem/layout.h"
#include "runtime/error.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)

static struct elfb_image img;

static void setup(void)
{
    cr_assert_eq(elfb_build(&img, 2), 0);
}

static void teardown(void)
{
    elfb_free(&img);
}

TestSuite(defaults, .init = setup, .fini = teardown);

static void parse_ok(struct glint__elf *e)
{
    glint__clear_error();
    cr_assert_eq(glint__elf_parse(img.data, img.len, e), 0, "%s", glint_errmsg());
}

/* A guest without the note (every guest built before it) is valid and declares nothing. */
Test(defaults, absent_is_valid_and_zero)
{
    struct glint__elf e;
    parse_ok(&e);
    struct glint_abi_defaults zero;
    memset(&zero, 0, sizeof zero);
    cr_assert_eq(memcmp(&e.defaults, &zero, sizeof zero), 0);
    glint__elf_release(&e);
}

Test(defaults, parsed)
{
    struct glint_abi_defaults d = {.heap_size = 16 * MIB,
                                   .stack_size = 256 * KIB,
                                   .input_size = 64 * KIB,
                                   .flags = GLINT_ABI_DEFAULTS_BUDGET};
    cr_assert_eq(elfb_add_defaults(&img, &d, sizeof d), 0);
    struct glint__elf e;
    parse_ok(&e);
    cr_assert_eq(e.defaults.heap_size, 16 * MIB);
    cr_assert_eq(e.defaults.stack_size, 256 * KIB);
    cr_assert_eq(e.defaults.input_size, 64 * KIB);
    cr_assert_eq(e.defaults.output_size, 0);
    cr_assert_eq(e.defaults.flags, GLINT_ABI_DEFAULTS_BUDGET);
    cr_assert_eq(e.note.abi_version, GLINT_ABI_VERSION, "the ABI note is still read");
    glint__elf_release(&e);
}

/* The note before the ABI note in the segment: order does not matter. */
Test(defaults, before_the_abi_note)
{
    struct glint_abi_defaults d = {.heap_size = 1 * MIB};
    uint8_t abi[ELFB_NOTE_SIZE];
    memcpy(abi, img.data + img.note_off, sizeof abi);
    elfb_phdr(&img, ELFB_PH_NOTE)->p_filesz = 0;
    cr_assert_eq(elfb_add_defaults(&img, &d, sizeof d), 0);
    Elf64_Phdr *ph = elfb_phdr(&img, ELFB_PH_NOTE);
    memcpy(img.data + ph->p_offset + ph->p_filesz, abi, sizeof abi);
    ph->p_filesz += sizeof abi;
    ph->p_memsz = ph->p_filesz;
    struct glint__elf e;
    parse_ok(&e);
    cr_assert_eq(e.defaults.heap_size, 1 * MIB);
    glint__elf_release(&e);
}

/* Every edge of every range: the limits themselves pass, one page beyond fails. */
Test(defaults, range_edges)
{
    struct {
        size_t off;
        uint64_t min, max;
    } f[] = {
        {offsetof(struct glint_abi_defaults, heap_size), GLINT_HEAP_SIZE_MIN, GLINT_HEAP_SIZE_MAX},
        {offsetof(struct glint_abi_defaults, stack_size), GLINT_STACK_SIZE_MIN,
         GLINT_STACK_SIZE_MAX},
        {offsetof(struct glint_abi_defaults, input_size), GLINT_BUFFER_SIZE_MIN,
         GLINT_BUFFER_SIZE_MAX},
        {offsetof(struct glint_abi_defaults, output_size), GLINT_BUFFER_SIZE_MIN,
         GLINT_BUFFER_SIZE_MAX},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        /* min - 4096 is 0 (= none, valid) for some fields: then one more too big. */
        uint64_t below = f[i].min > 4096 ? f[i].min - 4096 : f[i].max + 8192;
        uint64_t vals[] = {f[i].min, f[i].max, below, f[i].max + 4096, f[i].min + 1};
        for (size_t k = 0; k < 5; k++) {
            elfb_free(&img);
            cr_assert_eq(elfb_build(&img, 2), 0);
            struct glint_abi_defaults d;
            memset(&d, 0, sizeof d);
            memcpy((char *)&d + f[i].off, &vals[k], 8);
            cr_assert_eq(elfb_add_defaults(&img, &d, sizeof d), 0);
            struct glint__elf e;
            int rc = glint__elf_parse(img.data, img.len, &e);
            if (k < 2) {
                cr_assert_eq(rc, 0, "field %zu value %llu: %s", i, (unsigned long long)vals[k],
                             glint_errmsg());
                glint__elf_release(&e);
            } else {
                cr_assert_eq(rc, GLINT_EABI, "field %zu value %llu accepted", i,
                             (unsigned long long)vals[k]);
                cr_assert(strstr(glint_errmsg(), "defaults note") != NULL, "%s", glint_errmsg());
            }
        }
    }
}

static const struct glint_abi_defaults lua_like = {
    .heap_size = 16 * MIB, .stack_size = 256 * KIB, .input_size = 64 * KIB};

/* glint_config_init leaves the sizes 0: "not set". */
Test(defaults, init_leaves_sizes_unset)
{
    glint_config c;
    glint_config_init(&c);
    cr_assert_eq(c.heap_size, 0);
    cr_assert_eq(c.stack_size, 0);
    cr_assert_eq(c.input_size, 0);
    cr_assert_eq(c.output_size, 0);
    cr_assert_eq(c.budget, 0);
}

/* No guest defaults: glint's. */
Test(defaults, glint_defaults_without_guest)
{
    glint_config c;
    cr_assert_eq(glint__config_resolve(NULL, NULL, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.heap_size, 128 * KIB);
    cr_assert_eq(c.stack_size, 64 * KIB);
    cr_assert_eq(c.input_size, 16 * KIB);
    cr_assert_eq(c.output_size, 16 * KIB);
}

/* Guest defaults fill what the caller left 0; glint's fill what the guest left 0. */
Test(defaults, guest_over_glint)
{
    glint_config c;
    cr_assert_eq(glint__config_resolve(NULL, &lua_like, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.heap_size, 16 * MIB);
    cr_assert_eq(c.stack_size, 256 * KIB);
    cr_assert_eq(c.input_size, 64 * KIB);
    cr_assert_eq(c.output_size, 16 * KIB, "the guest declared none: glint's");
}

/* A field the caller set wins over the guest's, even a smaller one. */
Test(defaults, caller_over_guest)
{
    glint_config in, c;
    glint_config_init(&in);
    in.heap_size = 1 * MIB;
    in.output_size = 32 * KIB;
    cr_assert_eq(glint__config_resolve(&in, &lua_like, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.heap_size, 1 * MIB);
    cr_assert_eq(c.stack_size, 256 * KIB);
    cr_assert_eq(c.input_size, 64 * KIB);
    cr_assert_eq(c.output_size, 32 * KIB);
}

/* A 0.1.0 caller's struct: its init set explicit sizes (the 0.1.0 defaults), which are the
 * caller's and win; the old entry point still initialises only the 0.1.0 bytes. */
Test(defaults, old_struct_sizes_are_explicit)
{
    glint_config in, c;
    memset(&in, 0xff, sizeof in);
    glint_config_init_sized(&in, offsetof(glint_config, max_image_memory));
    in.heap_size = 128 * KIB; /* what a 0.1.0 header's init wrote */
    in.stack_size = 64 * KIB;
    in.input_size = 16 * KIB;
    in.output_size = 16 * KIB;
    cr_assert_eq(glint__config_resolve(&in, &lua_like, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.heap_size, 128 * KIB);
    cr_assert_eq(c.budget, 0, "past the old struct: the default");
}

/* The caller's value is still rounded and range-checked; the guest's is already valid. */
Test(defaults, caller_value_still_checked)
{
    glint_config in, c;
    glint_config_init(&in);
    in.stack_size = 4 * KIB;
    cr_assert_eq(glint__config_resolve(&in, &lua_like, &c), GLINT_EINVAL);
    cr_assert(strstr(glint_errmsg(), "stack_size") != NULL, "%s", glint_errmsg());
}

/* The budget is appended at the end of glint_config and has its own error and kind. */
Test(defaults, budget_public_numbers)
{
    cr_assert_gt(offsetof(glint_config, budget), offsetof(glint_config, confine_init));
    cr_assert_eq(GLINT_EBUDGET, -20);
    cr_assert_str_eq(glint_err_name(GLINT_EBUDGET), "GLINT_EBUDGET");
    cr_assert_str_eq(glint_failure_kind_name(GLINT_FAIL_BUDGET), "budget");
    cr_assert_eq(GLINT_FAIL_BUDGET, GLINT_FAIL_INTERRUPTED + 1);
    cr_assert_eq(offsetof(struct glint_abi_boot, budget), 88);
}
