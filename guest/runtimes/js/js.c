/* build/guests/js.elf: Debian's MuJS (ES5) in a glint guest: Eval, Load and Call (JSON in and out
 * through the interpreter's own JSON.parse and JSON.stringify). */
#include <glint/guest.h>
#include <stdlib.h>
#include <string.h>

#include "glint_rt.h"
#include "mujs.h"
#include "utf8.h"

typedef struct rt_file FILE;
extern FILE *stdout;
int fputs(const char *s, FILE *f);
int fputc(int c, FILE *f);

/* MuJS needs more than 144 KiB of heap to start and recurses on the C stack:
 * at 512 KiB its own depth limits fire before the stack overflows. The budget
 * counts bytecode instructions (limits.c). */
GLINT_GUEST_DEFAULTS(.heap_size = 16 << 20, .stack_size = 512 << 10, .input_size = 64 << 10,
                     .flags = GLINT_GUEST_BUDGET);

static js_State *J;
void glint_js_open_host(js_State *j);
void glint_js_limits(js_State *j);

/* Every call starts here: an empty stack, and the call's budget in force. */
static void clear(void)
{
    js_pop(J, js_gettop(J));
}

static void begin_call(void)
{
    clear();
    glint_js_limits(J);
}

static void *allocate(void *ctx, void *ptr, int size)
{
    (void)ctx;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, (size_t)size); /* NULL: MuJS throws "out of memory" */
}

/* An error thrown outside any js_try: a bug in this file, never a script's doing. */
static void panic(js_State *j)
{
    glint_rt_flush();
    glint_guest_abort(-8, "mujs: uncaught error outside a protected call: %s",
                      js_trystring(j, -1, "(not a string)"));
}

/* print(...) and write(...) as the native mujs shell has them: String() of each argument,
 * separated by spaces; print ends the line. */
static void out_args(js_State *j)
{
    int top = js_gettop(j);
    for (int i = 1; i < top; i++) {
        const char *s = js_tostring(j, i);
        if (i > 1)
            fputc(' ', stdout);
        fputs(s, stdout);
    }
}

static void js_print(js_State *j)
{
    out_args(j);
    fputc('\n', stdout);
    js_pushundefined(j);
}

static void js_write(js_State *j)
{
    out_args(j);
    js_pushundefined(j);
}

/* The native shell's read, readline, load, require, quit: a guest has no files and no process. */
static void no_files(js_State *j)
{
    js_error(j, "%s: files and modules cannot be loaded in a glint guest",
             (const char *)js_currentfunctiondata(j));
}

static void no_exit(js_State *j)
{
    js_error(j, "quit: a guest cannot exit");
}

static char denied[][9] = {"read", "readline", "load", "require"};

/* What the native mujs shell (main.c) defines in JS: Error.prototype.toString with the stack
 * trace, and console. */
static const char prelude[] =
    "Error.prototype.toString = function() {\n"
    "var s = this.name;\n"
    "if ('message' in this) s += ': ' + this.message;\n"
    "if ('stackTrace' in this) s += this.stackTrace;\n"
    "return s;\n"
    "};\n"
    "var console = { log: print, debug: print, warn: print, error: print };\n";

int glint_guest_init(void)
{
    J = js_newstate(allocate, NULL, 0);
    if (!J)
        return glint_guest_error(1, "mujs: cannot create the state: not enough memory");
    js_atpanic(J, panic);
    js_newcfunction(J, js_print, "print", 0);
    js_setglobal(J, "print");
    js_newcfunction(J, js_write, "write", 0);
    js_setglobal(J, "write");
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        js_newcfunctionx(J, no_files, denied[i], 0, denied[i], NULL);
        js_setglobal(J, denied[i]);
    }
    js_newcfunction(J, no_exit, "quit", 0);
    js_setglobal(J, "quit");
    glint_js_open_host(J); /* glint.call, glint.signature: host.c */
    if (js_dostring(J, prelude))
        return glint_guest_error(1, "mujs: cannot run the prelude");
    return 0;
}

/* Fail the call with the thrown value's string (popped), as the native shell reports it. */
static int script_error(void)
{
    glint_rt_flush();
    int rc = glint_guest_error(1, "%s", js_trystring(J, -1, "Error"));
    clear();
    return rc;
}

/* Return s as the call's result, copied to the heap. The ABI carries UTF-8 without NUL: MuJS
 * encodes U+0000 as C0 80 and lone surrogates as 3-byte sequences, which are not UTF-8. */
static int return_string(const char *s, glint_guest_val *r)
{
    size_t n = strlen(s);
    if (!glint__utf8_valid((const uint8_t *)s, n)) {
        clear();
        return glint_guest_error(2, "result is not UTF-8 text without NUL bytes");
    }
    char *copy = malloc(n + 1);
    if (!copy) {
        clear();
        return glint_guest_error(3, "not enough memory for the result");
    }
    memcpy(copy, s, n + 1);
    clear();
    r->str = copy;
    r->len = (uint32_t)n;
    r->flags = GLINT_GUEST_VAL_FREE;
    return 0;
}

/* Compile and run a script in the global scope; its completion value is left on the stack. */
static int run(const char *name, const char *src)
{
    if (js_ploadstring(J, name, src))
        return -1;
    js_pushundefined(J);
    return js_pcall(J, 0) ? -1 : 0;
}

/* Eval(source) -> string: String() of the script's completion value, "" for undefined. */
static int Eval(const glint_guest_val *a, glint_guest_val *r)
{
    begin_call();
    if (run("eval", a[0].str))
        return script_error();
    glint_rt_flush();
    if (js_isundefined(J, -1))
        return return_string("", r);
    if (js_try(J))
        return script_error(); /* a toString that throws */
    const char *s = js_tostring(J, -1);
    js_endtry(J);
    return return_string(s, r);
}
GLINT_GUEST_EXPORT(Eval, GLINT_GUEST_STRING, GLINT_GUEST_STRING);

/* Load(source): runs a script for its definitions. */
static int Load(const glint_guest_val *a, glint_guest_val *r)
{
    (void)r;
    begin_call();
    if (run("load", a[0].str))
        return script_error();
    glint_rt_flush();
    clear();
    return 0;
}
GLINT_GUEST_EXPORT(Load, GLINT_GUEST_VOID, GLINT_GUEST_STRING);

/* Inside js_try: push JSON[method]. */
static void json_method(const char *method)
{
    js_getglobal(J, "JSON");
    js_getproperty(J, -1, method);
    js_rot2(J); /* function, then JSON as this */
}

/* Call(function, json_args) -> string: calls a global function with the JSON array's elements
 * as arguments; returns its result as JSON ("null" when JSON.stringify gives undefined). */
static int Call(const glint_guest_val *a, glint_guest_val *r)
{
    begin_call();
    if (js_try(J))
        return script_error();
    json_method("parse");
    js_pushstring(J, a[1].str);
    js_call(J, 1);
    if (!js_isarray(J, -1))
        js_error(J, "Call: the arguments must be a JSON array");
    int args = js_gettop(J) - 1, n = js_getlength(J, args);
    js_getglobal(J, a[0].str);
    if (!js_iscallable(J, -1))
        js_error(J, "Call: no global function '%s'", a[0].str);
    js_pushundefined(J);
    for (int i = 0; i < n; i++)
        js_getindex(J, args, i);
    js_call(J, n);
    int result = js_gettop(J) - 1;
    json_method("stringify");
    js_copy(J, result);
    js_call(J, 1);
    const char *s = js_isundefined(J, -1) ? "null" : js_tostring(J, -1);
    js_endtry(J);
    glint_rt_flush();
    return return_string(s, r);
}
GLINT_GUEST_EXPORT(Call, GLINT_GUEST_STRING, GLINT_GUEST_STRING, GLINT_GUEST_STRING);
