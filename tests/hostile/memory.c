/* Hostile rows: reads, writes and jumps to system pages, guards and far addresses; stack; heap. */
#include "hostile.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define HOSTILE_FAMILY memory

TestSuite(hostile_memory, .fini = hostile_fini, .timeout = 60);

/* ---- the table ---------------------------------------------------------------------------- */

/* Memory: system pages, guards, beyond the slot, host-looking addresses. */
#define PF_AT(id_, fn_, addr_, what_)                                                              \
    ROW(id_, .fn = fn_, A_U64(addr_), .what = what_, .want = FAULT_(V(14)), .check_addr = true,    \
        .addr = (addr_))
PF_AT(read_null_guard_faults_at_the_address, "ReadAt", 0x8000, "read inside the 64 KiB null guard")
PF_AT(read_gdt_faults_at_the_address, "ReadAt", GLINT_ABI_GDT_ADDR, "read the GDT (supervisor)")
PF_AT(read_idt_faults_at_the_address, "ReadAt", GLINT_ABI_IDT_ADDR, "read the IDT (supervisor)")
PF_AT(read_tss_faults_at_the_address, "ReadAt", GLINT_ABI_TSS_ADDR, "read the TSS (supervisor)")
PF_AT(read_stubs_faults_at_the_address, "ReadAt", GLINT_ABI_STUBS_ADDR,
      "read the exception stubs (supervisor)")
PF_AT(read_guard_15000_faults_at_the_address, "ReadAt", 0x15000,
      "read the guard below the exception stack")
PF_AT(read_exception_stack_faults_at_the_address, "ReadAt", GLINT_ABI_XSTACK_ADDR + 0x1ff8,
      "read the exception stack (supervisor)")
PF_AT(read_guard_18000_faults_at_the_address, "ReadAt", 0x18000,
      "read the guard above the exception stack")
PF_AT(read_page_tables_faults_at_the_address, "ReadAt", GLINT_ABI_PT_ADDR,
      "read the PML4 (never mapped)")
PF_AT(read_1gib_faults_at_the_address, "ReadAt", 0x40000000, "read at 1 GiB (beyond every mapping)")
PF_AT(read_host_like_faults_at_the_address, "ReadAt", 0x7ffff7dd0000ull,
      "read a host user-space-looking address")
PF_AT(read_kernel_like_faults_at_the_address, "ReadAt", 0xffffffff81000000ull,
      "read a kernel-looking address")
PF_AT(write_boot_page_faults_at_the_address, "WriteAt", GLINT_ABI_BOOT_ADDR,
      "write the boot page (user read-only)")
PF_AT(write_gdt_faults_at_the_address, "WriteAt", GLINT_ABI_GDT_ADDR, "write the GDT")
PF_AT(write_idt_faults_at_the_address, "WriteAt", GLINT_ABI_IDT_ADDR + 14 * 16,
      "write the #PF gate of the IDT")
PF_AT(write_tss_rsp0_faults_at_the_address, "WriteAt", GLINT_ABI_TSS_ADDR + 4,
      "write RSP0 in the TSS")
PF_AT(write_io_bitmap_faults_at_the_address, "WriteAt", GLINT_ABI_TSS_ADDR + 104 + 0x10,
      "write the TSS I/O permission bitmap")
PF_AT(write_stubs_faults_at_the_address, "WriteAt", GLINT_ABI_STUBS_ADDR,
      "write the exception stubs")
PF_AT(write_exception_stack_faults_at_the_address, "WriteAt", GLINT_ABI_XSTACK_ADDR,
      "write the exception stack")
PF_AT(write_exception_stack_top_faults_at_the_address, "WriteAt",
      GLINT_ABI_XSTACK_ADDR + GLINT_ABI_XSTACK_SIZE - 8,
      "write the top of the exception stack (the next frame)")
PF_AT(write_pml4_faults_at_the_address, "WriteAt", GLINT_ABI_PT_ADDR, "write the PML4")
PF_AT(write_page_table_leaf_faults_at_the_address, "WriteAt",
      GLINT_ABI_PT_ADDR + 3 * 0x1000 + 0x200 * 8,
      "write a leaf page-table entry (the one mapping the image)")
PF_AT(write_host_like_faults_at_the_address, "WriteAt", 0x7ffff7dd0000ull,
      "write a host user-space-looking address")
PF_AT(jump_null_faults_at_the_address, "JumpTo", 0, "jump to 0")
PF_AT(jump_guard_15000_faults_at_the_address, "JumpTo", 0x15000, "jump to an unmapped guard page")
PF_AT(jump_stubs_faults_at_the_address, "JumpTo", GLINT_ABI_STUBS_ADDR + 14 * 16,
      "jump into the #PF stub (CPL0 code)")
PF_AT(call_gp_stub_faults_at_the_address, "CallTo", GLINT_ABI_STUBS_ADDR + 13 * 16,
      "call the #GP stub (CPL0 code)")
PF_AT(jump_exception_stack_faults_at_the_address, "JumpTo", GLINT_ABI_XSTACK_ADDR,
      "jump into the exception stack")
PF_AT(jump_page_tables_faults_at_the_address, "JumpTo", GLINT_ABI_PT_ADDR,
      "jump into the page tables")
PF_AT(jump_host_like_faults_at_the_address, "JumpTo", 0x7ffff7dd0000ull,
      "jump to a host-looking address")
PF_AT(jump_kernel_like_faults_at_the_address, "JumpTo", 0xffffffff81000000ull,
      "jump to a kernel-looking address")
ROW(read_non_canonical_faults, .fn = "ReadAt", A_U64(0x0000800000000000ull),
    .what = "read a non-canonical address", .want = FAULT_(V(13)))
ROW(write_non_canonical_faults, .fn = "WriteAt", A_U64(0xdead00000000beefull),
    .what = "write a non-canonical address", .want = FAULT_(V(13)))
ROW(jump_non_canonical_faults, .fn = "JumpTo", A_U64(0x0000800000000000ull),
    .what = "jump to a non-canonical address", .want = FAULT_(V(13)))
ROW(read_past_the_end_of_memory_faults, .fn = "ReadMemoryEnd",
    .what = "read just past guest memory", .want = FAULT_(V(14)))
ROW(write_past_the_end_of_memory_faults, .fn = "WriteMemoryEnd",
    .what = "write just past guest memory", .want = FAULT_(V(14)))
ROW(write_stack_guard_faults, .fn = "WriteStackGuard", .what = "write the stack guard page",
    .want = FAULT_(V(14)))
ROW(write_to_code_faults_and_code_is_unchanged, .fn = "WriteOwnCode", .what = "write into .text",
    .want = FAULT_(V(14)))
ROW(write_to_rodata_faults_and_rodata_is_unchanged, .fn = "WriteRodata",
    .what = "write into .rodata", .want = FAULT_(V(14)))
ROW(write_to_the_export_table_faults_and_it_is_unchanged, .fn = "WriteExportTable",
    .what = "rewrite the export table", .want = FAULT_(V(14)))
ROW(self_modifying_code_faults_and_code_is_unchanged, .fn = "SelfModify",
    .what = "patch own code then run it", .want = FAULT_(V(14)))
ROW(executing_data_faults, .fn = "JumpIntoData", .what = "execute .data", .want = FAULT_(V(14)))
ROW(executing_the_input_buffer_faults, .fn = "JumpIntoInputBuffer",
    .what = "execute the input buffer", .want = FAULT_(V(14)))
ROW(executing_the_boot_page_faults, .fn = "JumpIntoBootPage", .what = "execute the boot page",
    .want = FAULT_(V(14)))
ROW(executing_the_heap_faults, .fn = "JumpIntoHeap", .what = "execute the heap",
    .want = FAULT_(V(14)))
ROW(return_to_non_canonical_faults, .fn = "ReturnToNonCanonical",
    .what = "ret to a non-canonical address", .want = FAULT_(V(13)))

/* Stack and exception path: faults with a hostile rsp are still delivered (IST1). */
ROW(push_into_the_stack_guard_faults, .fn = "RspIntoGuardPush",
    .what = "push with rsp at the stack guard", .want = FAULT_(V(14)))
ROW(push_into_the_exception_stack_faults_at_the_address, .fn = "RspExceptionStackPush",
    .what = "push with rsp in the exception stack", .want = FAULT_(V(14)), .check_addr = true,
    .addr = GLINT_ABI_XSTACK_ADDR + GLINT_ABI_XSTACK_SIZE - 8)
ROW(push_with_a_non_canonical_rsp_faults, .fn = "RspNonCanonicalPush",
    .what = "push with a non-canonical rsp", .want = FAULT_(V(12)))
ROW(fault_with_rsp_in_a_guard_is_still_delivered, .fn = "RspUnmappedThenUd2",
    .what = "fault with rsp in an unmapped guard (no frame room on the user stack)",
    .want = FAULT_(V(6)))
ROW(fault_with_rsp_zero_is_still_delivered, .fn = "RspZeroThenPageFault",
    .what = "rsp 0, then a #PF (would be #DF without IST)", .want = FAULT_(V(14)),
    .alt = {.set = true, .err = GLINT_EFAULT, .kind = GLINT_FAIL_TRIPLE_FAULT, .poisoned = true})
ROW(fault_with_rsp_in_the_page_tables_is_still_delivered, .fn = "RspPageTablesThenInt3",
    .what = "rsp in the page tables, then int3", .want = FAULT_(V(3) | V(13)))
ROW(fault_with_a_non_canonical_rsp_is_still_delivered, .fn = "RspNonCanonicalThenUd2",
    .what = "non-canonical rsp, then #UD", .want = FAULT_(V(6)))
ROW(stack_overflow_faults, .fn = "StackOverflow", .what = "unbounded recursion",
    .want = FAULT_(V(14)))

/* Heap. */
ROW(heap_exhaustion_returns_null, .fn = "HeapExhaust", .what = "malloc until NULL, absurd sizes",
    .want = OK_)
ROW(double_free_aborts, .fn = "HeapDoubleFree", .what = "double free",
    .want = ABORT_("heap corruption"), .check_code = true, .code = -2)
ROW(free_of_a_wild_pointer_aborts, .fn = "HeapFreeWild",
    .what = "free of a pointer malloc never returned", .want = ABORT_("pointer not from malloc"),
    .check_code = true, .code = -2)
ROW(heap_overflow_is_caught_at_free, .fn = "HeapOverflowThenFree",
    .what = "heap overflow, then free", .want = ABORT_("heap corruption"), .check_code = true,
    .code = -2)

/* ---- what the guest sees at entry --------------------------------------------------------- */

static void vendor(const uint32_t r[4], uint32_t a, uint32_t b, uint32_t c, char out[13])
{
    memcpy(out, &r[a], 4);
    memcpy(out + 4, &r[b], 4);
    memcpy(out + 8, &r[c], 4);
    out[12] = 0;
    for (int i = 0; i < 12; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
            out[i] = '.';
}

Test(hostile_memory, entry_state_holds_no_host_pointers_or_stale_bytes)
{
    vm_require_kvm();
    vm_capture_init(&hostile_cap);
    glint_host_fns *fns = hostile_image_fns();
    glint_image *img = vm_load_test("hostile", NULL, fns);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    struct entry_dump d;
    vm_watchdog_start(WATCHDOG_MS, "DumpEntryState");
    hostile_get_dump(sb, &d, "new sandbox");
    vm_watchdog_stop();

    char line[512];
    int k = 0;
    for (int i = 0; i < 16; i++)
        k += snprintf(line + k, sizeof line - (size_t)k, "%s=%" PRIx64 "%s", hostile_gpr_names[i],
                      d.gpr[i], i % 4 == 3 ? "\n    " : " ");
    printf("entry state seen by the guest (fresh sandbox, first call):\n    %s", line);
    printf("rflags=%" PRIx64 " cs=%#x ss=%#x ds=%#x es=%#x fs=%#x gs=%#x mxcsr=%#x fcw=%#x\n",
           d.rflags, d.sel[0], d.sel[1], d.sel[2], d.sel[3], d.sel[4], d.sel[5], d.mxcsr, d.fcw);
    int nz_xmm = 0;
    for (int i = 0; i < 16; i++)
        nz_xmm += d.xmm[i][0] || d.xmm[i][1];
    printf("    xmm registers non-zero: %d of 16\n", nz_xmm);
    static const uint32_t leaves[7] = {0, 1, 7, 0x80000000u, 0x80000001u, 0x40000000u, 0x40000001u};
    for (int i = 0; i < 7; i++)
        printf("    cpuid %#010x: eax=%08x ebx=%08x ecx=%08x edx=%08x\n", leaves[i], d.cpuid[i][0],
               d.cpuid[i][1], d.cpuid[i][2], d.cpuid[i][3]);
    char v0[13], vh[13];
    vendor(d.cpuid[0], 1, 3, 2, v0);
    vendor(d.cpuid[5], 1, 2, 3, vh);
    bool vmx = d.cpuid[1][2] & (1u << 5), svm = d.cpuid[4][2] & (1u << 2);
    bool hv = d.cpuid[1][2] & (1u << 31);
    printf("    vendor '%s', hypervisor bit %d, hypervisor leaf '%s', VMX %d, SVM %d\n", v0, hv, vh,
           vmx, svm);
    printf("    memory scan: %" PRIu64 " pages, %" PRIu64 " qwords: %" PRIu64
           " host-user-looking (0x7f..), %" PRIu64 " kernel-looking values\n",
           d.pages_scanned, d.words_scanned, d.user_ptr_count, d.kernel_ptr_count);
    for (uint64_t i = 0; i < d.user_ptr_count && i < DUMP_HITS; i++)
        printf("      user-looking 0x%016" PRIx64 " at 0x%" PRIx64 "\n", d.user_hits[i].value,
               d.user_hits[i].addr);
    for (uint64_t i = 0; i < d.kernel_ptr_count && i < DUMP_HITS; i++)
        printf("      kernel-looking 0x%016" PRIx64 " at 0x%" PRIx64 "\n", d.kernel_hits[i].value,
               d.kernel_hits[i].addr);
    printf("    heap: %" PRIu64 " non-zero bytes of %" PRIu64 " (first at +%" PRId64
           ", last at +%" PRId64 ")\n",
           d.heap_nonzero, d.heap_size, (int64_t)d.heap_first_nz, (int64_t)d.heap_last_nz);
    printf("    non-zero bytes: input after CALL %" PRIu64 ", output after message %" PRIu64
           ", stack below rsp-4K %" PRIu64 ", boot page after boot info %" PRIu64 "\n",
           d.input_nonzero_after_msg, d.output_nonzero_after_msg, d.stack_nonzero_below,
           d.boot_nonzero_after);
    printf("    (VMX/SVM in the CPUID table glint gives KVM: not observable from the guest on PVM, "
           "not asserted here)\n");
    if (vmx || svm)
        printf("    NOTE: %s visible to CPL3 cpuid: documented PVM limit (cpuid at CPL3 returns "
               "the host's CPUID; glint removes VMX/SVM from the table given to KVM, which the "
               "guest cannot observe here). The features stay unusable without CPL0.\n",
               vmx ? "VMX" : "SVM");
    fflush(stdout);

    /* No host pointers anywhere the guest can read, registers included. */
    for (int i = 0; i < 16; i++)
        cr_assert(!hostile_host_user_ptr(d.gpr[i]), "%s = 0x%" PRIx64 " looks like a host pointer",
                  hostile_gpr_names[i], d.gpr[i]);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 2; j++)
            cr_assert(!hostile_host_user_ptr(d.xmm[i][j]), "xmm%d looks like a host pointer", i);
    cr_assert_eq(d.user_ptr_count, 0, "host-pointer-looking value 0x%" PRIx64 " at 0x%" PRIx64,
                 d.user_hits[0].value, d.user_hits[0].addr);
    cr_assert_eq(d.kernel_ptr_count, 0, "kernel-pointer-looking value 0x%" PRIx64 " at 0x%" PRIx64,
                 d.kernel_hits[0].value, d.kernel_hits[0].addr);
    /* Registers point only into guest memory. */
    for (int i = 0; i < 16; i++)
        cr_assert(d.gpr[i] < 0x100000000ull || d.gpr[i] > 0xffff000000000000ull,
                  "%s = 0x%" PRIx64 " outside guest memory", hostile_gpr_names[i], d.gpr[i]);
    /* CPL3, interrupts off, no IOPL, no TF/AC. */
    cr_assert_eq(d.sel[0] & 3, 3, "CS RPL %u", d.sel[0] & 3);
    cr_assert_eq(d.sel[1] & 3, 3, "SS RPL %u", d.sel[1] & 3);
    cr_assert_eq(d.rflags & 0x3000, 0, "IOPL %u", (unsigned)(d.rflags >> 12) & 3);
    cr_assert_eq(d.rflags & (0x100 | 0x40000), 0, "TF or AC set: 0x%" PRIx64, d.rflags);
    cr_assert_eq(d.mxcsr & 0xffc0, 0x1f80, "MXCSR 0x%x", d.mxcsr);
    /* Nothing but the allocator's own bookkeeping in the heap at init (first/last 64 bytes). */
    cr_assert(d.heap_nonzero <= 128, "%" PRIu64 " non-zero heap bytes", d.heap_nonzero);
    if (d.heap_nonzero) {
        cr_assert_lt(d.heap_first_nz, 64);
        cr_assert_geq(d.heap_last_nz, d.heap_size - 64);
    }
    /* Buffers hold exactly the current messages, the boot page exactly the boot info. */
    cr_assert_eq(d.input_nonzero_after_msg, 0, "stale bytes in the input buffer");
    cr_assert_eq(d.output_nonzero_after_msg, 0, "stale bytes in the output buffer");
    cr_assert_eq(d.boot_nonzero_after, 0, "stale bytes in the boot page");

    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}
