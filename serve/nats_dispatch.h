/* A fixed set of threads that run NATS requests, with no queue beyond one slot per thread. */
#ifndef GLINT_SERVE_NATS_DISPATCH_H
#define GLINT_SERVE_NATS_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

struct nats_dispatch;

/* Start `threads` threads (1..4096) that call run(ctx, item) for each submitted item. Returns
 * NULL if out of memory or a thread cannot start (errno-style code in *rc). */
struct nats_dispatch *nats_dispatch_start(unsigned threads, void (*run)(void *ctx, void *item),
                                          void *ctx, int *rc);

/* Hand item to a free thread. Returns false at once if every thread has an item (running or
 * about to run): the caller answers "overloaded" instead of queueing. */
bool nats_dispatch_submit(struct nats_dispatch *d, void *item);

/* Items submitted and not yet finished. */
unsigned nats_dispatch_active(struct nats_dispatch *d);

/* Threads that could take an item now. */
unsigned nats_dispatch_free(struct nats_dispatch *d);

/* Wait at most ms for a thread to become free (or for all items to finish, if all_idle).
 * Returns true if the condition holds. */
bool nats_dispatch_wait(struct nats_dispatch *d, bool all_idle, uint32_t ms);

/* Let the threads finish their items, join them and free d. NULL ok. */
void nats_dispatch_stop(struct nats_dispatch *d);

#endif
