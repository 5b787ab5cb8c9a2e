/* Lua runtime limits: the per-call instruction budget, enforced by a count hook. */
#include <glint/guest.h>

#include "lua.h"

/* The check interval: GLINT_BUDGET_STEP in glint.h (the host's header, which a
 * guest cannot include) says the same number to callers. */
#define BUDGET_STEP 1000

void glint_lua_limits(lua_State *l); /* called by lua.c once the state exists */

/* Every BUDGET_STEP VM instructions: spend them. Once the budget is
 * spent, glint_guest_budget_charge ends the call there and then (an abort
 * with the reserved budget code), without unwinding the interpreter: a
 * script's pcall cannot catch it, and the host poisons the sandbox, whose
 * restore discards the interrupted state. Without a budget it returns. */
static void count_hook(lua_State *l, lua_Debug *ar)
{
    (void)l, (void)ar;
    glint_guest_budget_charge(BUDGET_STEP);
}

/* Install the hook on the main state; coroutines inherit it (lua_newthread
 * copies the hook), and scripts cannot remove it (no debug library). */
void glint_lua_limits(lua_State *l)
{
    lua_sethook(l, count_hook, LUA_MASKCOUNT, BUDGET_STEP);
}
