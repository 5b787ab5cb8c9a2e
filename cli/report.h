/* Output of the glint command-line tool: one-line error reports, results, exit statuses. */
#ifndef GLINT_CLI_REPORT_H
#define GLINT_CLI_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "glint.h"

/* Longest error line after "glint: ", in bytes (longer ones are cut with "..."). */
#define CLI_ERROR_MAX 300

/* Buffer sizes for cli_quote(): short values (arguments, names) and paths. */
#define CLI_QUOTE_SHORT 48
#define CLI_QUOTE_PATH  128

/* Print "glint: <message>" as exactly one line on stderr. Control characters, line
 * breaks and bytes that are not UTF-8 in the message become spaces (always, tty or
 * not); it is cut to CLI_ERROR_MAX bytes. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy s into buf (size bytes; at least 4), cut at a character boundary and ended
 * with "..." if it does not fit, for quoting user input in messages. Returns buf. */
const char *cli_quote(const char *s, char *buf, size_t size);

/* Format a byte count as "128K", "1M", "1G" or plain bytes into buf. Returns buf. */
const char *cli_size_text(uint64_t v, char *buf, size_t size);

/* Print a call result on stdout followed by a newline (nothing for void). A
 * string is written as cli_write_text() does (escaped on a terminal).
 * Returns 0, or -1 if a write failed. */
int cli_print_value(const glint_value *v);

/* Flush stdout; on a write error report it and return CLI_GUEST, else CLI_OK. */
int cli_finish_stdout(void);

/* Exit status for an error from loading a guest (exports, image or sandbox). */
int cli_load_status(int err);

/* Exit status for an error from glint_sandbox_call(). */
int cli_call_status(int err, const glint_failure *f);

/* Monotonic time in microseconds. */
double cli_now_us(void);

/* One stderr line: "glint: N isolated calls of F (call + restore): min/median/p99 us". Sorts us. */
void cli_report_timings(const char *func, double *us, uint32_t n);

/* --hot with --repeat: the latency of the calls alone (us sorted in place)
 * and the sandbox's hot-mode counters, on stderr. */
void cli_report_hot_timings(const char *func, double *us, uint32_t n, const glint_hot_status *st);

#endif
