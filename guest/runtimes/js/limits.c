/* JavaScript runtime limits: the per-call instruction budget, enforced by MuJS's count hook. */
#include <glint/guest.h>
#include <stdint.h>

#include "mujs.h"

/* The check interval: GLINT_BUDGET_STEP in glint.h (the host's header, which a
 * guest cannot include) says the same number to callers. */
#define BUDGET_STEP 1000

void glint_js_limits(js_State *j); /* called by js.c at the start of every call */

/* Every BUDGET_STEP bytecode instructions: spend them. Once the budget is
 * spent, glint_guest_budget_charge ends the call there and then (an abort with
 * the reserved budget code) without unwinding the interpreter, so a script's
 * try/catch or finally cannot catch it; the host poisons the sandbox, and its
 * restore discards the interrupted state. */
static void count_hook(js_State *j)
{
    (void)j;
    glint_guest_budget_charge(BUDGET_STEP);
}

/* With a budget, count every instruction the interpreter runs in this call
 * (the hook is the state's, so functions and nested calls are counted alike;
 * scripts cannot reach it); without one, no hook: the loop's test of a NULL
 * hook is all it costs. The count restarts at each call. */
void glint_js_limits(js_State *j)
{
    if (glint_guest_budget_left() == UINT64_MAX)
        js_setcounthook(j, NULL, 0);
    else
        js_setcounthook(j, count_hook, BUDGET_STEP);
}
