/* `glint run`'s command: what its options and operands say, parsed and checked. */
#ifndef GLINT_CLI_RUN_H
#define GLINT_CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint.h"

struct run_cmd {
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

#endif
