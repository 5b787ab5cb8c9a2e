/* Unit tests: struct_size compatibility of the config inits, glint_version() and glint_err_name().
 */
#include <criterion/criterion.h>

#include <stddef.h>
#include <string.h>

#include "glint.h"
#include "mem/layout.h"

TestSuite(abi);

/* A caller's struct as a program built against 0.1.0 allocated it: the 0.1.0 size (the
 * fields before max_image_memory), followed by bytes that are not the caller's. */
#define CONFIG_V0 offsetof(glint_config, max_image_memory)
#define CANARY    0xa5

union old_config {
    glint_config cfg; /* for alignment only: the caller owns CONFIG_V0 bytes */
    unsigned char bytes[sizeof(glint_config) + 64];
};

static void assert_canary(const unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        cr_assert_eq(p[i], CANARY, "byte %zu past the caller's %zu-byte struct was written", i,
                     from);
}

/* A binary built against 0.1.0 calls the exported glint_config_init (its header had no
 * macro); the library must write only the 48 bytes of that struct. */
Test(abi, config_init_of_0_1_0_writes_only_its_struct)
{
    union old_config o;
    memset(&o, CANARY, sizeof o);
    (glint_config_init)(&o.cfg); /* the symbol, not the macro: what a 0.1.0 binary calls */
    assert_canary(o.bytes, CONFIG_V0, sizeof o.bytes);
    cr_assert_eq(o.cfg.struct_size, CONFIG_V0);
    cr_assert_eq(o.cfg.heap_size, 0, "unset: the guest's default, else glint's");
    cr_assert_eq(o.cfg.timeout_ms, 1000);
    /* And the library accepts it, giving the newer fields their defaults. */
    glint_config c;
    cr_assert_eq(glint__config_read(&o.cfg, &c), 0, "%s", glint_errmsg());
    cr_assert_eq(c.max_image_memory, 16u << 20);
    cr_assert(c.confine_init);
    cr_assert_eq(c.heap_size, 128u << 10);
}

Test(abi, config_init_sized_writes_only_size_bytes)
{
    for (size_t size = 0; size <= sizeof(glint_config); size += 4) {
        union old_config o;
        memset(&o, CANARY, sizeof o);
        glint_config_init_sized(&o.cfg, size);
        assert_canary(o.bytes, size, sizeof o.bytes);
        if (size >= sizeof o.cfg.struct_size)
            cr_assert_eq(o.cfg.struct_size, size);
    }
    /* Larger than the library's struct: only the library's struct is written. */
    union old_config o;
    memset(&o, CANARY, sizeof o);
    glint_config_init_sized(&o.cfg, sizeof o.bytes);
    cr_assert_eq(o.cfg.struct_size, sizeof(glint_config));
    assert_canary(o.bytes, sizeof(glint_config), sizeof o.bytes);
    glint_config_init_sized(NULL, sizeof(glint_config)); /* no crash */
}

/* The macro passes the caller's own sizeof. */
Test(abi, config_init_macro_sets_the_callers_size)
{
    glint_config c;
    glint_config_init(&c);
    cr_assert_eq(c.struct_size, sizeof c);
    cr_assert(c.confine_init);
}

Test(abi, pool_config_init_writes_only_size_bytes)
{
    union {
        glint_pool_config cfg;
        unsigned char bytes[sizeof(glint_pool_config) + 64];
    } o;
    memset(&o, CANARY, sizeof o);
    /* 0.1.0's struct: four uint32_t and a bool, 20 bytes; idle_resident_max came later. */
    (glint_pool_config_init)(&o.cfg);
    assert_canary(o.bytes, 20, sizeof o.bytes);
    cr_assert_eq(o.cfg.struct_size, 20);
    cr_assert_eq(o.cfg.size, 4);
    cr_assert(o.cfg.confine);
    cr_assert_eq(offsetof(glint_pool_config, idle_resident_max), 24);
    memset(&o, CANARY, sizeof o);
    glint_pool_config_init_sized(&o.cfg, 8);
    assert_canary(o.bytes, 8, sizeof o.bytes);
    cr_assert_eq(o.cfg.struct_size, 8);
    glint_pool_config_init(&o.cfg);
    cr_assert_eq(o.cfg.struct_size, sizeof o.cfg);
    cr_assert(o.cfg.confine);
    cr_assert_eq(o.cfg.idle_resident_max, GLINT_POOL_IDLE_RESIDENT_DEFAULT);
}

Test(abi, version_matches_the_header)
{
    cr_assert_eq(glint_version(), (unsigned)GLINT_VERSION_HEX);
    cr_assert_eq(glint_version() >> 16, GLINT_VERSION_MAJOR);
    cr_assert_eq((glint_version() >> 8) & 0xff, GLINT_VERSION_MINOR);
    cr_assert_eq(glint_version() & 0xff, GLINT_VERSION_PATCH);
    cr_assert_str_eq(glint_version_string(), GLINT_VERSION_STRING);
}

/* Every code of the X-macro has its constant's name; others are "?". */
Test(abi, err_name_names_every_code)
{
    size_t n = 0;
#define CHECK_NAME(name, value, text)                                                              \
    cr_assert_str_eq(glint_err_name(GLINT_##name), "GLINT_" #name);                                \
    cr_assert_str_neq(glint_strerror(GLINT_##name), "unknown error");                              \
    n++;
    GLINT_ERRORS(CHECK_NAME)
#undef CHECK_NAME
    cr_assert_eq(n, 21);
    cr_assert_str_eq(glint_err_name(GLINT_EINVAL), "GLINT_EINVAL");
    cr_assert_str_eq(glint_err_name(GLINT_EINTR), "GLINT_EINTR");
    cr_assert_str_eq(glint_err_name(0), "0");
    cr_assert_str_eq(glint_err_name(-1000), "?");
    cr_assert_str_eq(glint_err_name(1), "?");
}
