/* `glint run`'s options and operands: sizes, timeout, budget, repeat, --load, the call. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"
#include "glint.h"
#include "parse.h"
#include "report.h"
#include "run.h"

/* glint_config sizes: the library's rule and ranges (glint.h), applied here
 * too so that a bad value is a usage error before anything is loaded. */
#define PAGE 4096u

struct size_option {
    const char *name;
    size_t offset; /* of the uint64_t field in glint_config */
    uint64_t min, max;
};

static const struct size_option size_options[] = {
    {"--heap", offsetof(glint_config, heap_size), GLINT_HEAP_SIZE_MIN, GLINT_HEAP_SIZE_MAX},
    {"--stack", offsetof(glint_config, stack_size), GLINT_STACK_SIZE_MIN, GLINT_STACK_SIZE_MAX},
    {"--input-size", offsetof(glint_config, input_size), GLINT_BUFFER_SIZE_MIN,
     GLINT_BUFFER_SIZE_MAX},
    {"--output-size", offsetof(glint_config, output_size), GLINT_BUFFER_SIZE_MIN,
     GLINT_BUFFER_SIZE_MAX},
    {"--max-image-memory", offsetof(glint_config, max_image_memory), GLINT_IMAGE_MEMORY_MIN,
     GLINT_IMAGE_MEMORY_MAX},
};

#define REPEAT_MAX 10000000u

static int set_size(const char *who, glint_config *cfg, const struct size_option *o,
                    const char *value)
{
    char err[160], q[CLI_QUOTE_SHORT], lo[32], hi[32];
    uint64_t v;
    if (parse_size(value, &v, err, sizeof err) != PARSE_OK) {
        cli_error("%s: %s: '%s' %s", who, o->name, cli_quote(value, q, sizeof q), err);
        return CLI_USAGE;
    }
    uint64_t rounded = v > o->max ? v : (v + PAGE - 1) / PAGE * PAGE;
    if (rounded < o->min || rounded > o->max) {
        cli_error("%s: %s: '%s' is out of range (%s..%s after rounding up to 4K)", who, o->name,
                  cli_quote(value, q, sizeof q), cli_size_text(o->min, lo, sizeof lo),
                  cli_size_text(o->max, hi, sizeof hi));
        return CLI_USAGE;
    }
    memcpy((char *)cfg + o->offset, &v, sizeof v);
    return CLI_OK;
}

static int set_timeout(const char *who, glint_config *cfg, const char *value)
{
    char err[160], q[CLI_QUOTE_SHORT];
    glint_value v;
    void *storage;
    if (parse_value(GLINT_U32, value, &v, &storage, err, sizeof err) != PARSE_OK) {
        cli_error("%s: --timeout-ms: '%s' is not a number of milliseconds (0..%" PRIu32 ")", who,
                  cli_quote(value, q, sizeof q), UINT32_MAX);
        return CLI_USAGE;
    }
    cfg->timeout_ms = v.as.u32;
    return CLI_OK;
}

static int set_budget(const char *who, glint_config *cfg, const char *value)
{
    char err[160], q[CLI_QUOTE_SHORT];
    glint_value v;
    void *storage;
    if (parse_value(GLINT_U64, value, &v, &storage, err, sizeof err) != PARSE_OK) {
        cli_error("%s: --budget: '%s' is not a number of instructions (0..%" PRIu64 ")", who,
                  cli_quote(value, q, sizeof q), UINT64_MAX);
        return CLI_USAGE;
    }
    cfg->budget = v.as.u64;
    return CLI_OK;
}

static int set_repeat(struct run_cmd *cmd, const char *value)
{
    char err[160], q[CLI_QUOTE_SHORT];
    glint_value v;
    void *storage;
    if (parse_value(GLINT_U32, value, &v, &storage, err, sizeof err) != PARSE_OK || v.as.u32 < 1 ||
        v.as.u32 > REPEAT_MAX) {
        cli_error("run: --repeat: '%s' is not a number of calls (1..%u)",
                  cli_quote(value, q, sizeof q), REPEAT_MAX);
        return CLI_USAGE;
    }
    cmd->repeat = v.as.u32;
    return CLI_OK;
}

int cli_run_parse(int argc, char **argv, struct run_cmd *cmd)
{
    char q[CLI_QUOTE_SHORT], pq[CLI_QUOTE_PATH];
    int i = 1;
    const bool build = cmd->image_build;
    const char *who = build ? "image build" : "run";
    cmd->who = who;
    glint_config_init(&cmd->cfg);
    cmd->repeat = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == 0) {
            if (build && !cmd->path) { /* image build: options may follow GUEST.elf */
                cmd->path = arg;
                continue;
            }
            break; /* first operand; options end here */
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            int rc = cli_help(build ? "image" : "run");
            return rc == CLI_OK ? -1 : rc;
        }
        if (strcmp(arg, "--no-confine") == 0) {
            cmd->no_confine = true;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t namelen = eq && arg[1] == '-' ? (size_t)(eq - arg) : strlen(arg);
        const struct size_option *so = NULL;
        bool timeout = false, repeat = false, load = false, budget = false, output = false;
        for (size_t k = 0; k < sizeof size_options / sizeof size_options[0]; k++) {
            if (strlen(size_options[k].name) == namelen &&
                strncmp(arg, size_options[k].name, namelen) == 0)
                so = &size_options[k];
        }
        if (so == NULL && namelen == strlen("--timeout-ms") &&
            strncmp(arg, "--timeout-ms", namelen) == 0)
            timeout = true;
        if (!build && so == NULL && namelen == strlen("--repeat") &&
            strncmp(arg, "--repeat", namelen) == 0)
            repeat = true;
        if (build && (strcmp(arg, "-o") == 0 ||
                      (namelen == strlen("--output") && strncmp(arg, "--output", namelen) == 0)))
            output = true;
        if (so == NULL && namelen == strlen("--load") && strncmp(arg, "--load", namelen) == 0)
            load = true;
        if (so == NULL && namelen == strlen("--budget") && strncmp(arg, "--budget", namelen) == 0)
            budget = true;
        if (so == NULL && !timeout && !repeat && !load && !budget && !output) {
            if (strncmp(arg, "--help=", 7) == 0)
                cli_error("%s: option --help takes no value", who);
            else
                cli_error("%s: unknown option '%s' (see 'glint %s --help')", who,
                          cli_quote(arg, q, sizeof q), build ? "image" : "run");
            return CLI_USAGE;
        }
        const char *value;
        if (arg[namelen] == '=') {
            value = arg + namelen + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            cli_error("%s: option %s needs a value", who,
                      timeout  ? "--timeout-ms"
                      : repeat ? "--repeat"
                      : load   ? "--load"
                      : budget ? "--budget"
                      : output ? "--output"
                               : so->name);
            return CLI_USAGE;
        }
        if (load || output) {
            *(load ? &cmd->load_path : &cmd->output_path) = value;
            continue;
        }
        int rc = timeout  ? set_timeout(who, &cmd->cfg, value)
                 : repeat ? set_repeat(cmd, value)
                 : budget ? set_budget(who, &cmd->cfg, value)
                          : set_size(who, &cmd->cfg, so, value);
        if (rc != CLI_OK)
            return rc;
    }
    if (!cmd->path && i >= argc) {
        cli_error("%s: missing GUEST.elf operand (see 'glint %s --help')", who,
                  build ? "image" : "run");
        return CLI_USAGE;
    }
    if (!cmd->path)
        cmd->path = argv[i++];
    if (build) {
        if (i < argc) {
            cli_error("image build: unexpected operand '%s' (it takes one GUEST.elf)",
                      cli_quote(argv[i], q, sizeof q));
            return CLI_USAGE;
        }
        if (!cmd->output_path || !cmd->output_path[0]) {
            cli_error("image build: missing -o FILE.gimg (where to write the image file)");
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    if (i >= argc) {
        cli_error("run: missing FUNCTION operand (see 'glint inspect %s')",
                  cli_quote(cmd->path, pq, sizeof pq));
        return CLI_USAGE;
    }
    cmd->func = argv[i++];
    cmd->argv = argv + i;
    cmd->argc = (size_t)(argc - i);
    return CLI_OK;
}
