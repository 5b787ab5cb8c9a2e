/* build/guests/lua.elf: Debian's Lua 5.4 in a glint guest: Eval, Load and Call (JSON via cjson). */
#include <glint/guest.h>
#include <stdlib.h>
#include <string.h>

#include "glint_rt.h"
/* lauxlib.h names FILE (luaL_Stream), which the guest's <stdio.h> does not define: libglint-rt's
 * glibc-shaped stream. */
typedef struct rt_file FILE;
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "utf8.h"

int luaopen_cjson(lua_State *L);
int luaopen_glint(lua_State *L);     /* host.c: glint.call, glint.signature */
void glint_lua_limits(lua_State *l); /* limits.c: the budget hook, set at every call */

GLINT_GUEST_DEFAULTS(.heap_size = 16 << 20, .stack_size = 256 << 10, .input_size = 64 << 10,
                     .flags = GLINT_GUEST_BUDGET);

static lua_State *L;
static int json_ref = LUA_NOREF; /* the cjson module, in the registry */

static void *allocate(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud, (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize); /* NULL: Lua raises "not enough memory" */
}

/* dofile, loadfile, require: there are no files for a guest to read. */
static int no_files(lua_State *l)
{
    return luaL_error(l, "%s: files and modules cannot be loaded in a glint guest",
                      lua_tostring(l, lua_upvalueindex(1)));
}

static void deny(const char *table, const char *name)
{
    if (table)
        lua_getglobal(L, table);
    else
        lua_pushglobaltable(L);
    lua_pushstring(L, name);
    lua_pushstring(L, name);
    lua_pushcclosure(L, no_files, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Replace global table `name` by one holding only `keep` of its fields. */
static void keep_only(const char *name, const char *const *keep)
{
    lua_getglobal(L, name);
    lua_newtable(L);
    for (const char *const *k = keep; *k; k++) {
        lua_getfield(L, -2, *k);
        lua_setfield(L, -2, *k);
    }
    lua_setglobal(L, name);
    lua_pop(L, 1);
}

static int open_state(lua_State *l)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_COLIBNAME, luaopen_coroutine},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_IOLIBNAME, luaopen_io},
        {LUA_OSLIBNAME, luaopen_os},     {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
        {"glint", luaopen_glint},
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(l, libs[i].name, libs[i].func, 1);
        lua_pop(l, 1);
    }
    static const char *const io_keep[] = {"write", "stdout", NULL};
    static const char *const os_keep[] = {"clock", "time", "date", "difftime", NULL};
    keep_only("io", io_keep);
    keep_only("os", os_keep);
    deny(NULL, "dofile");
    deny(NULL, "loadfile");
    deny(NULL, "require");
    luaL_requiref(l, "cjson", luaopen_cjson, 1);
    json_ref = luaL_ref(l, LUA_REGISTRYINDEX);
    return 0;
}

int glint_guest_init(void)
{
    L = lua_newstate(allocate, NULL);
    if (!L)
        return glint_guest_error(1, "lua: cannot create the state: not enough memory");
    glint_lua_limits(L);
    lua_pushcfunction(L, open_state);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK)
        return glint_guest_error(1, "lua: cannot open the libraries: %s", lua_tostring(L, -1));
    return 0;
}

/* Fail the call with the interpreter's message (popped). */
static int script_error(void)
{
    glint_rt_flush();
    const char *msg = lua_tostring(L, -1);
    int rc = glint_guest_error(1, "%s", msg ? msg : "(error object is not a string)");
    lua_settop(L, 0);
    return rc;
}

/* Return the string at the top of the stack (popped) as the call's result, copied to the heap.
 * The ABI carries UTF-8 without NUL: anything else is a script error. */
static int return_string(glint_guest_val *r)
{
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    if (memchr(s, 0, n) || !glint__utf8_valid((const uint8_t *)s, n)) {
        lua_settop(L, 0);
        return glint_guest_error(2, "result is not UTF-8 text without NUL bytes");
    }
    char *copy = malloc(n + 1);
    if (!copy) {
        lua_settop(L, 0);
        return glint_guest_error(3, "not enough memory for the result");
    }
    memcpy(copy, s, n + 1);
    lua_settop(L, 0);
    r->str = copy;
    r->len = (uint32_t)n;
    r->flags = GLINT_GUEST_VAL_FREE;
    return 0;
}

/* Join the values at 1..top with tostring and tabs, as print shows them (in protected mode:
 * __tostring may fail). */
static int join(lua_State *l)
{
    int n = lua_gettop(l);
    luaL_Buffer b;
    luaL_buffinit(l, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(l, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return 1;
}

static int run_chunk(const char *src, size_t len, const char *name, int nresults)
{
    if (luaL_loadbuffer(L, src, len, name) != LUA_OK)
        return -1;
    return lua_pcall(L, 0, nresults, 0) == LUA_OK ? 0 : -1;
}

/* Eval(source) -> string: the chunk's results joined by tabs ("" when none). The chunk name is
 * lua5.4 -e's, so messages match the native interpreter's. */
static int Eval(const glint_guest_val *a, glint_guest_val *r)
{
    lua_settop(L, 0);
    glint_lua_limits(L);
    if (run_chunk(a[0].str, a[0].len, "=(command line)", LUA_MULTRET))
        return script_error();
    glint_rt_flush();
    int n = lua_gettop(L);
    lua_pushcfunction(L, join);
    lua_insert(L, 1);
    if (lua_pcall(L, n, 1, 0) != LUA_OK)
        return script_error();
    return return_string(r);
}
GLINT_GUEST_EXPORT(Eval, GLINT_GUEST_STRING, GLINT_GUEST_STRING);

/* Load(source): runs the script for its definitions. */
static int Load(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    lua_settop(L, 0);
    glint_lua_limits(L);
    if (run_chunk(a[0].str, a[0].len, "=load", 0))
        return script_error();
    glint_rt_flush();
    return 0;
}
GLINT_GUEST_EXPORT(Load, GLINT_GUEST_VOID, GLINT_GUEST_STRING);

/* In protected mode: global function (1), JSON array text (2) -> JSON text of its first result. */
static int call_json(lua_State *l)
{
    const char *fn = lua_tostring(l, 1);
    lua_rawgeti(l, LUA_REGISTRYINDEX, json_ref);
    int json = lua_gettop(l);
    if (lua_getglobal(l, fn) != LUA_TFUNCTION)
        return luaL_error(l, "Call: no global function '%s'", fn);
    int func = lua_gettop(l);
    lua_getfield(l, json, "decode");
    lua_pushvalue(l, 2);
    lua_call(l, 1, 1);
    if (!lua_istable(l, -1))
        return luaL_error(l, "Call: the arguments must be a JSON array");
    lua_Integer n = luaL_len(l, -1);
    luaL_checkstack(l, (int)n + 4, "too many arguments");
    int args = lua_gettop(l);
    for (lua_Integer i = 1; i <= n; i++)
        lua_geti(l, args, i);
    lua_remove(l, args);
    lua_call(l, (int)n, 1);
    lua_getfield(l, json, "encode");
    lua_insert(l, -2);
    lua_call(l, 1, 1);
    (void)func;
    return 1;
}

/* Call(function, json_args) -> string: calls a global function with the JSON array's elements
 * as arguments; returns its first result as JSON ("null" when none). */
static int Call(const glint_guest_val *a, glint_guest_val *r)
{
    lua_settop(L, 0);
    glint_lua_limits(L);
    lua_pushcfunction(L, call_json);
    lua_pushlstring(L, a[0].str, a[0].len);
    lua_pushlstring(L, a[1].str, a[1].len);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK)
        return script_error();
    glint_rt_flush();
    return return_string(r);
}
GLINT_GUEST_EXPORT(Call, GLINT_GUEST_STRING, GLINT_GUEST_STRING, GLINT_GUEST_STRING);
