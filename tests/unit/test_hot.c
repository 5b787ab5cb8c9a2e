/* Unit tests: hot mode's pure parts: the features note as parsed and validated, the mailbox and
 * boot-page layout, and cgroup v2 cpu.max parsing for admission. No KVM. */
#include <criterion/criterion.h>

#include <stddef.h>
#include <string.h>

#include "elf_builder.h"
#include "glint.h"
#include "glint/abi.h"
#include "load/elf.h"
#include "os/cpus.h"
#include "runtime/error.h"

static struct elfb_image img;

static void setup(void)
{
    cr_assert_eq(elfb_build(&img, 2), 0);
}

static void teardown(void)
{
    elfb_free(&img);
}

TestSuite(hot_note, .init = setup, .fini = teardown);

/* Append a features note of descsz bytes (f, then zeros) to the note segment. */
static void add_features(const struct glint_abi_features *f, uint32_t descsz)
{
    Elf64_Phdr *ph = elfb_phdr(&img, ELFB_PH_NOTE);
    size_t at = ph->p_offset + ph->p_filesz, pad = ((size_t)descsz + 3) & ~(size_t)3;
    cr_assert(descsz <= 64 && at + sizeof(Elf64_Nhdr) + 8 + pad <= ELFB_CODE_OFF);
    Elf64_Nhdr nh = {.n_namesz = sizeof GLINT_ABI_NOTE_NAME,
                     .n_descsz = descsz,
                     .n_type = GLINT_ABI_NOTE_FEATURES_TYPE};
    memcpy(img.data + at, &nh, sizeof nh);
    memcpy(img.data + at + sizeof nh, GLINT_ABI_NOTE_NAME, sizeof GLINT_ABI_NOTE_NAME);
    uint8_t desc[64] = {0};
    memcpy(desc, f, descsz < sizeof *f ? descsz : sizeof *f);
    memcpy(img.data + at + sizeof nh + 8, desc, pad);
    ph->p_filesz += sizeof nh + 8 + pad;
    ph->p_memsz = ph->p_filesz;
}

static int parse(struct glint__elf *e)
{
    glint__clear_error();
    return glint__elf_parse(img.data, img.len, e);
}

Test(hot_note, absent_means_no_hot_support)
{
    struct glint__elf e;
    cr_assert_eq(parse(&e), 0, "%s", glint_errmsg());
    cr_assert_eq(e.features.flags, 0u);
    glint__elf_release(&e);
}

Test(hot_note, hot_flag_is_read)
{
    struct glint_abi_features f = {.flags = GLINT_ABI_FEATURE_HOT};
    add_features(&f, sizeof f);
    struct glint__elf e;
    cr_assert_eq(parse(&e), 0, "%s", glint_errmsg());
    cr_assert_eq(e.features.flags, GLINT_ABI_FEATURE_HOT);
    glint__elf_release(&e);
}

Test(hot_note, unknown_flags_are_refused)
{
    struct glint_abi_features f = {.flags = GLINT_ABI_FEATURE_HOT | 0x80};
    add_features(&f, sizeof f);
    struct glint__elf e;
    cr_assert_eq(parse(&e), GLINT_EABI);
    cr_assert(strstr(glint_errmsg(), "unknown flags"), "%s", glint_errmsg());
}

Test(hot_note, reserved_must_be_zero)
{
    struct glint_abi_features f = {.flags = GLINT_ABI_FEATURE_HOT, .reserved = 1};
    add_features(&f, sizeof f);
    struct glint__elf e;
    cr_assert_eq(parse(&e), GLINT_EABI);
    cr_assert(strstr(glint_errmsg(), "reserved"), "%s", glint_errmsg());
}

Test(hot_note, wrong_size_is_refused)
{
    struct glint_abi_features f = {.flags = GLINT_ABI_FEATURE_HOT};
    add_features(&f, 12);
    struct glint__elf e;
    cr_assert_eq(parse(&e), GLINT_EABI);
    cr_assert(strstr(glint_errmsg(), "features note has size 12"), "%s", glint_errmsg());
}

Test(hot_note, duplicate_is_refused)
{
    struct glint_abi_features f = {.flags = GLINT_ABI_FEATURE_HOT};
    add_features(&f, sizeof f);
    add_features(&f, sizeof f);
    struct glint__elf e;
    cr_assert_eq(parse(&e), GLINT_EABI);
    cr_assert(strstr(glint_errmsg(), "more than one glint features note"), "%s", glint_errmsg());
}

Test(hot_abi, layout)
{
    cr_assert_eq(offsetof(struct glint_abi_boot, hot_addr), 96u);
    cr_assert_eq(sizeof(struct glint_abi_boot), 104u);
    cr_assert_eq(GLINT_ABI_HOT_ADDR, 0x1fc000u);
    /* The guest's done_seq lies on its own cache line, away from the host's fields. */
    cr_assert_eq(offsetof(struct glint_abi_hot, done_seq) % 64, 0u);
    cr_assert_geq(offsetof(struct glint_abi_hot, done_seq),
                  offsetof(struct glint_abi_hot, req_seq) + 8);
}

Test(hot_cpus, cgroup_cpu_max)
{
    cr_assert_eq(glint__cpus_parse_max("max 100000\n"), 0u);
    cr_assert_eq(glint__cpus_parse_max("100000 100000\n"), 1u);
    cr_assert_eq(glint__cpus_parse_max("150000 100000\n"), 2u, "rounded up");
    cr_assert_eq(glint__cpus_parse_max("400000 100000"), 4u);
    cr_assert_eq(glint__cpus_parse_max("50000 100000"), 1u);
    cr_assert_eq(glint__cpus_parse_max(""), 0u);
    cr_assert_eq(glint__cpus_parse_max("garbage"), 0u);
    cr_assert_eq(glint__cpus_parse_max("100000"), 0u, "no period");
    cr_assert_eq(glint__cpus_parse_max("100000 0"), 0u, "zero period");
}

Test(hot_cpus, this_process_has_at_least_one)
{
    struct glint__cpus c;
    glint__cpus_read(&c);
    cr_assert_geq(c.allowed, 1u);
    cr_assert_leq(c.allowed, c.affinity);
}
