/* Snapshots and restore (private): the snapshot struct and the host-written page accounting. */
#ifndef GLINT_RUNTIME_RESTORE_H
#define GLINT_RUNTIME_RESTORE_H

#include <stdint.h>

#include "glint.h"
#include "hv/hv.h"

struct glint_snapshot {
    glint_image *img;
    uint64_t *set; /* bitmap: pages stored here (differ from image) */
    uint32_t npages;
    uint32_t *pages; /* their indices, ascending */
    uint8_t *data;   /* npages * 4 KiB */
    glint__vcpu_state *state;
};

/* Mark [addr, addr+len) as written by the host: the next restore copies
 * those pages back. Call it before writing, so that a failure between the
 * write and the restore cannot leave a written page unaccounted. */
void glint__mark_host_dirty(glint_sandbox *sb, uint64_t addr, uint64_t len);

#endif
