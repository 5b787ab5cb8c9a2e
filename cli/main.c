/* Entry point of the glint command-line tool: global options and command dispatch. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "glint.h"
#include "report.h"

static int version(void)
{
    printf("glint %s\n", GLINT_VERSION_STRING);
    return cli_finish_stdout();
}

static int help_command(int argc, char **argv)
{
    if (argc > 2) {
        char q[CLI_QUOTE_SHORT];
        cli_error("help: unexpected operand '%s' (usage: glint help [COMMAND])",
                  cli_quote(argv[2], q, sizeof q));
        return CLI_USAGE;
    }
    const char *topic = argc == 2 ? argv[1] : NULL;
    if (topic != NULL && (strcmp(topic, "-h") == 0 || strcmp(topic, "--help") == 0))
        topic = "help";
    return cli_help(topic);
}

static int dispatch(int argc, char **argv)
{
    char q[CLI_QUOTE_SHORT];
    if (argc < 2) {
        cli_error("missing command (try 'glint --help')");
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0)
        return help_command(argc - 1, argv + 1);
    if (strcmp(cmd, "--version") == 0) {
        if (argc > 2) {
            cli_error("unexpected operand '%s' after --version", cli_quote(argv[2], q, sizeof q));
            return CLI_USAGE;
        }
        return version();
    }
    if (strcmp(cmd, "run") == 0)
        return cli_run(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0)
        return cli_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return cli_info(argc - 1, argv + 1);
    if (strcmp(cmd, "call") == 0)
        return cli_net(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cli_net(argc - 1, argv + 1);
    if (strcmp(cmd, "image") == 0)
        return cli_image(argc - 1, argv + 1);
    if (cmd[0] == '-')
        cli_error("unknown option '%s' (try 'glint --help')", cli_quote(cmd, q, sizeof q));
    else
        cli_error("unknown command '%s' (try 'glint --help')", cli_quote(cmd, q, sizeof q));
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    /* A closed pipe must show up as a write error, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 1 || argv == NULL) {
        cli_error("missing command (try 'glint --help')");
        return CLI_USAGE;
    }
    int status = dispatch(argc, argv);
    if (status == CLI_OK)
        status = cli_finish_stdout(); /* includes what the guest printed */
    else
        fflush(stdout);
    return status;
}
