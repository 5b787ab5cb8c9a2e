/* Pools (private): a test hook into the pool's idle sandboxes. */
#ifndef GLINT_RUNTIME_POOL_H
#define GLINT_RUNTIME_POOL_H

#include <stdint.h>

#include "glint.h"

/* Test hook: wait (at most timeout_ms) until all the pool's sandboxes are
 * idle and none waits for the maintainer's trimming; return the one the next
 * call takes (it stays in the pool), or NULL on timeout. *trims (may be
 * NULL): how many trims gave memory back so far. Never called by the
 * library; the caller must not call the pool meanwhile. */
glint_sandbox *glint__pool_test_idle(glint_pool *p, uint32_t timeout_ms, uint64_t *trims);

#endif
