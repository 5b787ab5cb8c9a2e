/* Shared declarations of the benchmark program's parts. */
#ifndef GLINT_BENCH_H
#define GLINT_BENCH_H

#include "stats.h"

/* Raw-KVM floor rows measured by bench_core, for other rows' ratios. */
struct floors {
    struct row *warm_call, *roundtrip, *page_copy, *create;
};
extern struct floors floors;

void die_glint(const char *what, int rc);

/* Per-request isolation: pooled calls, restore by heap size, calls/s,
 * interrupt latency, density. Needs bench_core's floors. */
void bench_isolation(const char *guest, int iters, int density);

/* Memory that costs what the guest touches: image load time and sandbox
 * resident memory with a 1 MiB and a 64 MiB heap (stateful test guest). */
void bench_memory(const char *guest, int iters);

#endif
