/* Test guest for derived images: Load keeps state in globals and the heap, Scribble changes it. */
#include <glint/guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *loaded; /* heap copy of the last Load argument */
static size_t loaded_len;
static uint64_t loads, scribbles;
static char banner[64] = "none";

/* Load(string) -> void: keep a heap copy of the string; count loads. */
static int Load(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    char *copy = malloc(a[0].len + 1);
    if (!copy)
        return glint_guest_error(1, "cannot allocate %u bytes", (unsigned)a[0].len);
    memcpy(copy, a[0].str, a[0].len);
    copy[a[0].len] = 0;
    free(loaded);
    loaded = copy;
    loaded_len = a[0].len;
    loads++;
    memcpy(banner, "loaded", 7);
    return 0;
}
GLINT_GUEST_EXPORT(Load, GLINT_GUEST_VOID, GLINT_GUEST_STRING);

/* Get() -> string: "<banner> <loads> <scribbles>:<loaded string>". */
static int Get(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    size_t cap = loaded_len + 128;
    char *s = malloc(cap);
    if (!s)
        return glint_guest_error(2, "cannot allocate %u bytes", (unsigned)cap);
    int n = snprintf(s, cap, "%s %u %u:", banner, (unsigned)loads, (unsigned)scribbles);
    if (n < 0)
        return glint_guest_error(3, "format failed");
    if (loaded)
        memcpy(s + n, loaded, loaded_len + 1);
    r->str = s;
    r->len = (uint32_t)((size_t)n + (loaded ? loaded_len : 0));
    r->flags = GLINT_GUEST_VAL_FREE;
    return 0;
}
GLINT_GUEST_EXPORT(Get, GLINT_GUEST_STRING);

/* Scribble(u32 pages) -> u32: overwrite the loaded state and globals, and
 * leave `pages` pages of fresh heap filled with garbage (never freed). */
static int Scribble(const glint_guest_val *a, glint_guest_val *r)
{
    if (loaded)
        memset(loaded, 'X', loaded_len);
    scribbles++;
    loads += 1000;
    memcpy(banner, "scribbled", 10);
    uint32_t done = 0;
    for (; done < a[0].u32; done++) {
        uint8_t *p = malloc(4096);
        if (!p)
            break;
        memset(p, (int)(0xa5 ^ done), 4096);
    }
    r->u32 = done;
    return 0;
}
GLINT_GUEST_EXPORT(Scribble, GLINT_GUEST_U32, GLINT_GUEST_U32);

/* Crash() -> void: a write to the null page (poisons the sandbox). */
static int Crash(const glint_guest_val *a, glint_guest_val *r)
{
    (void)a;
    (void)r;
    *(volatile int *)(uintptr_t)0x1234 = 1;
    return 0;
}
GLINT_GUEST_EXPORT(Crash, GLINT_GUEST_VOID);

/* CallHost(string name) -> i64: host function name(i64, i64) -> i64 with (1, 2). */
static int CallHost(const glint_guest_val *a, glint_guest_val *r)
{
    glint_guest_val args[2] = {{.type = GLINT_GUEST_I64, .i64 = 1},
                               {.type = GLINT_GUEST_I64, .i64 = 2}};
    glint_guest_val out;
    if (glint_guest_host_call(a[0].str, GLINT_GUEST_I64, &out, 2, args) != 0)
        return glint_guest_error(8, "host call failed: %s", glint_guest_host_error_message());
    r->i64 = out.i64;
    return 0;
}
GLINT_GUEST_EXPORT(CallHost, GLINT_GUEST_I64, GLINT_GUEST_STRING);
