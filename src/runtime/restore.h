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

/* glint_sandbox_restore(sb, NULL) without its checks and without touching
 * hot mode: for hot mode's vCPU thread, which restores its own stopped guest
 * after an isolated call (runtime/hot_vcpu.c). */
int glint__restore_to_image(glint_sandbox *sb);

/* Give back to the kernel the resident pages of sb's memory that are zero in
 * the image and zero now (pages the guest wrote and a restore cleared), if
 * there are more than max_bytes of them: write-protect them again in the
 * dirty log (so that the next restore does not clear, and fault in, them
 * again) and madvise(MADV_DONTNEED) them. The guest reads them as zero, as
 * before, through fresh pages: KVM drops its mappings of the old ones through
 * its MMU notifier. Memory stays exactly what it was, so any later restore
 * stays exact. sb must not be in a call (the pool's maintainer thread trims
 * sandboxes nobody holds). Does nothing where the hypervisor cannot track
 * writes (every restore rewrites every writable page there). Sets *resident
 * (may be NULL) to the resident bytes outside the image's non-zero pages it
 * found and *trimmed to those it gave back. Returns 0 or a GLINT_E* code
 * (memory unchanged or only partly trimmed, still exact). */
int glint__sandbox_trim(glint_sandbox *sb, uint64_t max_bytes, uint64_t *resident,
                        uint64_t *trimmed);

#endif
