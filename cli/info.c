/* `glint info`: what this host's KVM offers glint (isolation and hygiene features). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "glint.h"
#include "report.h"

static const char *yes(bool b)
{
    return b ? "yes" : "NO";
}

int cli_info(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
            return cli_help("info");
        char q[CLI_QUOTE_SHORT];
        cli_error("info: unexpected operand '%s' (usage: glint info)",
                  cli_quote(argv[1], q, sizeof q));
        return CLI_USAGE;
    }
    glint_host_info hi = {.struct_size = sizeof hi};
    int err = glint_host_info_get(&hi);
    if (err) {
        cli_error("KVM is not available: %s", glint_errmsg());
        return CLI_LOAD;
    }
    printf("glint %s\n", GLINT_VERSION_STRING);
    printf("kvm:            yes (/dev/kvm)\n");
    printf("msr filter:     %s (deny-all KVM_X86_SET_MSR_FILTER on every VM)\n",
           yes(hi.msr_filter));
    printf("dirty tracking: %s (restore copies only pages the guest wrote)\n",
           yes(hi.dirty_tracking));
    printf("sync regs:      %s (restore loads registers without extra ioctls)\n",
           yes(hi.sync_regs));
    printf("xsave:          %s (%u-byte FPU/SSE/AVX state saved and restored)\n", yes(hi.xsave),
           hi.xsave_bytes);
    return cli_finish_stdout();
}
