/* The Lua `glint` library: glint.call(name, ...) calls a host function with typed, range-checked
 * arguments (its signature from glint.signature); glint.signature(name) returns that text. */
#include <glint/guest.h>
#include <string.h>

#include "glint_rt.h"
typedef struct rt_file FILE; /* as in lua.c: lauxlib.h names FILE */
#include "lauxlib.h"
#include "lua.h"

int luaopen_glint(lua_State *l);

/* The signature of host function `name`, or a Lua error with the host's message. */
static void signature(lua_State *l, const char *name, glint_guest_host_sig *sig)
{
    if (glint_guest_host_signature(name, sig) != 0)
        luaL_error(l, "glint.call: %s", glint_guest_host_error_message());
}

/* Describe Lua value idx for glint_guest_host_convert. */
static glint_guest_script_val describe(lua_State *l, int idx)
{
    glint_guest_script_val v = {.kind = GLINT_GUEST_SCRIPT_OTHER,
                                .type_name = luaL_typename(l, idx)};
    switch (lua_type(l, idx)) {
    case LUA_TNUMBER:
        if (lua_isinteger(l, idx)) {
            v.kind = GLINT_GUEST_SCRIPT_INT;
            v.i = (int64_t)lua_tointeger(l, idx);
        } else {
            v.kind = GLINT_GUEST_SCRIPT_FLOAT;
            v.f = (double)lua_tonumber(l, idx);
        }
        break;
    case LUA_TSTRING:
        v.kind = GLINT_GUEST_SCRIPT_STRING;
        v.s = lua_tolstring(l, idx, &v.len);
        break;
    case LUA_TBOOLEAN:
        v.kind = GLINT_GUEST_SCRIPT_BOOL;
        v.b = lua_toboolean(l, idx);
        break;
    default:
        break;
    }
    return v;
}

/* Push a host function's result; returns the number of Lua values. */
static int push_result(lua_State *l, const glint_guest_val *r)
{
    switch (r->type) {
    case GLINT_GUEST_VOID:
        return 0;
    case GLINT_GUEST_I32:
        lua_pushinteger(l, r->i32);
        break;
    case GLINT_GUEST_U32:
        lua_pushinteger(l, r->u32);
        break;
    case GLINT_GUEST_I64:
        lua_pushinteger(l, r->i64);
        break;
    case GLINT_GUEST_U64: /* an integer when it fits, else a float */
        if (r->u64 <= (uint64_t)LUA_MAXINTEGER)
            lua_pushinteger(l, (lua_Integer)r->u64);
        else
            lua_pushnumber(l, (lua_Number)r->u64);
        break;
    case GLINT_GUEST_F32:
        lua_pushnumber(l, r->f32);
        break;
    case GLINT_GUEST_F64:
        lua_pushnumber(l, r->f64);
        break;
    case GLINT_GUEST_BOOL:
        lua_pushboolean(l, r->b);
        break;
    default: /* string, bytes */
        lua_pushlstring(l, (const char *)r->bytes, r->len);
        break;
    }
    return 1;
}

/* glint.call(name, ...): convert the arguments to the declared types, call, convert back. */
static int call(lua_State *l)
{
    const char *name = luaL_checkstring(l, 1);
    glint_guest_host_sig sig;
    signature(l, name, &sig);
    int nargs = lua_gettop(l) - 1;
    if (nargs != sig.nparams)
        return luaL_error(l, "glint.call: %s expects %d argument%s (%s), got %d", name, sig.nparams,
                          sig.nparams == 1 ? "" : "s", sig.text, nargs);
    glint_guest_val args[GLINT_ABI_MAX_PARAMS];
    for (int i = 0; i < nargs; i++) {
        glint_guest_script_val v = describe(l, i + 2);
        char why[160];
        if (glint_guest_host_convert(sig.params[i], &v, &args[i], why, sizeof why) != 0)
            return luaL_error(l, "bad argument #%d to 'glint.call' (%s %s)", i + 2, name, why);
    }
    glint_rt_flush(); /* what the script printed comes before what the host function does */
    glint_guest_val r;
    if (glint_guest_host_call(name, sig.ret, &r, (unsigned)nargs, args) != 0)
        return luaL_error(l, "glint.call: %s", glint_guest_host_error_message());
    return push_result(l, &r);
}

/* glint.signature(name): the text form ("i64(i32,string)"), or nil and the host's message. */
static int sig_text(lua_State *l)
{
    const char *name = luaL_checkstring(l, 1);
    glint_guest_host_sig sig;
    if (glint_guest_host_signature(name, &sig) != 0) {
        lua_pushnil(l);
        lua_pushstring(l, glint_guest_host_error_message());
        return 2;
    }
    lua_pushstring(l, sig.text);
    return 1;
}

int luaopen_glint(lua_State *l)
{
    static const luaL_Reg fns[] = {{"call", call}, {"signature", sig_text}, {NULL, NULL}};
    luaL_newlib(l, fns);
    return 1;
}
