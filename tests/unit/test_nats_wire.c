/* Unit tests: glint's NATS wire format checks (serve/nats_wire.c): names, URLs, kinds. */
#include <criterion/criterion.h>

#include <string.h>

#include "glint.h"
#include "nats_wire.h"

static bool name_ok(const char *s)
{
    return nats_name_ok(s, strlen(s));
}

Test(nats_wire, names_that_are_one_subject_suffix)
{
    cr_assert(name_ok("echo"));
    cr_assert(name_ok("Add"));
    cr_assert(name_ok("a.b"));
    cr_assert(name_ok("my-fn_2"));
    char longest[GLINT_NAME_MAX + 2];
    memset(longest, 'x', sizeof longest);
    longest[GLINT_NAME_MAX] = 0;
    cr_assert(name_ok(longest));
    longest[GLINT_NAME_MAX] = 'x';
    longest[GLINT_NAME_MAX + 1] = 0;
    cr_assert_not(name_ok(longest), "64 bytes is over GLINT_NAME_MAX");
}

Test(nats_wire, names_refused)
{
    /* Empty tokens, wildcards, whitespace and anything outside [A-Za-z0-9_.-] would change the
     * subject (glint.fn.<name>) or make it invalid. */
    static const char *bad[] = {"",   ".",   ".a",   "a.",  "a..b", "*",    ">",    "a.*",
                                "a>", "a b", "a\tb", "a/b", "ä",    "a\nb", "$SYS", "a,b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(name_ok(bad[i]), "'%s' accepted", bad[i]);
    cr_assert_not(nats_name_ok("ab\0c", 4), "a NUL inside the name");
}

Test(nats_wire, urls)
{
    static const char *good[] = {"nats://127.0.0.1:4222",
                                 "nats://localhost",
                                 "nats://h:1",
                                 "nats://h:65535",
                                 "nats://[::1]:4222",
                                 "nats://[::1]",
                                 "nats://user:pw@host:4222",
                                 "nats://token@nats.glint.svc:4222",
                                 "nats://a:4222,nats://b:4222,nats://[::1]:4223"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(nats_url_ok(good[i]), "'%s' refused", good[i]);
    static const char *bad[] = {"",
                                "127.0.0.1:4222",
                                "http://h:4222",
                                "tls://h:4222",
                                "nats://",
                                "nats://:4222",
                                "nats://h:",
                                "nats://h:0",
                                "nats://h:65536",
                                "nats://h:-1",
                                "nats://h:+1",
                                "nats://h:12a",
                                "nats://h:1:2",
                                "nats://h/path",
                                "nats://a,http://b",
                                "nats://a,",
                                ",nats://a",
                                "nats://a,,nats://b",
                                "nats://a nats://b",
                                "nats://h 1",
                                "nats://h\n",
                                "nats://[]:4222",
                                "nats://[::1]x",
                                "nats://user@"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(nats_url_ok(bad[i]), "'%s' accepted", bad[i]);
    char list[1024] = "";
    for (int i = 0; i < NATS_URLS_MAX; i++)
        strcat(list, i ? ",nats://h:1" : "nats://h:1");
    cr_assert(nats_url_ok(list), "%d servers", NATS_URLS_MAX);
    strcat(list, ",nats://h:1");
    cr_assert_not(nats_url_ok(list), "more than NATS_URLS_MAX servers");
}

Test(nats_wire, kinds_and_their_statuses)
{
    const char *k = NULL;
    cr_assert_eq(nats_kind_status("guest_error", &k), 422);
    cr_assert_str_eq(k, "guest_error");
    cr_assert_eq(nats_kind_status("bad_arguments", &k), 400);
    cr_assert_eq(nats_kind_status("not_found", &k), 404);
    cr_assert_eq(nats_kind_status("overloaded", &k), 429);
    cr_assert_eq(nats_kind_status("busy", &k), 429);
    cr_assert_eq(nats_kind_status("timeout", &k), 504);
    cr_assert_eq(nats_kind_status("hypervisor", &k), 500);
    cr_assert_eq(nats_kind_status("no such kind", &k), 0);
    cr_assert_str_eq(k, "other");
}
