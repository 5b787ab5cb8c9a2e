/* `glint serve`'s command line: flags into a serve_config (with a --config file read and merged).
 */
#ifndef GLINT_SERVE_OPTIONS_H
#define GLINT_SERVE_OPTIONS_H

#include "config.h"

/* Parse argv (argv[0] = "serve") into *c (defaults first). Flags for the server's limits win
 * over a --config file's; function flags (--load, --pool, sizes...) apply to --guest/--image
 * only. Returns -1 after printing help, else an exit status (CLI_OK, or CLI_USAGE after
 * printing the error). */
int serve_options_parse(int argc, char **argv, struct serve_config *c);

#endif
