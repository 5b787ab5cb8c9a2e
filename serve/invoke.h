/* One function call of glint serve: request body to arguments, pooled call, result or error. */
#ifndef GLINT_SERVE_INVOKE_H
#define GLINT_SERVE_INVOKE_H

#include <stddef.h>

#include "functions.h"

struct serve_reply {
    unsigned status; /* HTTP status */
    char *body;      /* JSON text (malloc'd), or NULL if out of memory */
    size_t len;
    const char *kind;       /* error kind, or NULL on success */
    unsigned retry_after_s; /* 429: seconds for Retry-After */
};

/* Call f with the JSON array in body[0..len): 200 {"result"}, or an error reply with its
 * status (400 bad JSON or arguments, 422 guest error/abort/fault/protocol/budget, 429 no
 * sandbox within the wait bound or too many waiting, 504 guest timeout, 500 hypervisor or
 * internal failure). Counts the call in f->metrics. */
void serve_invoke(struct serve_fn *f, const char *body, size_t len, struct serve_reply *r);

/* The HTTP status (and error kind, in *kind_name) of a failed glint_pool_call: guest error,
 * abort, fault, triple fault, protocol violation or budget 422; timeout 504; hypervisor 500;
 * interrupted 503; GLINT_EBUSY without a guest failure 429; arguments that do not fit
 * (GLINT_ESIG, GLINT_ETOOBIG, GLINT_EINVAL) 400; anything else 500 "internal". */
unsigned serve_failure_status(int err, glint_failure_kind kind, const char **kind_name);

/* An error reply of the given status and kind. */
void serve_reply_error(struct serve_reply *r, unsigned status, const char *kind, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

#endif
