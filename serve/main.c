/* Entry point of glint-net, the network commands `glint` execs: `glint-net serve|call ...`. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "serve.h"

int main(int argc, char **argv)
{
    /* A closed connection or pipe must show up as a write error, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    char q[CLI_QUOTE_SHORT];
    int status;
    if (argc < 2) {
        cli_error(
            "glint-net: missing command (serve, call): it is run as 'glint serve' or 'glint call'");
        status = CLI_USAGE;
    } else if (strcmp(argv[1], "serve") == 0) {
        status = cli_serve(argc - 1, argv + 1);
    } else if (strcmp(argv[1], "call") == 0) {
        status = cli_call(argc - 1, argv + 1);
    } else {
        cli_error("glint-net: unknown command '%s' (it is run as 'glint serve' or 'glint call')",
                  cli_quote(argv[1], q, sizeof q));
        status = CLI_USAGE;
    }
    if (status == CLI_OK)
        status = cli_finish_stdout();
    else
        fflush(stdout);
    return status;
}
