/* `glint image build`: initialise a guest (and --load a script) once, then write an image file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "escape.h"
#include "glint.h"
#include "report.h"
#include "run.h"

static int build(int argc, char **argv)
{
    struct run_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.image_build = true;
    (void)cli_stdout_escapes(); /* decided before anything can confine the process */
    int status = cli_run_parse(argc, argv, &cmd);
    if (status < 0)
        return CLI_OK; /* help was printed */
    if (status != CLI_OK)
        return status;
    char pq[CLI_QUOTE_PATH];
    glint_exports *ex = NULL;
    if (cmd.load_path) {
        int err = glint_exports_read_file(cmd.path, &ex);
        if (err != 0) {
            const char *detail = glint_errmsg();
            cli_error("cannot load %s: %s%s%s", cli_quote(cmd.path, pq, sizeof pq),
                      glint_strerror(err), detail[0] ? ": " : "", detail);
            return cli_load_status(err);
        }
        status = cli_run_check_load(&cmd, ex);
        glint_exports_destroy(ex);
    }
    glint_image *img = NULL;
    if (status == CLI_OK)
        status = cli_run_load_image(&cmd, NULL, &img);
    if (status == CLI_OK && cmd.load_path)
        status = cli_run_load_and_derive(&cmd, &img);
    if (status == CLI_OK) {
        int err = glint_image_save(img, cmd.output_path);
        if (err != 0) {
            cli_error("image build: cannot write %s: %s: %s",
                      cli_quote(cmd.output_path, pq, sizeof pq), glint_strerror(err),
                      glint_errmsg());
            status = CLI_LOAD;
        }
    }
    glint_image_destroy(img);
    free(cmd.load_text);
    return status;
}

int cli_image(int argc, char **argv)
{
    char q[CLI_QUOTE_SHORT];
    if (argc < 2) {
        cli_error("image: missing subcommand (see 'glint image --help')");
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
        return cli_help("image");
    if (strcmp(sub, "build") == 0)
        return build(argc - 1, argv + 1);
    cli_error("image: unknown subcommand '%s' (see 'glint image --help')",
              cli_quote(sub, q, sizeof q));
    return CLI_USAGE;
}
