/* Hostile rows: exits at the wrong time (early and repeated DONE), port I/O, spinning. */
#include "hostile.h"

#include <string.h>

#define HOSTILE_FAMILY exits

TestSuite(hostile_exits, .fini = hostile_fini, .timeout = 60);

/* ---- extra checks for some rows ------------------------------------------------------------ */

/* A second DONE answers the next call: accepted only because it is a well-formed result of
 * that call's declared type, i.e. the guest legitimately answering it. */
static void check_double_done_same_type(struct run *r)
{
    cr_assert_eq(hostile_call_i64(r->sb, "Seven", NULL, 0) & 0xffffffff, 2,
                 "the second DONE answers the next i32 call");
    cr_assert_eq(hostile_call_i64(r->sb, "Seven", NULL, 0) & 0xffffffff, 3,
                 "the runtime's own result of DoubleDone answers the one after");
    cr_assert_eq(hostile_call_i64(r->sb, "Seven", NULL, 0) & 0xffffffff, 7, "back in step");
}

/* ... and when the next call's type differs, the stale answer is a protocol violation. */
static void check_double_done_other_type(struct run *r)
{
    glint_value x = glint_i64(5), out;
    memset(&out, 0x5a, sizeof out);
    glint_value before = out;
    int rc = glint_sandbox_call(r->sb, "Benign", &x, 1, &out);
    glint_failure f = vm_expect_failure(r->sb, rc, GLINT_EPROTO, GLINT_FAIL_PROTOCOL);
    cr_assert(vm_contains(f.message, "return type"), "%s", f.message);
    cr_assert(memcmp(&out, &before, sizeof out) == 0, "an i32 answer was handed out as i64");
}

/* An early DONE in a void function answered with the (void) init result; the next call, an
 * i32, gets that stale buffer again and must refuse it. */
static void check_early_done_void(struct run *r)
{
    glint_value out;
    int rc = glint_sandbox_call(r->sb, "Seven", NULL, 0, &out);
    vm_expect_failure(r->sb, rc, GLINT_EPROTO, GLINT_FAIL_PROTOCOL);
}

/* Leave bytes 01 02 03 in KVM's port-I/O data page (a rep outsb that the host accepts as DONE),
 * then restore: the next `rep insb` exit then has stale non-zero data pending. */
static void setup_outsb_then_restore(struct run *r)
{
    cr_assert_eq(hostile_call_i64(r->sb, "RepOutsbDone", NULL, 0) & 0xffffffff, 42);
    cr_assert_eq(glint_sandbox_restore(r->sb, NULL), 0, "restore: %s", glint_errmsg());
}

/* ---- the table ---------------------------------------------------------------------------- */

/* Early, repeated and forged exits; buffers touched at the wrong time. */
ROW(done_before_an_i32_result_is_a_protocol_error, .fn = "EarlyDoneI32",
    .what = "DONE before writing a result (i32)", .want = PROTO_("declared return type i32"))
ROW(done_before_a_void_result_cannot_answer_the_next_call, .fn = "EarlyDoneVoid",
    .what = "DONE before writing a result (void): the stale void init result answers", .want = OK_,
    .check = check_early_done_void)
ROW(done_with_the_reply_still_in_the_buffer_is_a_protocol_error, .fn = "EarlyDoneAfterHostCall",
    .what = "DONE with the host's reply still in the buffer", .want = PROTO_("kind 4"))
ROW(second_done_answers_only_a_call_of_its_type, .fn = "DoubleDone",
    .what = "DONE twice; the second answers the next i32 call", .want = OK_, .check_ret = true,
    .ret = 1, .check = check_double_done_same_type)
ROW(second_done_cannot_answer_a_call_of_another_type, .fn = "DoubleDone",
    .what = "DONE twice; the next call is i64, the stale i32 is refused", .want = OK_,
    .check_ret = true, .ret = 1, .check = check_double_done_other_type)
ROW(scribbling_the_input_around_host_calls_is_harmless, .fn = "ScribbleInputDuringHostCall",
    .what = "guest overwrites the input buffer around host calls", .want = OK_, .check_ret = true,
    .ret = 5)
ROW(reply_edited_into_a_result_is_only_the_guests_own_answer, .fn = "ForgeResultFromReply",
    .what = "edit the host's reply into a RESULT of the guest's choosing", .want = OK_,
    .check_ret = true, .ret = 4242, .desync = true)
ROW(damaged_reply_then_done_is_a_protocol_error, .fn = "ScribbleReplyThenDone",
    .what = "damage the host's reply, then DONE", .want = PROTO_("too many values"))

/* Port I/O: only 1-byte `out` to 0xe0..0xe2 is defined; the TSS bitmap denies the rest. */
#define PORT_GP(id_, fn_, what_) ROW(id_, .fn = fn_, .what = what_, .want = FAULT_(V(13)))
PORT_GP(outb_imm_port_80_faults, "OutbImm80", "outb to port 0x80 (imm8)")
PORT_GP(outw_imm_port_80_faults, "OutwImm80", "outw to port 0x80 (imm8)")
PORT_GP(outl_imm_port_80_faults, "OutlImm80", "outl to port 0x80 (imm8)")
PORT_GP(inb_imm_port_80_faults, "InbImm80", "inb from port 0x80 (imm8)")
PORT_GP(inw_imm_port_80_faults, "InwImm80", "inw from port 0x80 (imm8)")
PORT_GP(inl_imm_port_80_faults, "InlImm80", "inl from port 0x80 (imm8)")
PORT_GP(outb_dx_port_3f8_faults, "OutbDx3f8", "outb to COM1 0x3f8 (dx)")
PORT_GP(outw_dx_port_cf8_faults, "OutwDxCf8", "outw to PCI 0xcf8 (dx)")
PORT_GP(outl_dx_port_cf8_faults, "OutlDxCf8", "outl to PCI 0xcf8 (dx)")
PORT_GP(inb_dx_port_3f8_faults, "InbDx3f8", "inb from 0x3f8 (dx)")
PORT_GP(inw_dx_port_cfc_faults, "InwDxCfc", "inw from 0xcfc (dx)")
PORT_GP(inl_dx_port_cfc_faults, "InlDxCfc", "inl from 0xcfc (dx)")
PORT_GP(outb_dx_port_ffff_faults, "OutbDxFFFF", "outb to 0xffff (beyond the bitmap)")
PORT_GP(outb_dx_fault_port_faults, "OutbDxFaultPort", "outb to the CPL0 fault port 0xe3 (dx)")
PORT_GP(outb_port_df_faults, "OutbImmDF", "outb to 0xdf (next to glint's ports)")
PORT_GP(outb_port_e4_faults, "OutbImmE4", "outb to 0xe4 (next to glint's ports)")
PORT_GP(inl_done_port_faults, "InlDone", "inl from DONE (spans the fault port)")
PORT_GP(outl_done_port_faults, "OutlDone", "outl to DONE (spans the fault port)")
PORT_GP(outw_abort_port_faults, "OutwDxAbort", "outw to ABORT (spans the fault port)")
ROW(inb_done_port_is_a_protocol_error, .fn = "InbDone", .what = "inb from the DONE port",
    .want = PROTO_("in of size 1 on port 0xe0"))
ROW(inw_done_port_is_a_protocol_error, .fn = "InwDone", .what = "inw from the DONE port",
    .want = PROTO_("in of size 2 on port 0xe0"))
ROW(inb_hostcall_port_is_a_protocol_error, .fn = "InbDxHostCall",
    .what = "inb from the HOSTCALL port (dx)", .want = PROTO_("in of size 1 on port 0xe1"))
ROW(inb_abort_port_is_a_protocol_error, .fn = "InbDxAbort", .what = "inb from the ABORT port (dx)",
    .want = PROTO_("in of size 1 on port 0xe2"))
ROW(outw_done_port_is_a_protocol_error, .fn = "OutwDone", .what = "outw to the DONE port",
    .want = PROTO_("out of size 2 on port 0xe0"))
ROW(outw_hostcall_port_is_a_protocol_error, .fn = "OutwDxHostCall",
    .what = "outw to the HOSTCALL port", .want = PROTO_("out of size 2 on port 0xe1"))
ROW(valid_result_sent_with_rep_outsb_is_accepted, .fn = "RepOutsbDone",
    .what = "a valid result sent with rep outsb", .want = OK_, .check_ret = true, .ret = 42,
    .desync = true)
ROW(rep_insb_from_done_is_a_protocol_error, .fn = "RepInsbDone",
    .what = "rep insb from the DONE port", .want = PROTO_("in of size 1 on port 0xe0"))
ROW(rep_insb_with_stale_io_data_is_a_protocol_error, .fn = "RepInsbDone",
    .setup = setup_outsb_then_restore,
    .what = "rep insb from DONE with stale data pending in KVM's I/O page",
    .want = PROTO_("in of size 1 on port 0xe0"))
ROW(outsb_from_a_supervisor_page_faults_at_the_address, .fn = "OutsbFromSupervisor",
    .what = "rep outsb sourcing the GDT (supervisor page)", .want = FAULT_(V(14)),
    .check_addr = true, .addr = GLINT_ABI_GDT_ADDR)
ROW(insb_into_the_gdt_never_writes_it, .fn = "InsbIntoGdt",
    .what = "rep insb into the GDT from the DONE port", .want = PROTO_("in of size 1 on port 0xe0"),
    .alt = FAULT_(V(14)))

/* Spinning. */
ROW(spin_stops_at_the_timeout, .fn = "Spin", .what = "spin forever, 100 ms timeout",
    .want = TIMEOUT_, .timeout_ms = 100, .min_ms = 90, .max_ms = 1500)
ROW(spin_with_pause_stops_at_the_timeout, .fn = "SpinPause",
    .what = "spin with pause, 100 ms timeout", .want = TIMEOUT_, .timeout_ms = 100, .min_ms = 90,
    .max_ms = 1500)
ROW(spin_without_timeout_is_interruptible, .fn = "Spin",
    .what = "spin forever without timeout, interrupted after 50 ms", .want = INTR_,
    .timeout_ms = NO_TIMEOUT, .interrupt_ms = 50, .min_ms = 40, .max_ms = 1500)
