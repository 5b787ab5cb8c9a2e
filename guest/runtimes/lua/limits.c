/* Lua runtime limits: the per-call instruction budget, enforced by a count hook. */
#include <glint/guest.h>
#include <stdint.h>

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

/* Called at the start of every call (and once at init): with a budget, count
 * on the main state (coroutines created from now on inherit the hook, and
 * scripts cannot remove it: no debug library); without one, no hook at all,
 * because any count hook makes Lua's VM trap on every instruction (2x slower
 * fib(27), measured). A coroutine created while no budget was set (during
 * Load, say) and resumed in a budgeted call runs unmetered: the budget is a
 * cooperative, deterministic limit; the timeout is the one the host enforces. */
void glint_lua_limits(lua_State *l)
{
    if (glint_guest_budget_left() == UINT64_MAX)
        lua_sethook(l, NULL, 0, 0);
    else
        lua_sethook(l, count_hook, LUA_MASKCOUNT, BUDGET_STEP);
}
