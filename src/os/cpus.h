/* The CPUs this process may use: its affinity mask, capped by its cgroup v2 cpu.max quota. */
#ifndef GLINT_OS_CPUS_H
#define GLINT_OS_CPUS_H

#include <stddef.h>

struct glint__cpus {
    unsigned allowed;  /* min(affinity, quota), at least 1 */
    unsigned affinity; /* CPUs in the calling thread's sched_getaffinity mask */
    unsigned quota;    /* ceil(cpu.max quota / period) of the process's cgroup; 0: no limit
                          (or no cgroup v2) */
};

/* Read the limits now (a few system calls and two small file reads; never
 * on a call path). Never fails: unreadable limits count as absent. */
void glint__cpus_read(struct glint__cpus *out);

/* Parse a cgroup v2 cpu.max line ("max 100000", "150000 100000"): the CPUs
 * the quota allows, rounded up; 0 for "max" or anything malformed. */
unsigned glint__cpus_parse_max(const char *line);

#endif
