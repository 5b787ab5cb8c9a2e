/* VM test helper: assert that a sandbox's code and system pages are exactly as its image has them.
 */
#ifndef GLINT_TESTS_VM_INTEGRITY_H
#define GLINT_TESTS_VM_INTEGRITY_H

#include "glint.h"

/*
 * Compare the sandbox's guest memory with its image's: every page the guest and CPU can never
 * write (code, read-only data, GDT, IDT, TSS, exception stubs, boot page) must be
 * byte-identical, and every page-table entry identical but for its accessed and dirty bits
 * (which the CPU sets). Fails the test naming the first differing page and byte, with `who`.
 */
void vm_expect_system_pages_intact(const glint_sandbox *sb, const char *who);

/* Guest address of the first byte where the sandbox's memory differs from its image's in
 * [addr, addr + len), or UINT64_MAX if none. */
uint64_t vm_first_difference(const glint_sandbox *sb, uint64_t addr, uint64_t len);

#endif
