/* `glint run`: load a guest, call one function with typed arguments, print the result. */
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

/* "(i32, string)" for messages. */
static const char *param_list(const glint_function_info *fi, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t k = 0; k < fi->nparams && o < size; k++) {
        int n = snprintf(buf + o, size - o, "%s%s", k ? ", " : "", glint_type_name(fi->params[k]));
        if (n < 0)
            break;
        o += (size_t)n;
    }
    return buf;
}

static bool same_signature(const glint_function_info *a, const glint_function_info *b)
{
    if (a->ret != b->ret || a->nparams != b->nparams)
        return false;
    for (size_t k = 0; k < a->nparams; k++) {
        if (a->params[k] != b->params[k])
            return false;
    }
    return true;
}

static void report_load_error(const char *what, const char *path, int err)
{
    char q[CLI_QUOTE_PATH];
    const char *detail = glint_errmsg();
    const char *sep = detail[0] ? ": " : "";
    if (cli_load_status(err) == CLI_GUEST)
        cli_error("%s %s: guest init failed: %s%s%s", what, cli_quote(path, q, sizeof q),
                  glint_strerror(err), sep, detail);
    else
        cli_error("%s %s: %s%s%s", what, cli_quote(path, q, sizeof q), glint_strerror(err), sep,
                  detail);
}

/* One line naming the failure kind, its details and the guest's message, e.g.
 * "NullDeref failed: fault #PF (error code 0x4) at rip 0x401000, address 0x0: ...". */
static void report_call_failure(const char *func, int err, const glint_failure *f)
{
    char q[CLI_QUOTE_SHORT], what[200];
    const char *kind = glint_failure_kind_name(f->kind);
    const char *msg = f->message;
    switch (f->kind) {
    case GLINT_FAIL_NONE:
    case GLINT_FAIL_USAGE:
        snprintf(what, sizeof what, "%s", glint_strerror(err));
        if (f->kind == GLINT_FAIL_NONE || msg[0] == 0)
            msg = glint_errmsg();
        break;
    default: /* the library's message already names vector, rip, address, code */
        snprintf(what, sizeof what, "%s", kind);
        break;
    }
    cli_error("%s failed: %s%s%s", cli_quote(func, q, sizeof q), what, msg[0] ? ": " : "", msg);
}

/* Convert the text arguments to values of fi's parameter types. */
static int parse_args(const struct run_cmd *cmd, const glint_function_info *fi, glint_value *args,
                      void **storage)
{
    char q[CLI_QUOTE_SHORT], fq[CLI_QUOTE_SHORT], types[GLINT_MAX_PARAMS * 8 + 1];
    if (cmd->argc != fi->nparams) {
        cli_error("%s takes %zu argument%s (%s), got %zu", cli_quote(cmd->func, fq, sizeof fq),
                  fi->nparams, fi->nparams == 1 ? "" : "s", param_list(fi, types, sizeof types),
                  cmd->argc);
        return CLI_USAGE;
    }
    if (fi->nparams > GLINT_MAX_PARAMS) {
        cli_error("%s has %zu parameters; at most %d are supported",
                  cli_quote(cmd->func, fq, sizeof fq), fi->nparams, GLINT_MAX_PARAMS);
        return CLI_LOAD;
    }
    for (size_t k = 0; k < cmd->argc; k++) {
        char err[160];
        int rc = parse_value(fi->params[k], cmd->argv[k], &args[k], &storage[k], err, sizeof err);
        if (rc == PARSE_NOMEM) {
            cli_error("out of memory");
            return CLI_LOAD;
        }
        if (rc != PARSE_OK) {
            cli_error("%s: argument %zu (%s): '%s' %s", cli_quote(cmd->func, fq, sizeof fq), k + 1,
                      glint_type_name(fi->params[k]), cli_quote(cmd->argv[k], q, sizeof q), err);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

/* The longest --load text an input buffer of `size` bytes takes: the CALL
 * message's header and the string's length word come first. */
static uint64_t load_limit(uint64_t size)
{
    return size > 64 ? size - 64 : 0;
}

static int load_too_big(const struct run_cmd *cmd, uint64_t have, uint64_t limit)
{
    char fq[CLI_QUOTE_PATH], lim[32];
    cli_error("%s: --load: %s has %llu bytes; at most %s fit the input buffer (see "
              "--input-size)",
              cmd->who, cli_quote(cmd->load_path, fq, sizeof fq), (unsigned long long)have,
              cli_size_text(limit, lim, sizeof lim));
    return CLI_USAGE;
}

/* --load: the guest must export Load(string) -> void, and FILE must be a
 * regular file of valid UTF-8 that fits the input buffer. Reads it. */
int cli_run_check_load(struct run_cmd *cmd, const glint_exports *ex)
{
    char pq[CLI_QUOTE_PATH], fq[CLI_QUOTE_PATH];
    glint_function_info fi;
    if (glint_exports_find(ex, "Load", &fi) != 0 || fi.ret != GLINT_VOID || fi.nparams != 1 ||
        fi.params[0] != GLINT_STRING) {
        cli_error("%s: --load needs a guest that exports Load(string) -> void, and %s does not "
                  "(see 'glint inspect %s')",
                  cmd->who, cli_quote(cmd->path, pq, sizeof pq),
                  cli_quote(cmd->path, pq, sizeof pq));
        return CLI_USAGE;
    }
    cli_quote(cmd->load_path, fq, sizeof fq);
    int fd = open(cmd->load_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        cli_error("%s: --load: cannot open %s: %s", cmd->who, fq, strerror(errno));
        return CLI_USAGE;
    }
    struct stat st;
    /* Without --input-size the guest's default applies: checked again once
     * the image is loaded (load_image); here only the largest buffer. */
    uint64_t limit = load_limit(cmd->cfg.input_size ? cmd->cfg.input_size : GLINT_BUFFER_SIZE_MAX);
    int status = CLI_OK;
    if (fstat(fd, &st) != 0) {
        cli_error("%s: --load: cannot stat %s: %s", cmd->who, fq, strerror(errno));
        status = CLI_USAGE;
    } else if (!S_ISREG(st.st_mode)) {
        cli_error("%s: --load: %s is not a regular file", cmd->who, fq);
        status = CLI_USAGE;
    } else if ((uint64_t)st.st_size > limit) {
        status = load_too_big(cmd, (uint64_t)st.st_size, limit);
    } else if (!(cmd->load_text = malloc((size_t)st.st_size + 1))) {
        cli_error("%s: --load: out of memory", cmd->who);
        status = CLI_LOAD;
    }
    size_t got = 0;
    while (status == CLI_OK && got < (size_t)st.st_size) {
        ssize_t n = read(fd, cmd->load_text + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            cli_error("%s: --load: cannot read %s: %s", cmd->who, fq,
                      n < 0 ? strerror(errno) : "short read");
            status = CLI_USAGE;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (status != CLI_OK)
        return status;
    cmd->load_text[got] = 0;
    cmd->load_len = got;
    if (!utf8_valid(cmd->load_text, got) || memchr(cmd->load_text, 0, got)) {
        cli_error("%s: --load: %s is not valid UTF-8 text (or contains a NUL byte)", cmd->who, fq);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Look the function up in the guest's export table and parse the arguments
 * against its signature, without KVM. */
static int check_call(struct run_cmd *cmd, glint_exports **ex, glint_function_info *fi,
                      glint_value *args, void **storage)
{
    char q[CLI_QUOTE_SHORT], pq[CLI_QUOTE_PATH];
    int err = glint_exports_read_file(cmd->path, ex);
    if (err != 0) {
        report_load_error("cannot load", cmd->path, err);
        return cli_load_status(err);
    }
    if (glint_exports_find(*ex, cmd->func, fi) != 0) {
        cli_error("%s exports no function named '%s' (see 'glint inspect %s')",
                  cli_quote(cmd->path, pq, sizeof pq), cli_quote(cmd->func, q, sizeof q),
                  cli_quote(cmd->path, pq, sizeof pq));
        return CLI_USAGE;
    }
    int status = parse_args(cmd, fi, args, storage);
    if (status == CLI_OK && cmd->load_path)
        status = cli_run_check_load(cmd, *ex);
    return status;
}

/* The guest's `print`: to stdout like the result, escaped on a terminal. */
static void print_guest_text(void *user, const char *text, size_t len)
{
    (void)user;
    cli_write_text(stdout, text, len, cli_stdout_escapes());
    fflush(stdout);
}

/* Load the image with the CLI's host functions (print to stdout), and check
 * that the function is still the one check_call() saw. */
int cli_run_load_image(const struct run_cmd *cmd, const glint_function_info *checked,
                       glint_image **img)
{
    glint_host_fns *fns = NULL;
    int err = glint_host_fns_create(&fns);
    if (err == 0)
        err = glint_host_fns_set_print(fns, print_guest_text, NULL);
    if (err != 0) {
        cli_error("cannot set up host functions: %s", glint_errmsg());
        glint_host_fns_destroy(fns);
        return CLI_LOAD;
    }
    glint_config cfg = cmd->cfg;
    cfg.confine_init = !cmd->no_confine;
    err = glint_image_load_file(cmd->path, &cfg, fns, img);
    glint_host_fns_destroy(fns); /* the image keeps a copy */
    if (err != 0) {
        report_load_error("cannot load", cmd->path, err);
        return cli_load_status(err);
    }
    glint_function_info fi;
    if (checked && (glint_exports_find(glint_image_exports(*img), cmd->func, &fi) != 0 ||
                    !same_signature(&fi, checked))) {
        char pq[CLI_QUOTE_PATH];
        cli_error("cannot load %s: the file changed while it was being loaded",
                  cli_quote(cmd->path, pq, sizeof pq));
        return CLI_LOAD;
    }
    if (cmd->load_path) {
        glint_config used;
        glint_config_init(&used);
        if (glint_image_config(*img, &used) == 0 && cmd->load_len > load_limit(used.input_size))
            return load_too_big(cmd, cmd->load_len, load_limit(used.input_size));
    }
    return CLI_OK;
}

/* Report a failed call with the sandbox's failure record. */
static int call_failed(const struct run_cmd *cmd, glint_sandbox *sb, int err)
{
    glint_failure f;
    memset(&f, 0, sizeof f);
    glint_sandbox_last_failure(sb, &f);
    f.message[sizeof f.message - 1] = 0;
    report_call_failure(cmd->func, err, &f);
    return cli_call_status(err, &f);
}

/* Load(FILE's text) in a sandbox of img, on a helper thread confined to
 * that sandbox's VM (unless --no-confine): the process itself stays free to
 * create the sandbox of the derived image afterwards. */
struct load_job {
    const struct run_cmd *cmd;
    glint_sandbox *sb;
    int err, confine_err;
    char msg[512];
};

static void *load_thread(void *arg)
{
    struct load_job *j = arg;
    if (!j->cmd->no_confine && (j->confine_err = glint_confine_thread_to_sandboxes(&j->sb, 1))) {
        snprintf(j->msg, sizeof j->msg, "%s", glint_errmsg());
        return NULL;
    }
    glint_value a = glint_string_n(j->cmd->load_text, j->cmd->load_len);
    j->err = glint_sandbox_call(j->sb, "Load", &a, 1, NULL);
    if (j->err)
        snprintf(j->msg, sizeof j->msg, "%s", glint_errmsg());
    return NULL; /* the thread ends, and its filter with it */
}

/* --load: call Load once and replace *img by an image derived from the
 * sandbox's state afterwards. */
int cli_run_load_and_derive(const struct run_cmd *cmd, glint_image **img)
{
    char fq[CLI_QUOTE_PATH];
    struct load_job j = {.cmd = cmd};
    int err = glint_sandbox_create(*img, NULL, &j.sb);
    if (err != 0) {
        report_load_error("cannot create a sandbox for", cmd->path, err);
        return cli_load_status(err);
    }
    pthread_t t;
    int status = CLI_OK;
    if ((err = pthread_create(&t, NULL, load_thread, &j)) != 0) {
        cli_error("%s: --load: cannot start a thread: %s", cmd->who, strerror(err));
        status = CLI_LOAD;
    } else {
        pthread_join(t, NULL);
        if (j.confine_err) {
            cli_error("cannot confine the load thread with seccomp: %s", j.msg);
            status = CLI_LOAD;
        } else if (j.err) {
            glint_failure f;
            memset(&f, 0, sizeof f);
            glint_sandbox_last_failure(j.sb, &f);
            f.message[sizeof f.message - 1] = 0;
            if (f.kind == GLINT_FAIL_NONE || f.message[0] == 0)
                snprintf(f.message, sizeof f.message, "%.200s", j.msg);
            cli_error("--load %s: Load failed: %s%s%s", cli_quote(cmd->load_path, fq, sizeof fq),
                      f.kind == GLINT_FAIL_NONE || f.kind == GLINT_FAIL_USAGE
                          ? glint_strerror(j.err)
                          : glint_failure_kind_name(f.kind),
                      f.message[0] ? ": " : "", f.message);
            status = cli_call_status(j.err, &f);
        }
    }
    glint_image *derived = NULL;
    if (status == CLI_OK && (err = glint_image_derive(j.sb, &derived)) != 0) {
        cli_error("--load: cannot derive an image: %s: %s", glint_strerror(err), glint_errmsg());
        status = CLI_LOAD;
    }
    glint_sandbox_destroy(j.sb);
    if (status == CLI_OK) {
        glint_image_destroy(*img);
        *img = derived;
    }
    return status;
}

/* Create the one sandbox and confine the process to it: from here on it
 * only runs that sandbox and prints (guest init already ran on a confined
 * helper thread, see confine_init). */
static int open_sandbox(const struct run_cmd *cmd, glint_image *img, glint_sandbox **sb)
{
    int err = glint_sandbox_create(img, NULL, sb);
    if (err != 0) {
        report_load_error("cannot create a sandbox for", cmd->path, err);
        return cli_load_status(err);
    }
    if (!cmd->no_confine && glint_confine_thread_to_sandboxes(sb, 1) != 0) {
        cli_error("cannot confine the process with seccomp: %s", glint_errmsg());
        return CLI_LOAD;
    }
    return CLI_OK;
}

static int print_result(const struct run_cmd *cmd, glint_type declared, const glint_value *ret);

/* Make the call cmd->repeat times, each from the pristine image state
 * (timings reported when repeating); *ret holds the last result. With
 * --load every call's result is printed (*printed set), each on its line. */
static int call_repeatedly(const struct run_cmd *cmd, glint_sandbox *sb, const glint_value *args,
                           glint_type declared, glint_value *ret, bool *printed)
{
    double *us = cmd->repeat > 1 ? calloc(cmd->repeat, sizeof *us) : NULL;
    if (cmd->repeat > 1 && !us) {
        cli_error("run: out of memory for %u timings", cmd->repeat);
        return CLI_LOAD;
    }
    int err = 0;
    for (uint32_t n = 0; n < cmd->repeat; n++) {
        double t0 = cli_now_us();
        err = glint_sandbox_call(sb, cmd->func, args, cmd->argc, ret);
        if (err == 0 && cmd->load_path && cmd->repeat > 1) {
            double t1 = cli_now_us(); /* printing is not part of the latency */
            int status = print_result(cmd, declared, ret);
            if (status != CLI_OK) {
                free(us);
                return status;
            }
            *printed = true;
            t0 += cli_now_us() - t1;
        }
        if (err != 0 || cmd->repeat == 1)
            break;
        /* Isolation: the next call starts from the pristine image state. */
        if (glint_sandbox_restore(sb, NULL) != 0) {
            cli_error("restoring the sandbox failed: %s", glint_errmsg());
            free(us);
            return CLI_GUEST;
        }
        us[n] = cli_now_us() - t0;
    }
    if (err == 0 && us)
        cli_report_timings(cmd->func, us, cmd->repeat);
    free(us);
    return err != 0 ? call_failed(cmd, sb, err) : CLI_OK;
}

/* Print a result of the declared type. */
static int print_result(const struct run_cmd *cmd, glint_type declared, const glint_value *ret)
{
    if (ret->type != declared) {
        cli_error("%s returned %s, but its declared return type is %s", cmd->func,
                  glint_type_name(ret->type), glint_type_name(declared));
        return CLI_GUEST;
    }
    if (cli_print_value(ret) != 0) {
        int status = cli_finish_stdout();
        if (status == CLI_OK) { /* the error was not sticky; report it anyway */
            cli_error("cannot write to stdout");
            status = CLI_GUEST;
        }
        return status;
    }
    return CLI_OK;
}

/* Load the image, create a sandbox, make the call and print the result. */
static int execute(const struct run_cmd *cmd, const glint_function_info *checked,
                   const glint_value *args)
{
    glint_image *img = NULL;
    glint_sandbox *sb = NULL;
    glint_value ret;
    memset(&ret, 0, sizeof ret);
    int status;
    bool printed = false;
    if ((status = cli_run_load_image(cmd, checked, &img)) == CLI_OK &&
        (!cmd->load_path || (status = cli_run_load_and_derive(cmd, &img)) == CLI_OK) &&
        (status = open_sandbox(cmd, img, &sb)) == CLI_OK &&
        (status = call_repeatedly(cmd, sb, args, checked->ret, &ret, &printed)) == CLI_OK &&
        !printed)
        status = print_result(cmd, checked->ret, &ret);
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    return status;
}

int cli_run(int argc, char **argv)
{
    struct run_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    /* Decide now: isatty() is an ioctl, which the seccomp confinement denies. */
    (void)cli_stdout_escapes();
    int status = cli_run_parse(argc, argv, &cmd);
    if (status < 0)
        return CLI_OK; /* help was printed */
    if (status != CLI_OK)
        return status;

    glint_exports *ex = NULL;
    glint_function_info fi;
    glint_value args[GLINT_MAX_PARAMS];
    void *storage[GLINT_MAX_PARAMS] = {0};
    status = check_call(&cmd, &ex, &fi, args, storage);
    if (status == CLI_OK)
        status = execute(&cmd, &fi, args);
    for (size_t k = 0; k < GLINT_MAX_PARAMS; k++)
        free(storage[k]);
    free(cmd.load_text);
    glint_exports_destroy(ex);
    return status;
}
