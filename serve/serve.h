/* `glint serve`: serve guest functions over HTTP/1.1 (docs/serve.md). */
#ifndef GLINT_SERVE_H
#define GLINT_SERVE_H

/* The serve command; argv[0] is "serve". Returns an exit status (cli/cli.h). */
int cli_serve(int argc, char **argv);

/* `glint call --nats URL NAME JSON_ARRAY`: one call to glint workers on NATS (serve/call.c;
 * docs/gateway.md). argv[0] is "call". Returns an exit status. */
int cli_call(int argc, char **argv);

/* `glint serve --help` (printed by cli_help("serve")). */
extern const char serve_help_text[];

#endif
