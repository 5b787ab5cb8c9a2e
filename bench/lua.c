/* Lua rows: fib(27) in lua.elf vs native lua5.4, a trivial Eval vs warm_call, and an isolated
 * handler call (derived image, pool) vs pool_call_dirty_16. Skipped when lua.elf or lua5.4 is
 * missing. */
#include <errno.h>
#include <glint.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "child.h"

/* The script both interpreters run. Native lua5.4 reports the time of the fib(27) call alone
 * (os.clock, so process start and compilation are excluded); the guest has no clock, so its
 * row is the host's time for the whole Eval call. */
#define FIB_SRC                                                                                    \
    "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end\n"        \
    "local t0 = os.clock()\n"                                                                      \
    "local r = fib(27)\n"                                                                          \
    "local dt = os.clock() - t0\n"
#define FIB_RESULT "196418"

static const char handler_src[] = "function handler(req)\n"
                                  "  return {id = req.id, greeting = 'hello, ' .. req.name,\n"
                                  "          n = #req.tags}\n"
                                  "end\n";
static const char handler_args[] = "[{\"id\":7,\"name\":\"ada\",\"tags\":[\"a\",\"b\",\"c\"]}]";

/* Run `lua -e FIB_SRC...` once; the in-script time of fib(27) in microseconds. */
static double native_fib(const char *lua)
{
    char prog[4096];
    snprintf(prog, sizeof prog, "%s", lua);
    char *argv[] = {prog, "-e", FIB_SRC "io.write(r, ' ', string.format('%.9f', dt))", NULL};
    char out[128];
    double secs;
    char result[32];
    if (bench_run_capture(argv, out, sizeof out) != 0 ||
        sscanf(out, "%31s %lf", result, &secs) != 2 || strcmp(result, FIB_RESULT))
        die("native lua5.4 fib(27) gave an unexpected result");
    return secs * 1e6;
}

static glint_image *load_lua(const char *guest)
{
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 16 << 20;
    cfg.stack_size = 256 << 10;
    cfg.input_size = 64 << 10;
    cfg.timeout_ms = 0;
    glint_image *img;
    int rc = glint_image_load_file(guest, &cfg, NULL, &img);
    if (rc)
        die_glint(guest, rc);
    return img;
}

static double native_fib_ctx(void *lua)
{
    return native_fib(lua);
}

/* fib(27) natively and in the guest, interleaved; `runs` of each. */
static void fib_rows(glint_sandbox *sb, const char *lua, int runs)
{
    const struct bench_fib f = {
        .native_name = "lua_fib_native",
        .native_what = "lua5.4: fib(27), in-script os.clock",
        .guest_name = "lua_fib_guest",
        .guest_what = "glint: lua.elf Eval of the same fib(27), warm sandbox",
        .cpu_name = "lua_fib_guest_cpu",
        .guest_src = FIB_SRC "return r",
        .result = FIB_RESULT,
        .label = "lua.elf Eval fib(27)",
        .native = native_fib_ctx,
        .ctx = (void *)(uintptr_t)lua,
    };
    bench_fib_rows(sb, &f, runs);
}

/* Eval("return 1") on a warm sandbox, against warm_call (Echo on hello.elf). */
static void eval_row(glint_sandbox *sb, int iters)
{
    struct row *r = row_new("lua_eval_warm", "glint: lua.elf Eval(\"return 1\"), warm sandbox");
    if (floors.warm_echo)
        row_floor(r, floors.warm_echo, 1, 0, "warm_call");
    glint_value src = glint_string("return 1"), ret;
    for (int i = 0; i < iters + 100; i++) {
        double t = now_us();
        int rc = glint_sandbox_call(sb, "Eval", &src, 1, &ret);
        double dt = now_us() - t;
        if (rc)
            die_glint("lua.elf Eval", rc);
        if (i >= 100)
            row_add(r, dt);
    }
}

/* A handler Loaded once, image derived from that state, then pool calls (take, Call, restore). */
static void handler_row(glint_image *img, int iters)
{
    glint_sandbox *sb;
    int rc = glint_sandbox_create(img, NULL, &sb);
    glint_value src = glint_string(handler_src);
    glint_image *derived;
    if (rc || (rc = glint_sandbox_call(sb, "Load", &src, 1, NULL)) ||
        (rc = glint_image_derive(sb, &derived)))
        die_glint("lua.elf Load + derive", rc);
    glint_sandbox_destroy(sb);
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    pc.size = 1;
    glint_pool *pool;
    if ((rc = glint_pool_create(derived, NULL, &pc, &pool)))
        die_glint("pool of the derived Lua image", rc);
    struct row *r = row_new("lua_handler_isolated",
                            "glint: pool Call of a Loaded Lua handler, JSON argument (+restore)");
    if (floors.pool_dirty_16)
        row_floor(r, floors.pool_dirty_16, 1, 0, "pool_call_dirty_16");
    glint_value args[] = {glint_string("handler"), glint_string(handler_args)}, ret;
    for (int i = 0; i < iters + 50; i++) {
        double t = now_us();
        rc = glint_pool_call(pool, "Call", args, 2, &ret, NULL);
        double dt = now_us() - t;
        if (rc)
            die_glint("pool Call handler", rc);
        if (i == 0 && !memmem(ret.as.str.ptr, ret.as.str.len, "hello, ada", 10))
            die("the Lua handler gave an unexpected result");
        if (i >= 50)
            row_add(r, dt);
    }
    glint_pool_destroy(pool);
    glint_image_destroy(derived);
}

void bench_lua(const char *guest, const char *lua, int iters)
{
    if (access(guest, R_OK)) {
        printf("bench: SKIPPED the lua_* rows: %s: %s (make builds it from liblua5.4-dev)\n", guest,
               strerror(errno));
        return;
    }
    glint_image *img = load_lua(guest);
    glint_sandbox *sb;
    int rc = glint_sandbox_create(img, NULL, &sb);
    if (rc)
        die_glint("lua.elf sandbox", rc);
    if (bench_on_path(lua)) {
        int runs = iters / 100;
        fib_rows(sb, lua, runs < 5 ? 5 : runs > 30 ? 30 : runs);
    } else {
        printf("bench: SKIPPED lua_fib_native, lua_fib_guest, lua_fib_guest_cpu: %s not found "
               "(package lua5.4)\n",
               lua);
    }
    eval_row(sb, iters);
    glint_sandbox_destroy(sb);
    handler_row(img, iters);
    glint_image_destroy(img);
}
