/* Hostile rows: privileged and odd instructions at CPL3, segment loads, FS/GS bases, hypercalls. */
#include "hostile.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTILE_FAMILY instructions

TestSuite(hostile_instructions, .fini = hostile_fini, .timeout = 60);

/* ---- extra checks for some rows ------------------------------------------------------------ */

/* FS/GS base written with wr*base (possible on PVM): kept in the sandbox, never leaked into
 * other sandboxes, and reset by restore to its initial value (FS: the TLS page, GS: 0). */
static void check_base(struct run *r, const char *fn, int64_t initial)
{
    glint_value v = glint_u64(0x5678);
    cr_assert_eq((uint64_t)hostile_call_i64(r->sb, fn, &v, 1), 0x1234u, "%s: kept between calls",
                 fn);
    v = glint_u64(0);
    cr_assert_eq(hostile_call_i64(r->bystander, fn, &v, 1), initial,
                 "%s: another sandbox sees the base", fn);
    cr_assert_eq(glint_sandbox_restore(r->sb, NULL), 0);
    cr_assert_eq(hostile_call_i64(r->sb, fn, &v, 1), initial,
                 "%s: base survived glint_sandbox_restore()", fn);
}

static void check_fs_base(struct run *r)
{
    if (r->rc == 0)
        check_base(r, "FsBaseSwap", GLINT_ABI_TLS_ADDR);
}

static void check_gs_base(struct run *r)
{
    if (r->rc == 0)
        check_base(r, "GsBaseSwap", 0);
}

/* Data segment selectors as the host thread has them, and as a guest saw them before the
 * hostile call (setup_selectors). */
static uint64_t host_selectors(void)
{
    uint16_t ds, es, fs, gs;
    __asm__ volatile("mov %%ds, %0\n\tmov %%es, %1\n\tmov %%fs, %2\n\tmov %%gs, %3"
                     : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
    return ds | (uint64_t)es << 16 | (uint64_t)fs << 32 | (uint64_t)gs << 48;
}

static uint64_t pristine_guest_sel, pristine_host_sel;

static void setup_selectors(struct run *r)
{
    pristine_host_sel = host_selectors();
    pristine_guest_sel = (uint64_t)hostile_call_i64(r->sb, "Selectors", NULL, 0);
}

/* A segment load PVM accepts (the host's GDT decides there): whatever the guest loaded must stay
 * in that guest. Neither the host thread, nor another sandbox (existing or new, this thread or
 * another), nor the same sandbox after restore may see it. */
static void *selectors_on_new_thread(void *arg)
{
    glint_image *img = arg;
    glint_sandbox *s = vm_sandbox(img, NULL);
    uint64_t *v = malloc(sizeof *v);
    cr_assert_not_null(v);
    *v = (uint64_t)hostile_call_i64(s, "Selectors", NULL, 0);
    glint_sandbox_destroy(s);
    return v;
}

static void check_selectors(struct run *r)
{
    if (r->rc != 0)
        return;
    uint64_t inside = (uint64_t)hostile_call_i64(r->sb, "Selectors", NULL, 0);
    uint64_t host = host_selectors();
    uint64_t other = (uint64_t)hostile_call_i64(r->bystander, "Selectors", NULL, 0);
    glint_sandbox *fresh = vm_sandbox(r->img, NULL);
    uint64_t brand_new = (uint64_t)hostile_call_i64(fresh, "Selectors", NULL, 0);
    glint_sandbox_destroy(fresh);
    pthread_t t;
    void *res;
    cr_assert_eq(pthread_create(&t, NULL, selectors_on_new_thread, r->img), 0);
    pthread_join(t, &res);
    uint64_t thread_new = *(uint64_t *)res;
    free(res);
    cr_assert_eq(glint_sandbox_restore(r->sb, NULL), 0);
    uint64_t restored = (uint64_t)hostile_call_i64(r->sb, "Selectors", NULL, 0);
    hostile_note(
        "%s: ds/es/fs/gs (16 bits each, ds lowest) before %016" PRIx64 "; after the load: in "
        "the guest %016" PRIx64 ", host thread %016" PRIx64 " (was %016" PRIx64
        "), bystander %016" PRIx64 ", new sandbox %016" PRIx64 ", new sandbox on a new thread "
        "%016" PRIx64 ", same sandbox restored %016" PRIx64,
        r->row->id, pristine_guest_sel, inside, host, pristine_host_sel, other, brand_new,
        thread_new, restored);
    cr_assert_eq(host, pristine_host_sel,
                 "the guest's segment load reached the host thread: %016" PRIx64 " (was %016" PRIx64
                 ")",
                 host, pristine_host_sel);
    cr_assert_eq(other, pristine_guest_sel,
                 "another sandbox sees the guest's selectors: %016" PRIx64, other);
    cr_assert_eq(brand_new, pristine_guest_sel,
                 "a new sandbox sees the guest's selectors: %016" PRIx64, brand_new);
    cr_assert_eq(thread_new, pristine_guest_sel,
                 "a new sandbox on a new thread sees the guest's selectors: %016" PRIx64,
                 thread_new);
    cr_assert_eq(restored, pristine_guest_sel,
                 "selectors survived glint_sandbox_restore(): %016" PRIx64, restored);
}

/* vmcall/vmmcall at CPL3 (docs/security.md): KVM's hypercall answer -KVM_EPERM (rax -1), #GP
 * or #UD, or #PF at the instruction itself, from KVM's attempt to "fix" the other vendor's
 * instruction on the read-only code page (expected only while the quirk is on, but which one a
 * host shows is its business: the property is that code is never patched). */
static void check_hypercall(struct run *r, uint32_t bytes_want)
{
    if (r->rc == 0) {
        uint64_t v = r->ret.as.u64;
        uint32_t bytes = (uint32_t)(v & 0xffffff);
        hostile_note("%s at CPL3: rax 0x%08" PRIx32 " after it, instruction bytes %06" PRIx32,
                     r->row->fn, (uint32_t)(v >> 32), bytes);
        cr_assert_eq((uint32_t)(v >> 32), 0xffffffffu, "hypercall from CPL3 not refused");
        cr_assert_eq(bytes, bytes_want, "the hypervisor patched the guest's read-only code");
    } else if (r->f.vector == 14) {
        cr_assert_eq(r->f.fault_addr, r->f.rip, "#PF away from the instruction: %s", r->f.message);
    }
}

static void check_vmcall(struct run *r)
{
    check_hypercall(r, 0xc1010f);
}

static void check_vmmcall(struct run *r)
{
    check_hypercall(r, 0xd9010f);
}

/* ---- the table ---------------------------------------------------------------------------- */

/* Privileged and unusual instructions at CPL3. Vector masks list PVM's and the architectural
 * vector where they differ (comments). */
#define INSN(id_, fn_, vecs_, what_) ROW(id_, .fn = fn_, .what = what_, .want = FAULT_(vecs_))
INSN(syscall_faults, "Syscall", V(14) | V(6), "syscall (PVM: to LSTAR=0, #PF; arch: #UD, SCE=0)")
INSN(sysenter_faults, "Sysenter", V(6) | V(13), "sysenter (PVM #UD; Intel #GP)")
INSN(sysexit_faults, "Sysexit", V(13) | V(6), "sysexit at CPL3")
INSN(sysret_faults, "Sysret", V(13) | V(6), "sysret at CPL3 (PVM #GP; arch #UD, SCE=0)")
INSN(int_0x80_faults, "Int80", V(6) | V(13), "int $0x80 (PVM #UD; arch #GP, gate DPL 0)")
INSN(int_14_faults, "IntPageFault", V(6) | V(13), "int $14: a #PF without error code")
INSN(int3_faults, "Int3", V(3) | V(13), "int3 (PVM #BP; arch #GP)")
INSN(int1_icebp_faults, "Int1Icebp", V(1), "int1 / icebp (0xf1)")
INSN(into_faults, "Into", V(6), "into (invalid in 64-bit mode)")
INSN(ud2_faults, "Ud2", V(6), "ud2")
INSN(hlt_faults, "Hlt", V(13), "hlt")
INSN(cli_faults, "Cli", V(13), "cli")
INSN(sti_faults, "Sti", V(13), "sti")
INSN(rdmsr_faults, "Rdmsr", V(13), "rdmsr LSTAR")
INSN(wrmsr_faults, "Wrmsr", V(13), "wrmsr LSTAR")
INSN(lgdt_faults, "Lgdt", V(13), "lgdt")
INSN(lidt_faults, "Lidt", V(13), "lidt")
INSN(ltr_faults, "Ltr", V(13), "ltr")
INSN(lldt_faults, "Lldt", V(13), "lldt")
INSN(mov_to_cr3_faults, "MovToCr3", V(13), "mov %rax, %cr3")
INSN(mov_from_cr0_faults, "MovFromCr0", V(13), "mov %cr0, %rax")
INSN(mov_to_cr0_faults, "MovToCr0", V(13), "mov to %cr0")
INSN(mov_to_cr4_faults, "MovToCr4", V(13), "mov to %cr4")
INSN(mov_to_dr7_faults, "MovToDr7", V(13), "mov to %dr7")
INSN(invlpg_faults, "Invlpg", V(13), "invlpg")
INSN(wbinvd_faults, "Wbinvd", V(13), "wbinvd")
INSN(invd_faults, "Invd", V(13), "invd")
INSN(rdpmc_faults, "Rdpmc", V(13), "rdpmc (CR4.PCE clear)")
INSN(xsetbv_faults, "Xsetbv", V(13) | V(6), "xsetbv (#GP at CPL3; #UD where CR4.OSXSAVE is clear)")
INSN(xsetbv_all_faults, "XsetbvAll", V(13) | V(6), "xsetbv asking for every XCR0 bit")
INSN(swapgs_faults, "Swapgs", V(13), "swapgs")
INSN(clts_faults, "Clts", V(13), "clts")
INSN(lmsw_faults, "Lmsw", V(13), "lmsw")
INSN(mov_ss_kernel_faults, "MovSsKernel", V(13), "mov 0x10 (kernel data) to %ss")
INSN(mov_ss_kernel_rpl3_faults, "MovSsKernelRpl3", V(13), "mov 0x13 to %ss")
INSN(mov_ss_tss_faults, "MovSsTss", V(13), "mov the TSS selector 0x28 to %ss")
INSN(mov_ss_null_faults, "MovSsNull", V(13), "mov a null selector to %ss at CPL3")
INSN(mov_ds_kernel_faults, "MovDsKernel", V(13), "mov 0x10 (kernel data) to %ds")
INSN(mov_es_kernel_code_faults, "MovEsKernelCode", V(13), "mov 0x08 (kernel code) to %es")
INSN(mov_fs_past_gdt_faults, "MovFsPastGdt", V(13), "mov 0xfffb (beyond the GDT) to %fs")
INSN(mov_gs_ldt_faults, "MovGsLdt", V(13), "mov an LDT selector to %gs (no LDT)")
INSN(ldmxcsr_reserved_faults, "LdmxcsrReserved", V(6) | V(13),
     "ldmxcsr with reserved bits (PVM #UD; arch #GP)")
INSN(iretq_to_cpl0_faults, "IretqToCpl0", V(13), "iretq with a crafted CPL0 frame")
INSN(iretq_iopl_then_cli_faults, "IretqIoplThenCli", V(13), "iretq asking for IOPL 3, then cli")
INSN(popf_iopl_then_out_faults, "PopfIoplThenOut", V(13), "popf asking for IOPL 3, then out 0x80")
INSN(popf_trap_flag_faults, "PopfTrapFlag", V(1), "set RFLAGS.TF: single-step trap")
INSN(ljmp_kernel_cs_faults, "LjmpKernelCs", V(13), "far jmp to kernel CS 0x08")
INSN(lret_kernel_cs_faults, "LretKernelCs", V(13), "far ret to kernel CS 0x08")
INSN(lcall_tss_faults, "LcallTss", V(6) | V(13), "far call to the TSS selector (PVM #UD; arch #GP)")
INSN(sse_div_zero_unmasked_faults, "SseDivZeroUnmasked", V(19), "unmasked SSE divide by zero: #XM")
INSN(x87_div_zero_unmasked_faults, "X87DivZeroUnmasked", V(16), "unmasked x87 divide by zero: #MF")
INSN(idiv_overflow_faults, "IdivOverflow", V(0), "INT64_MIN / -1: #DE")
ROW(vmcall_is_refused_and_code_is_never_patched, .fn = "VmcallSite",
    .what = "vmcall at CPL3 (PVM #GP; VMX: rax = -EPERM; SVM #UD); code never patched",
    .want = FAULT_(V(13) | V(6) | V(14)), .alt = OK_, .check = check_vmcall)
ROW(vmmcall_is_refused_and_code_is_never_patched, .fn = "VmmcallSite",
    .what = "vmmcall at CPL3 (AMD: rax = -EPERM; Intel #UD, or #PF where KVM may patch it); "
            "code never patched",
    .want = OK_, .alt = FAULT_(V(6) | V(13) | V(14)), .check = check_vmmcall)
ROW(alignment_check_faults_or_is_ignored, .fn = "AlignmentCheck",
    .what = "RFLAGS.AC + misaligned load (PVM #AC; arch: nothing, CR0.AM clear)",
    .want = FAULT_(V(17)), .alt = OK_)
ROW(mov_ds_0x2b_stays_in_the_sandbox, .fn = "MovDsTss",
    .what = "mov 0x2b to %ds (PVM: the host's user data selector; arch #GP)", .want = OK_,
    .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(mov_ds_tss_selector_stays_in_the_sandbox, .fn = "MovDsTss28",
    .what = "mov the TSS selector 0x28 to %ds (PVM: host GDT slot 5; arch #GP)", .want = OK_,
    .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(mov_gs_0x2b_stays_in_the_sandbox, .fn = "MovGsTss", .what = "mov 0x2b to %gs (as above)",
    .want = OK_, .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(mov_fs_0x2b_stays_in_the_sandbox, .fn = "MovFsUserData",
    .what = "mov 0x2b to %fs (PVM: accepted; arch #GP, no such descriptor)", .want = OK_,
    .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(mov_es_0x2b_stays_in_the_sandbox, .fn = "MovEsUserData", .what = "mov 0x2b to %es (as above)",
    .want = OK_, .alt = FAULT_(V(13)), .setup = setup_selectors, .check = check_selectors)
ROW(wrfsbase_stays_in_the_sandbox, .fn = "FsBaseSwap", A_U64(0x1234),
    .what = "wrfsbase (PVM allows it; arch #UD, CR4.FSGSBASE clear)", .want = OK_,
    .alt = FAULT_(V(6)), .check_ret = true, .ret = GLINT_ABI_TLS_ADDR, .check = check_fs_base)
ROW(wrgsbase_stays_in_the_sandbox, .fn = "GsBaseSwap", A_U64(0x1234), .what = "wrgsbase (as above)",
    .want = OK_, .alt = FAULT_(V(6)), .check_ret = true, .ret = 0, .check = check_gs_base)

/* What sgdt/sidt/str/sldt/smsw reveal at CPL3 (no CR4.UMIP in glint's CR4). */
Test(hostile_instructions, descriptor_table_registers_reveal_no_host_pointer)
{
    vm_require_kvm();
    vm_capture_init(&hostile_cap);
    glint_host_fns *fns = hostile_image_fns();
    glint_image *img = vm_load_test("hostile", NULL, fns);
    glint_sandbox *sb = vm_sandbox(img, NULL);
    glint_value r;
    int rc = glint_sandbox_call(sb, "DescriptorTables", NULL, 0, &r);
    glint_failure f;
    glint_sandbox_last_failure(sb, &f);
    if (rc == 0) {
        uint8_t b[48];
        cr_assert_eq(r.as.bytes.len, sizeof b);
        memcpy(b, r.as.bytes.ptr, sizeof b);
        uint16_t gl, il, ldt, tr, msw;
        uint64_t gb, ib;
        memcpy(&gl, b, 2);
        memcpy(&gb, b + 2, 8);
        memcpy(&il, b + 16, 2);
        memcpy(&ib, b + 18, 8);
        memcpy(&ldt, b + 32, 2);
        memcpy(&tr, b + 34, 2);
        memcpy(&msw, b + 36, 2);
        printf("CPL3 sees: gdtr %#" PRIx64 "/%#x idtr %#" PRIx64 "/%#x ldtr %#x tr %#x msw %#x\n",
               gb, gl, ib, il, ldt, tr, msw);
        fflush(stdout);
        bool guest_tables = gb == GLINT_ABI_GDT_ADDR && ib == GLINT_ABI_IDT_ADDR;
        if (!guest_tables)
            cr_log_warn("sgdt/sidt at CPL3 return 0x%" PRIx64 "/0x%" PRIx64
                        ", not glint's tables (hypervisor's or host's values)",
                        gb, ib);
        cr_assert(!hostile_host_user_ptr(gb) && !hostile_host_user_ptr(ib));
    } else {
        printf("CPL3 sgdt/sidt: %s (%s)\n", glint_strerror(rc), f.message);
        fflush(stdout);
        cr_assert_eq(rc, GLINT_EFAULT, "%s", f.message);
    }
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
}
