/* The CPUs this process may use: its affinity mask, capped by its cgroup v2 cpu.max quota. */
#include "os/cpus.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned glint__cpus_parse_max(const char *line)
{
    char *end;
    if (strncmp(line, "max", 3) == 0)
        return 0;
    unsigned long long quota = strtoull(line, &end, 10);
    if (end == line || *end != ' ')
        return 0;
    const char *p = end + 1;
    unsigned long long period = strtoull(p, &end, 10);
    if (end == p || period == 0 || quota == 0)
        return 0;
    unsigned long long n = (quota + period - 1) / period;
    return n > 4096 ? 4096u : (unsigned)n;
}

/* Read at most n-1 bytes of a small file (no FIFO or device blocks: /proc and /sys only). */
static int read_small(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, buf, n - 1);
    close(fd);
    if (r <= 0)
        return -1;
    buf[r] = 0;
    return 0;
}

/* The quota of the process's cgroup v2 ("0::/path" in /proc/self/cgroup). */
static unsigned cgroup_quota(void)
{
    char line[512], path[640], max[64];
    if (read_small("/proc/self/cgroup", line, sizeof line) != 0)
        return 0;
    char *p = strstr(line, "0::");
    if (!p)
        return 0;
    p += 3;
    p[strcspn(p, "\n")] = 0;
    if (strstr(p, ".."))
        return 0;
    snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", strcmp(p, "/") == 0 ? "" : p);
    if (read_small(path, max, sizeof max) != 0)
        return 0;
    return glint__cpus_parse_max(max);
}

void glint__cpus_read(struct glint__cpus *out)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    unsigned aff = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        aff = (unsigned)CPU_COUNT(&set);
    if (aff == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        aff = n > 0 ? (unsigned)n : 1u;
    }
    out->affinity = aff;
    out->quota = cgroup_quota();
    out->allowed = out->quota && out->quota < aff ? out->quota : aff;
}
