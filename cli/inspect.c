/* `glint inspect`: list the functions a guest ELF exports, without running it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "glint.h"
#include "report.h"

static int print_function(const glint_function_info *fi)
{
    if (printf("%s(", fi->name) < 0)
        return -1;
    for (size_t k = 0; k < fi->nparams; k++) {
        if (printf("%s%s", k ? ", " : "", glint_type_name(fi->params[k])) < 0)
            return -1;
    }
    return printf(") -> %s\n", glint_type_name(fi->ret)) < 0 ? -1 : 0;
}

int cli_inspect(int argc, char **argv)
{
    char q[CLI_QUOTE_SHORT], pq[CLI_QUOTE_PATH];
    const char *path = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == 0)
            break;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
            return cli_help("inspect");
        cli_error("inspect: unknown option '%s' (see 'glint inspect --help')",
                  cli_quote(arg, q, sizeof q));
        return CLI_USAGE;
    }
    if (i >= argc) {
        cli_error("inspect: missing GUEST.elf operand (see 'glint inspect --help')");
        return CLI_USAGE;
    }
    path = argv[i++];
    if (i < argc) {
        cli_error("inspect: unexpected operand '%s' (inspect takes one GUEST.elf)",
                  cli_quote(argv[i], q, sizeof q));
        return CLI_USAGE;
    }

    glint_exports *ex = NULL;
    int err = glint_exports_read_file(path, &ex);
    if (err != 0) {
        const char *detail = glint_errmsg();
        cli_error("cannot load %s: %s%s%s", cli_quote(path, pq, sizeof pq), glint_strerror(err),
                  detail[0] ? ": " : "", detail);
        return cli_load_status(err);
    }
    int status = CLI_OK;
    size_t n = glint_exports_count(ex);
    for (size_t k = 0; k < n; k++) {
        glint_function_info fi;
        err = glint_exports_get(ex, k, &fi);
        if (err != 0) {
            cli_error("cannot read export %zu of %s: %s", k, cli_quote(path, pq, sizeof pq),
                      glint_strerror(err));
            status = CLI_LOAD;
            break;
        }
        if (print_function(&fi) != 0)
            break; /* reported by cli_finish_stdout() */
    }
    glint_exports_destroy(ex);
    int out = cli_finish_stdout();
    return status != CLI_OK ? status : out;
}
