/* `glint run`'s command: what its options and operands say, parsed and checked. */
#ifndef GLINT_CLI_RUN_H
#define GLINT_CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint.h"

struct run_cmd {
    bool image_build;        /* set before parsing: `glint image build` (no FUNCTION, -o FILE) */
    const char *who;         /* "run" or "image build", for messages */
    const char *output_path; /* image build: -o FILE */
    glint_config cfg;
    const char *path;
    const char *func;
    char **argv; /* call arguments as text */
    size_t argc;
    uint32_t repeat;       /* calls, each in a pristine (restored) sandbox */
    bool no_confine;       /* skip the seccomp confinement of the calling thread */
    const char *load_path; /* --load FILE: given to Load(string) once, then derived */
    char *load_text;       /* its contents (NUL-terminated) */
    size_t load_len;
};

/* Parse and check options and operands into *cmd (sizes by the library's
 * rule and ranges, so that a bad value is a usage error before anything is
 * loaded). Returns -1 after printing help, else an exit status (CLI_OK). */
int cli_run_parse(int argc, char **argv, struct run_cmd *cmd);

/* --load: the guest must export Load(string) -> void, and the file must be
 * regular UTF-8 text that fits the input buffer; reads it into cmd. */
int cli_run_check_load(struct run_cmd *cmd, const glint_exports *ex);

/* Load cmd->path (an ELF or an image file) with the CLI's host functions;
 * if checked is set, check cmd->func still has that signature. */
int cli_run_load_image(const struct run_cmd *cmd, const glint_function_info *checked,
                       glint_image **img);

/* --load: call Load once with the file's text and replace *img by the
 * image derived from the sandbox afterwards. */
int cli_run_load_and_derive(const struct run_cmd *cmd, glint_image **img);

#endif
