/* SDK example: a C guest embedding Lua 5.4; Run(script) -> string calls back into C (`shout`)
 * and, through it, into the host (`host_greet`, the host's function `greet(string) -> string`).
 *
 * Build from an installed SDK (docs/runtimes.md, "The guest SDK"):
 *   gcc -O2 -o lua-embed.elf lua-embed-guest.c $(pkg-config --cflags --libs glint-lua)
 * Run:
 *   glint run --heap 16M --stack 256K lua-embed.elf Run 'return shout("hi")'   -> HI!
 * (host_greet needs a host program that registers `greet`: glint run does not.)
 */
#include <glint/guest.h>
#include <stdlib.h>
#include <string.h>

#include <glint_rt.h>
/* lauxlib.h names FILE, which the guest's <stdio.h> does not define: libglint-rt's streams. */
typedef struct rt_file FILE;
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static lua_State *L;

/* Lua's memory goes through the guest heap; NULL makes Lua raise "not enough memory". */
static void *allocate(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud, (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

/* shout(s): s in upper case with "!" appended; a C function the scripts call. */
static int shout(lua_State *l)
{
    size_t n;
    const char *s = luaL_checklstring(l, 1, &n);
    luaL_Buffer b;
    char *p = luaL_buffinitsize(l, &b, n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
    p[n] = '!';
    luaL_pushresultsize(&b, n + 1);
    return 1;
}

/* host_greet(name): the host function `greet(string) -> string`, called through the guest API;
 * a Lua error (with the host's message) when the host has no such function or it fails. */
static int host_greet(lua_State *l)
{
    size_t n;
    const char *name = luaL_checklstring(l, 1, &n);
    glint_guest_val arg = {.type = GLINT_GUEST_STRING, .len = (uint32_t)n, .str = name}, ret;
    if (glint_guest_host_call("greet", GLINT_GUEST_STRING, &ret, 1, &arg) != 0)
        return luaL_error(l, "greet: %s", glint_guest_host_error_message());
    lua_pushlstring(l, ret.str, ret.len); /* copied now: ret points into the host call's buffer */
    return 1;
}

/* The libraries lua.elf offers, minus io and os (a guest has no files and no clock). */
static int open_state(lua_State *l)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_COLIBNAME, luaopen_coroutine},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(l, libs[i].name, libs[i].func, 1);
        lua_pop(l, 1);
    }
    static const char *const no_files[] = {"dofile", "loadfile", "require", NULL};
    for (const char *const *name = no_files; *name; name++) {
        lua_pushnil(l);
        lua_setglobal(l, *name);
    }
    lua_register(l, "shout", shout);
    lua_register(l, "host_greet", host_greet);
    return 0;
}

/* Runs once, before the image's snapshot: every call starts from this fresh state. */
int glint_guest_init(void)
{
    L = lua_newstate(allocate, NULL);
    if (!L)
        return glint_guest_error(1, "cannot create the Lua state");
    lua_pushcfunction(L, open_state);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK)
        return glint_guest_error(1, "cannot open the libraries: %s", lua_tostring(L, -1));
    return 0;
}

/* Run(script) -> string: the script's first result through tostring ("" when none). */
static int Run(const glint_guest_val *a, glint_guest_val *r)
{
    lua_settop(L, 0);
    int rc = luaL_loadbuffer(L, a[0].str, a[0].len, "=script");
    if (rc == LUA_OK)
        rc = lua_pcall(L, 0, 1, 0);
    glint_rt_flush(); /* send a partial last line of print() output now */
    if (rc != LUA_OK)
        return glint_guest_error(1, "%s", lua_tostring(L, -1));
    size_t n = 0;
    const char *s = lua_isnil(L, -1) ? "" : luaL_tolstring(L, -1, &n);
    char *copy = malloc(n + 1);
    if (!copy)
        return glint_guest_error(2, "not enough memory for the result");
    memcpy(copy, s, n + 1);
    r->str = copy;
    r->len = (uint32_t)n;
    r->flags = GLINT_GUEST_VAL_FREE;
    return 0;
}
GLINT_GUEST_EXPORT(Run, GLINT_GUEST_STRING, GLINT_GUEST_STRING);
