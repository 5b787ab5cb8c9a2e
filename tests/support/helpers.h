/* Shared helpers for the VM tests: KVM check, guest paths and loading, host functions, capture. */
#ifndef GLINT_TESTS_VM_HELPERS_H
#define GLINT_TESTS_VM_HELPERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "glint.h"

/* Skip the current test loudly if /dev/kvm cannot be opened read-write, or fail it if
 * GLINT_REQUIRE_KVM=1. Call first in every test that runs a VM. */
void vm_require_kvm(void);

/* Path of NAME.elf: test guests (tests/guests) from $GLINT_TEST_GUESTS, example guests from
 * $GLINT_GUESTS (defaults build/tests/guests and build/guests). */
void vm_test_guest_path(char *buf, size_t n, const char *name);
void vm_example_guest_path(char *buf, size_t n, const char *name);

/* Load a test guest (or an example guest); asserts success. cfg and fns may be NULL. */
glint_image *vm_load_test(const char *name, const glint_config *cfg, const glint_host_fns *fns);
glint_image *vm_load_example(const char *name, const glint_config *cfg, const glint_host_fns *fns);

/* New sandbox from img (fns NULL: the image's); asserts success. */
glint_sandbox *vm_sandbox(glint_image *img, const glint_host_fns *fns);

/* Require KVM (vm_require_kvm), load the test guest `name` (cfg and fns may be NULL) and create
 * one sandbox of it with the image's host functions; asserts success. */
void vm_open(const char *name, const glint_config *cfg, const glint_host_fns *fns,
             glint_image **img, glint_sandbox **sb);

/* Destroy *sb and *img (either may be NULL) and set both to NULL. */
void vm_close(glint_image **img, glint_sandbox **sb);

/* Call fn and assert that it succeeded (naming fn, the error and the failure message); returns
 * the result, for the test to assert on. */
glint_value vm_call_ok(glint_sandbox *sb, const char *fn, const glint_value *args, size_t nargs);

/* Read a whole file into malloc'd memory; asserts success. */
void *vm_read_file(const char *path, size_t *len);

/* Monotonic clock in milliseconds. */
double vm_now_ms(void);

/* True if haystack contains needle. */
bool vm_contains(const char *haystack, const char *needle);

/* Guest print output collected by vm_capture_print. */
struct vm_capture {
    pthread_mutex_t lock;
    char text[1 << 16];
    size_t len;    /* bytes kept in text (text stays NUL-terminated) */
    size_t total;  /* bytes received */
    size_t prints; /* number of print calls */
};

void vm_capture_init(struct vm_capture *cap);
void vm_capture_print(void *user, const char *text, size_t len);

/*
 * A registry with the test host functions, print captured into cap (NULL: discarded):
 *   HostAdd(i64, i64) -> i64     a + b (wrapping)
 *   HostSub(i64, i64) -> i64     a - b
 *   HostFail(i64, i64) -> i64    returns error code -3
 *   HostUpper(string) -> string  upper-cased copy (malloc'd, GLINT_VALUE_FREE)
 * Asserts success; destroy with glint_host_fns_destroy.
 */
glint_host_fns *vm_host_fns(struct vm_capture *cap);

/* A registry with the one host function name(i64, i64) -> i64 calling fn with user; asserts
 * success. Destroy with glint_host_fns_destroy. */
glint_host_fns *vm_host_fns_one(const char *name, glint_host_fn fn, void *user);

/* A watchdog for calls that may hang (a hang cannot be asserted on): if vm_watchdog_stop() is
 * not called within `ms`, print what hung to stderr and _exit(99), which Criterion reports as a
 * crash of the test. One at a time. */
void vm_watchdog_start(double ms, const char *what);
void vm_watchdog_stop(void);

/* The outcome of a budget is a function of the script: for each budget from `from` to `to`
 * by `step`, three calls of Eval(src), each in sb restored, agree (success giving `want`, or
 * GLINT_EBUDGET), and no budget fails above one that passed. Returns the first budget that
 * passed (0: none). */
uint64_t vm_budget_threshold(glint_sandbox *sb, const char *src, const char *want, uint64_t from,
                             uint64_t to, uint64_t step);

/* Hot mode on s (max_spin_us 0: the default window), asserted active; skips the test loudly
 * where admission refuses it (a host without a CPU to spare). */
void vm_go_hot(glint_sandbox *s, uint32_t max_spin_us);

/* Busy-loop iterations of the types guest's SpinLoops per millisecond (measured once). */
double vm_spin_loops_per_ms(glint_sandbox *types_sb);

/* Assert that rc is `err` and that the sandbox's last failure has `kind`; returns the failure. */
glint_failure vm_expect_failure(glint_sandbox *sb, int rc, int err, glint_failure_kind kind);

#endif
