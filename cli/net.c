/* The network commands (`glint serve`) run in glint-net, the program installed beside glint. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"

/* glint-net links libmicrohttpd, jansson and their dependencies (gnutls and
 * friends); loading them costs every process ~2 ms at start (measured: an
 * empty program 1.0 ms, linked with them 3.0 ms), which `glint run` of an
 * image file must not pay. So this program execs glint-net for them. */
int cli_net(int argc, char **argv)
{
    char self[PATH_MAX], path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || (size_t)n >= sizeof self - 1) {
        cli_error("%s: cannot find this program's directory (/proc/self/exe): %s", argv[0],
                  n < 0 ? strerror(errno) : "path too long");
        return CLI_LOAD;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash || (size_t)snprintf(path, sizeof path, "%.*s/glint-net", (int)(slash - self),
                                   self) >= sizeof path) {
        cli_error("%s: cannot name glint-net beside '%s'", argv[0], self);
        return CLI_LOAD;
    }
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args) {
        cli_error("%s: out of memory", argv[0]);
        return CLI_LOAD;
    }
    args[0] = "glint-net";
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    fflush(NULL);
    execv(path, args);
    int e = errno;
    free(args);
    cli_error("%s: cannot run %s: %s (glint-net is installed beside glint)", argv[0], path,
              strerror(e));
    return CLI_LOAD;
}
