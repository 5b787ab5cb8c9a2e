/* Shared declarations of the glint command-line tool: exit statuses and commands. */
#ifndef GLINT_CLI_H
#define GLINT_CLI_H

/* Exit statuses (documented in `glint --help`). */
enum cli_status {
    CLI_OK = 0,    /* success */
    CLI_GUEST = 1, /* the guest failed, or stdout could not be written */
    CLI_USAGE = 2, /* bad command line, or arguments that do not fit the signature */
    CLI_LOAD = 3,  /* the guest could not be loaded, or KVM is unavailable */
};

/* Commands; argv[0] is the command name. Return an exit status. */
int cli_run(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_image(int argc, char **argv); /* `glint image build` (cli/image.c) */
/* `glint serve` and `glint call`: exec glint-net, installed beside glint (cli/net.c); return
 * only on failure. */
int cli_net(int argc, char **argv);

/* Print help for topic (NULL: the whole tool; "run", "inspect", "info", "call", "help") on stdout.
 * Returns an exit status; unknown topics are usage errors. */
int cli_help(const char *topic);

#endif
