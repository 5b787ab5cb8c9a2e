/* Shared declarations of the benchmark program's parts. */
#ifndef GLINT_BENCH_H
#define GLINT_BENCH_H

#include "stats.h"

/* Raw-KVM floor rows measured by bench_core, for other rows' ratios; warm_echo (warm_call) and
 * pool_dirty_16 (pool_call_dirty_16) are glint rows the Lua rows are compared with (NULL when
 * not measured in this run). */
struct floors {
    struct row *warm_call, *roundtrip, *page_copy, *create;
    struct row *warm_echo, *pool_dirty_16;
};
extern struct floors floors;

void die_glint(const char *what, int rc);

/* Per-request isolation: pooled calls, restore by heap size, calls/s,
 * interrupt latency, density. Needs bench_core's floors. */
void bench_isolation(const char *guest, int iters, int density);

/* The pool_call_dirty_* rows alone (bench_isolation's first part). */
void bench_pool(const char *guest, int iters);

/* Lua rows (lua.elf vs native lua, vs warm_call and pool_call_dirty_16); skipped with a message
 * when guest (lua.elf) or the lua executable is missing. */
void bench_lua(const char *guest, const char *lua, int iters);

/* JavaScript rows (js.elf vs native mujs); skipped with a message when guest (js.elf) or the
 * mujs executable is missing. */
void bench_js(const char *guest, const char *mujs, int iters);

/* glint serve rows: HTTP Echo latency (p50 vs pool_call_dirty_16, p99 vs p50) through a real
 * `glint serve` (the glint binary) of guest on loopback, and requests/s from wrk if present. */
void bench_serve(const char *glint, const char *guest, int iters);

/* Hot-mode rows (thread_pingpong, hot_call, hot_call_4k, hot_parked_call) on guest (hello.elf);
 * hot_parked_call is compared with warm_call when bench_core ran. */
void bench_hot(const char *guest, int iters);

/* Memory that costs what the guest touches: image load time and sandbox
 * resident memory with a 1 MiB and a 64 MiB heap (stateful test guest). */
void bench_memory(const char *guest, int iters);

/* Image files (bench/image_file.c): hello.gimg and lua.gimg (a handler loaded) against their
 * ELFs: load, cold start (floor raw_create + raw_first_run, measured here), and `glint run`
 * (glint_cli) from process start to exit. */
void bench_image_file(const char *hello, const char *lua_guest, const char *glint_cli, int iters);

#endif
