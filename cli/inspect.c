/* `glint inspect`: list the functions a guest ELF or image file exports, without running it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "glint.h"
#include "report.h"

static int print_function(const glint_function_info *fi)
{
    if (printf("%s(", fi->name) < 0)
        return -1;
    for (size_t k = 0; k < fi->nparams; k++) {
        if (printf("%s%s", k ? ", " : "", glint_type_name(fi->params[k])) < 0)
            return -1;
    }
    return printf(") -> %s\n", glint_type_name(fi->ret)) < 0 ? -1 : 0;
}

/* An image file's header facts and the host functions it expects, before its exports. */
static int print_image_facts(const glint_image_file_info *in, const glint_exports *fns)
{
    char h[32], s[32], i[32], o[32], m[32];
    cli_size_text(in->heap_size, h, sizeof h);
    cli_size_text(in->stack_size, s, sizeof s);
    cli_size_text(in->input_size, i, sizeof i);
    cli_size_text(in->output_size, o, sizeof o);
    cli_size_text(in->mem_size, m, sizeof m);
    if (printf("image file: format %u, glint ABI %u, written by %s, %llu bytes\n",
               in->format_version, in->abi_version, in->library,
               (unsigned long long)in->file_size) < 0 ||
        printf("memory: %s, %u non-zero pages stored; heap %s, stack %s, input %s, output %s\n", m,
               in->pages, h, s, i, o) < 0 ||
        printf("defaults: timeout %u ms, budget %llu\n", in->timeout_ms,
               (unsigned long long)in->budget) < 0 ||
        printf("vcpu: %u bytes of FPU state, XSAVE features 0x%llx\n", in->fp_size,
               (unsigned long long)in->fp_xcr0) < 0)
        return -1;
    size_t n = glint_exports_count(fns);
    if (n == 0)
        return printf("host functions expected: none beyond print\n") < 0 ? -1 : 0;
    for (size_t k = 0; k < n; k++) {
        glint_function_info fi;
        if (glint_exports_get(fns, k, &fi) != 0 || printf("host function expected: ") < 0 ||
            print_function(&fi) != 0)
            return -1;
    }
    return 0;
}

int cli_inspect(int argc, char **argv)
{
    char q[CLI_QUOTE_SHORT], pq[CLI_QUOTE_PATH];
    const char *path = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == 0)
            break;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
            return cli_help("inspect");
        cli_error("inspect: unknown option '%s' (see 'glint inspect --help')",
                  cli_quote(arg, q, sizeof q));
        return CLI_USAGE;
    }
    if (i >= argc) {
        cli_error("inspect: missing GUEST.elf operand (see 'glint inspect --help')");
        return CLI_USAGE;
    }
    path = argv[i++];
    if (i < argc) {
        cli_error("inspect: unexpected operand '%s' (inspect takes one GUEST.elf)",
                  cli_quote(argv[i], q, sizeof q));
        return CLI_USAGE;
    }

    glint_image_file_info info;
    glint_exports *ex = NULL, *fns = NULL;
    int err = glint_image_file_info_read(path, &info, &fns);
    if (err == 0)
        err = glint_exports_read_file(path, &ex);
    if (err != 0) {
        const char *detail = glint_errmsg();
        cli_error("cannot load %s: %s%s%s", cli_quote(path, pq, sizeof pq), glint_strerror(err),
                  detail[0] ? ": " : "", detail);
        glint_exports_destroy(fns);
        return cli_load_status(err);
    }
    int status = CLI_OK;
    if (info.format_version != 0 && print_image_facts(&info, fns) != 0)
        status = CLI_OK; /* a write error: reported by cli_finish_stdout() */
    glint_exports_destroy(fns);
    size_t n = glint_exports_count(ex);
    for (size_t k = 0; k < n; k++) {
        glint_function_info fi;
        err = glint_exports_get(ex, k, &fi);
        if (err != 0) {
            cli_error("cannot read export %zu of %s: %s", k, cli_quote(path, pq, sizeof pq),
                      glint_strerror(err));
            status = CLI_LOAD;
            break;
        }
        if (print_function(&fi) != 0)
            break; /* reported by cli_finish_stdout() */
    }
    glint_exports_destroy(ex);
    int out = cli_finish_stdout();
    return status != CLI_OK ? status : out;
}
