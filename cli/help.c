/* Help texts of the glint command-line tool. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "glint.h"
#include "report.h"
#include "serve.h"

static const char exit_statuses[] =
    "Exit status:\n"
    "  0  success\n"
    "  1  the guest failed: it returned an error, aborted, faulted, timed out or broke\n"
    "     the call protocol, or its init failed while loading; also when stdout cannot\n"
    "     be written\n"
    "  2  usage error: unknown command or option, missing operand, bad option value,\n"
    "     unknown function, or arguments that do not fit the function's signature\n"
    "  3  the guest could not be loaded (unreadable file, malformed ELF, ABI mismatch,\n"
    "     out of memory) or KVM is unavailable\n"
    "Errors are reported as one line on stderr starting with \"glint: \".\n";

static const char main_help[] =
    "Usage: glint COMMAND [ARGS...]\n"
    "\n"
    "Run functions of a guest ELF in a hardware-isolated KVM micro-VM.\n"
    "\n"
    "Commands:\n"
    "  run [OPTIONS] GUEST.elf FUNCTION [ARG...]\n"
    "                        call FUNCTION in a new sandbox and print its result\n"
    "  inspect GUEST.elf     list the functions GUEST.elf exports (no KVM needed)\n"
    "  image build [OPTIONS] GUEST.elf -o FILE.gimg\n"
    "                        initialise GUEST.elf once (and --load a script) and write\n"
    "                        an image file that run, inspect and programs load fast\n"
    "  info                  show what this host's KVM offers (MSR filter, dirty tracking...)\n"
    "  serve --guest GUEST.elf | --image FILE | --config FILE [OPTIONS]\n"
    "                        serve the guest's functions over HTTP (docs/serve.md)\n"
    "  serve --forward nats://HOST:PORT [OPTIONS]\n"
    "                        an HTTP gateway to glint workers on NATS (docs/gateway.md)\n"
    "  call --nats URL NAME JSON_ARRAY [--timeout-ms N] [--jetstream]\n"
    "                        call NAME on glint workers over NATS (docs/gateway.md)\n"
    "  help [COMMAND]        show this help, or the help of COMMAND\n"
    "\n"
    "Options:\n"
    "  -h, --help            show this help ('glint COMMAND --help' for a command)\n"
    "  --version             show the version\n"
    "\n";

static const char run_help_head[] =
    "Usage: glint run [OPTIONS] [--] GUEST.elf FUNCTION [ARG...]\n"
    "\n"
    "Load GUEST.elf, call FUNCTION in a new sandbox with the ARGs converted to its\n"
    "parameter types, and print the result and a newline on stdout (a void result\n"
    "or an empty string prints nothing). Text the guest prints also goes to stdout.\n"
    "\n"
    "Guest text (string results and what the guest prints) is written as exact\n"
    "bytes into a pipe or file. On a terminal, control characters other than\n"
    "newline and tab (C0, DEL, C1) and bytes that are not valid UTF-8 are shown\n"
    "as \\xNN so that a guest cannot drive the terminal; valid UTF-8 is kept.\n"
    "\n"
    "Options (before GUEST.elf; '--' ends them; '--opt=VALUE' also works):\n";

static const char run_help_tail[] =
    "  -h, --help            show this help\n"
    "SIZE is a number of bytes, optionally followed by K, M or G (e.g. 128K, 1M);\n"
    "sizes are rounded up to 4K, then checked against the range (so --heap 1 means\n"
    "4K, while --stack 4K is a usage error).\n"
    "\n"
    "ARG by parameter type:\n"
    "  i32 u32 i64 u64       decimal, or hex with 0x; unsigned types take no '-'\n"
    "  f32 f64               a C floating-point number (e.g. 1.5, -2e10, 0x1p4, inf)\n"
    "  bool                  true, false, 1 or 0\n"
    "  string                used as given (must be valid UTF-8)\n"
    "  bytes                 hex, two digits per byte (e.g. deadbeef; '' is empty)\n"
    "\n"
    "Results print as: string as is (escaped on a terminal, see above), bytes as\n"
    "lowercase hex, integers in decimal, bool as true/false, f32 with 9 and f64\n"
    "with 17 significant digits.\n"
    "Use 'glint inspect GUEST.elf' to see the functions and their signatures.\n"
    "\n";

static const char inspect_help[] = "Usage: glint inspect [--] GUEST.elf\n"
                                   "\n"
                                   "Print one line per function that GUEST.elf exports, e.g.\n"
                                   "  Add(i32, i32) -> i32\n"
                                   "For an image file (glint image build) first its header\n"
                                   "facts: versions, sizes, pages stored, vCPU state format and\n"
                                   "the host functions it expects.\n"
                                   "The guest is not run, so KVM is not needed.\n"
                                   "\n"
                                   "Options:\n"
                                   "  -h, --help            show this help\n"
                                   "\n";

static const char image_help[] =
    "Usage: glint image build GUEST.elf [OPTIONS] -o FILE.gimg\n"
    "\n"
    "Load GUEST.elf, run its initialisation once (and, with --load FILE, its\n"
    "Load(string) export with FILE's text), and write the resulting image to\n"
    "FILE.gimg: its layout, exports, expected host functions, non-zero memory\n"
    "pages and vCPU state, checksummed (docs/images.md). The file is written to a\n"
    "temporary file beside FILE.gimg and renamed over it. 'glint run', 'glint\n"
    "inspect' and glint_image_load_file() accept it wherever they take a GUEST.elf,\n"
    "and start from it without parsing the ELF or running guest code. The file\n"
    "only loads on hosts with the same glint ABI and the same CPU vector-state\n"
    "(XSAVE) format as the one that built it.\n"
    "\n"
    "Options (before or after GUEST.elf):\n"
    "  -o, --output FILE     the image file to write (required)\n"
    "  --load FILE           call Load(FILE's text) once before saving (lua.elf, js.elf)\n"
    "  --heap, --stack, --input-size, --output-size, --max-image-memory SIZE\n"
    "  --timeout-ms N, --budget N\n"
    "                        as for 'glint run' (see 'glint run --help'); the sizes are\n"
    "                        fixed in the file, timeout and budget are its defaults\n"
    "  --no-confine          do not confine guest initialisation and Load with seccomp\n"
    "  -h, --help            show this help\n"
    "\n";

static const char info_help[] = "Usage: glint info\n"
                                "\n"
                                "Show whether KVM is usable and which isolation features glint\n"
                                "gets from it. Exits 3 if KVM is unavailable.\n";

static const char call_help[] =
    "Usage: glint call --nats URL [OPTIONS] [--] NAME JSON_ARRAY\n"
    "\n"
    "Send one call of function NAME with the arguments JSON_ARRAY (a JSON array, as the\n"
    "HTTP API's request body) to the glint workers listening on the NATS server at URL\n"
    "(glint serve --nats), and print the answer on stdout as the worker gave it:\n"
    "{\"result\": ...} or {\"error\": {\"kind\", \"message\"}} (see docs/gateway.md).\n"
    "\n"
    "Options:\n"
    "  --nats URL            nats://[USER[:PASS]@]HOST[:PORT] (required), or several\n"
    "                        servers of one cluster separated by ','\n"
    "  --timeout-ms N        wait at most N ms for the answer (1..3600000; default 5000)\n"
    "  --jetstream           send a JetStream job (stream GLINT, subject glint.jobs.NAME)\n"
    "                        instead of a core request on glint.fn.NAME: the job waits in\n"
    "                        the stream until a worker takes it, and a job whose worker\n"
    "                        died is delivered again; the first result is printed\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit status:\n"
    "  0  the call returned a result\n"
    "  1  the guest failed (error, abort, fault, budget, protocol; 422), or no answer came\n"
    "     in time (the worker's timeout, 504, or --timeout-ms)\n"
    "  2  usage error: bad option, URL, NAME or JSON_ARRAY, or the worker refused the\n"
    "     arguments or knows no such function (400, 404)\n"
    "  3  the call could not be made: NATS unreachable, no worker or stream for NAME (503),\n"
    "     workers overloaded (429), or a worker or NATS failure (500, 502)\n"
    "Errors are reported as one line on stderr starting with \"glint: \".\n";

static const char help_help[] =
    "Usage: glint help [COMMAND]\n"
    "\n"
    "Show the help of glint, or of COMMAND (run, inspect, image, info, serve, call, help).\n";

/* "4K..256M" */
static const char *range_text(uint64_t lo, uint64_t hi, char *buf, size_t size)
{
    char a[20], b[20];
    snprintf(buf, size, "%s..%s", cli_size_text(lo, a, sizeof a), cli_size_text(hi, b, sizeof b));
    return buf;
}

static void print_run_help(void)
{
    glint_config cfg;
    char heap[32], stack[32], in[32], out[32], img[32];
    char r1[48], r2[48], r3[48], r4[48], r5[48];
    glint_config_init(&cfg);
    cli_size_text(cfg.max_image_memory, img, sizeof img);
    /* glint_config_init leaves the sizes 0: the guest's declared default,
     * else glint's (these). */
    cli_size_text(128 << 10, heap, sizeof heap);
    cli_size_text(64 << 10, stack, sizeof stack);
    cli_size_text(16 << 10, in, sizeof in);
    cli_size_text(16 << 10, out, sizeof out);
    fputs(run_help_head, stdout);
    printf("  --timeout-ms N        time limit in ms for the call and for the guest's init\n"
           "                        (default %" PRIu32 "; 0 = none)\n",
           cfg.timeout_ms);
    printf("  --budget N            instruction budget of the call (default 0 = none): the\n"
           "                        call fails (exit 1) once the guest has run N of its\n"
           "                        instructions (Lua and JS: VM instructions, checked\n"
           "                        every %d); only for guests that enforce one\n"
           "                        (lua.elf, js.elf)\n",
           GLINT_BUDGET_STEP);
    printf("Sizes default to what the guest declares (lua.elf: heap 16M, stack 256K,\n"
           "input 64K), else to glint's defaults shown here:\n");
    printf("  --heap SIZE           guest heap (default %s; %s)\n", heap,
           range_text(GLINT_HEAP_SIZE_MIN, GLINT_HEAP_SIZE_MAX, r1, sizeof r1));
    printf("  --stack SIZE          guest stack (default %s; %s)\n", stack,
           range_text(GLINT_STACK_SIZE_MIN, GLINT_STACK_SIZE_MAX, r2, sizeof r2));
    printf("  --input-size SIZE     buffer for the arguments (default %s; %s)\n", in,
           range_text(GLINT_BUFFER_SIZE_MIN, GLINT_BUFFER_SIZE_MAX, r3, sizeof r3));
    printf("  --output-size SIZE    buffer for the result (default %s; %s)\n", out,
           range_text(GLINT_BUFFER_SIZE_MIN, GLINT_BUFFER_SIZE_MAX, r4, sizeof r4));
    printf("  --max-image-memory SIZE\n"
           "                        most memory the guest ELF's own segments (code, data,\n"
           "                        .bss) may span; a larger guest is refused (exit 2)\n"
           "                        (default %s; %s)\n",
           img, range_text(GLINT_IMAGE_MEMORY_MIN, GLINT_IMAGE_MEMORY_MAX, r5, sizeof r5));
    printf("  --no-confine          do not confine the process with seccomp before the call\n"
           "                        (by default only KVM requests, memory management and\n"
           "                        writes are allowed once the sandbox exists)\n");
    printf("  --repeat N            make N calls, restoring the sandbox to its pristine image\n"
           "                        state after each; print the last result and, on stderr,\n"
           "                        the call + restore latency (min/median/p99)\n");
    printf("  --hot                 hot mode: the guest waits inside the hypervisor and calls\n"
           "                        go through shared memory, without VM exits (it spins a\n"
           "                        CPU while it waits); with --repeat, also the latency of\n"
           "                        the calls alone (min/median/p99)\n");
    printf("  --load FILE           first call the guest's Load(string) -> void export once\n"
           "                        with FILE's text (a regular UTF-8 file that fits the\n"
           "                        input buffer), then make the call in a sandbox of an\n"
           "                        image derived from that state; with --repeat every call\n"
           "                        starts from it and each result prints on its own line\n");
    fputs(run_help_tail, stdout);
    fputs(exit_statuses, stdout);
}

int cli_help(const char *topic)
{
    if (topic == NULL) {
        fputs(main_help, stdout);
        fputs(exit_statuses, stdout);
    } else if (strcmp(topic, "run") == 0) {
        print_run_help();
    } else if (strcmp(topic, "image") == 0) {
        fputs(image_help, stdout);
        fputs(exit_statuses, stdout);
    } else if (strcmp(topic, "info") == 0) {
        fputs(info_help, stdout);
        fputs(exit_statuses, stdout);
    } else if (strcmp(topic, "inspect") == 0) {
        fputs(inspect_help, stdout);
        fputs(exit_statuses, stdout);
    } else if (strcmp(topic, "serve") == 0) {
        fputs(serve_help_text, stdout);
        fputs(exit_statuses, stdout);
    } else if (strcmp(topic, "call") == 0) {
        fputs(call_help, stdout);
    } else if (strcmp(topic, "help") == 0) {
        fputs(help_help, stdout);
    } else {
        char q[CLI_QUOTE_SHORT];
        cli_error(
            "help: unknown command '%s' (commands: run, inspect, image, info, serve, call, help)",
            cli_quote(topic, q, sizeof q));
        return CLI_USAGE;
    }
    return cli_finish_stdout();
}
