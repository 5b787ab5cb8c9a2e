/* Hostile rows: host-call requests, malformed, refused, flooding and re-entering. */
#include "hostile.h"

#define HOSTILE_FAMILY hostcalls

TestSuite(hostile_hostcalls, .fini = hostile_fini, .timeout = 60);

/* ---- extra checks for some rows ------------------------------------------------------------ */

static void check_reenter_other(struct run *r)
{
    cr_assert_eq(hostile_reentry.peer_rc, 0, "call into another sandbox from a host function: %s",
                 glint_strerror(hostile_reentry.peer_rc));
    cr_assert_eq(r->ret.as.i32, 3 * BENIGN_X + 1);
}

static void check_reenter_same(struct run *r)
{
    cr_assert_eq(hostile_reentry.call_rc, GLINT_EBUSY, "reentrant call: %s",
                 glint_strerror(hostile_reentry.call_rc));
    cr_assert_eq(hostile_reentry.restore_rc, GLINT_EBUSY, "restore during the call: %s",
                 glint_strerror(hostile_reentry.restore_rc));
    cr_assert_eq(hostile_reentry.snapshot_rc, GLINT_EBUSY, "snapshot during the call: %s",
                 glint_strerror(hostile_reentry.snapshot_rc));
    cr_assert_eq(r->ret.as.i32, GLINT_EBUSY);
    cr_assert_eq(r->f.kind, GLINT_FAIL_NONE, "the refused reentry left a failure behind");
}

static void check_reenter_cycle(struct run *r)
{
    cr_assert_eq(hostile_reentry.peer_rc, 0, "peer call: %s",
                 glint_strerror(hostile_reentry.peer_rc));
    cr_assert_eq(hostile_reentry.call_rc, GLINT_EBUSY, "call back into the busy sandbox: %s",
                 glint_strerror(hostile_reentry.call_rc));
    cr_assert_eq(r->ret.as.i32, GLINT_EBUSY);
}

static void check_print10000(struct run *r)
{
    cr_assert_eq(hostile_cap.prints, 10000, "%zu prints reached the host", hostile_cap.prints);
    hostile_note("10000 print host calls in %.1f ms (%.1f us each)", r->ms, r->ms * 1000 / 10000);
}

static void check_add10000(struct run *r)
{
    hostile_note("10000 HostAdd host calls in %.1f ms (%.1f us each)", r->ms, r->ms * 1000 / 10000);
}

/* ---- the table ---------------------------------------------------------------------------- */

/* HOSTCALL encodings. */
ROW(random_bytes_are_a_protocol_error, .fn = "HcGarbage", .what = "random bytes as a host call",
    .want = PROTO_("malformed host call request"))
ROW(all_zero_request_is_a_protocol_error, .fn = "HcAllZero", .what = "all-zero host call",
    .want = PROTO_("smaller than its header"))
ROW(message_ending_before_the_name_is_a_protocol_error, .fn = "HcTruncatedName",
    .what = "message ends before the name", .want = PROTO_("name extends past"))
ROW(size_ffffffff_is_a_protocol_error, .fn = "HcSizeFFFFFFFF", .what = "host call size 0xffffffff",
    .want = PROTO_("exceeds the buffer"))
ROW(size_near_4g_does_not_wrap_and_is_a_protocol_error, .fn = "HcSizeNear4G",
    .what = "host call size 2^32-8", .want = PROTO_("exceeds the buffer"))
ROW(name_len_ffffffff_is_a_protocol_error, .fn = "HcNameLenFFFFFFFF",
    .what = "name length 0xffffffff", .want = PROTO_("name length out of range"))
ROW(name_length_past_the_message_is_a_protocol_error, .fn = "HcNameLenPastMessage",
    .what = "name length beyond the message size", .want = PROTO_("name extends past"))
ROW(empty_name_is_a_protocol_error, .fn = "HcEmptyName", .what = "empty host function name",
    .want = PROTO_("name length out of range"))
ROW(name_of_64_characters_is_a_protocol_error, .fn = "HcName64", .what = "64-character name",
    .want = PROTO_("name length out of range"))
ROW(name_of_1000_characters_is_a_protocol_error, .fn = "HcName1000", .what = "1000-character name",
    .want = PROTO_("name length out of range"))
ROW(name_without_nul_is_a_protocol_error, .fn = "HcNameUnterminated",
    .what = "name without its NUL", .want = PROTO_("not NUL-terminated"))
ROW(name_with_a_dash_is_a_protocol_error, .fn = "HcNameBadChars", .what = "name 'pr-nt'",
    .want = PROTO_("invalid characters"))
ROW(non_identifier_utf8_name_is_a_protocol_error, .fn = "HcNameUtf8",
    .what = "valid UTF-8, non-identifier name", .want = PROTO_("invalid characters"))
ROW(overlong_utf8_name_is_a_protocol_error, .fn = "HcNameOverlong",
    .what = "overlong UTF-8 in the name", .want = PROTO_("invalid characters"))
ROW(name_with_an_embedded_nul_is_a_protocol_error, .fn = "HcNameEmbeddedNul",
    .what = "name 'pri\\0t'", .want = PROTO_("invalid characters"))
ROW(junk_after_the_name_is_a_protocol_error, .fn = "HcNamePaddingJunk",
    .what = "junk after the name's NUL", .want = PROTO_("padding not zero"))
ROW(string_argument_without_nul_is_a_protocol_error, .fn = "HcArgUnterminated",
    .what = "string argument without NUL", .want = PROTO_("not NUL-terminated"))
ROW(overlong_utf8_argument_is_a_protocol_error, .fn = "HcArgOverlong",
    .what = "overlong UTF-8 argument", .want = PROTO_("valid UTF-8"))
ROW(surrogate_in_an_argument_is_a_protocol_error, .fn = "HcArgSurrogate",
    .what = "surrogate in an argument", .want = PROTO_("valid UTF-8"))
ROW(lone_continuation_argument_is_a_protocol_error, .fn = "HcArgLoneContinuation",
    .what = "lone continuation byte argument", .want = PROTO_("valid UTF-8"))
ROW(nul_inside_an_argument_is_a_protocol_error, .fn = "HcArgEmbeddedNul",
    .what = "NUL inside an argument", .want = PROTO_("NUL-free"))
ROW(count_beyond_the_arguments_is_a_protocol_error, .fn = "HcCountGtContent",
    .what = "count 2, one argument", .want = PROTO_("extends past the message"))
ROW(seventeen_arguments_are_a_protocol_error, .fn = "HcCount17", .what = "17 arguments",
    .want = PROTO_("too many values"))
ROW(unknown_return_type_is_a_protocol_error, .fn = "HcRetType10", .what = "expected return type 10",
    .want = PROTO_("unknown return type"))
ROW(result_on_the_hostcall_port_is_a_protocol_error, .fn = "HcKindResult",
    .what = "a RESULT on the host-call port", .want = PROTO_("kind 2"))
ROW(forged_hostresult_is_a_protocol_error, .fn = "HcKindHostResult",
    .what = "a forged HOSTRESULT on the host-call port", .want = PROTO_("kind 4"))
ROW(abort_on_the_hostcall_port_is_a_protocol_error, .fn = "HcKindAbort",
    .what = "an ABORT on the host-call port", .want = PROTO_("kind 5"))

/* Host calls the host refuses with an error reply (the guest turns it into code 8). */
ROW(unknown_function_is_refused_with_an_error_reply, .fn = "HcUnknownName",
    .what = "unknown host function", .want = GUEST_("no host function 'NoSuchHostFunction'"),
    .check_code = true, .code = 8)
ROW(function_not_registered_for_the_sandbox_is_refused, .fn = "HcHostAdd", .fns = FNS_PRINT_ONLY,
    .what = "host function registered on the image but not this sandbox",
    .want = GUEST_("no host function 'HostAdd' is registered"), .check_code = true, .code = 8)
ROW(registered_function_answers, .fn = "HcHostAdd",
    .what = "control: the same call where HostAdd is registered", .want = OK_, .check_ret = true,
    .ret = 42)
ROW(unknown_name_of_63_characters_is_refused, .fn = "HcName63Unknown",
    .what = "63-character unknown name", .want = GUEST_("no host function 'ZZZZ"),
    .check_code = true, .code = 8)
ROW(wrong_argument_types_are_refused, .fn = "HcWrongArgTypes", .what = "HostAdd(i32, i64)",
    .want = GUEST_("called as (i32, i64)"), .check_code = true, .code = 8)
ROW(too_few_arguments_are_refused, .fn = "HcTooFewArgs", .what = "HostAdd(i64)",
    .want = GUEST_("called as (i64) -> i64"), .check_code = true, .code = 8)
ROW(too_many_arguments_are_refused, .fn = "HcTooManyArgs", .what = "HostAdd(i64, i64, i64)",
    .want = GUEST_("called as (i64, i64, i64)"), .check_code = true, .code = 8)
ROW(sixteen_string_arguments_are_refused, .fn = "HcSixteenArgs",
    .what = "HostAdd with 16 string arguments", .want = GUEST_("has signature (i64, i64) -> i64"),
    .check_code = true, .code = 8)
ROW(wrong_return_type_is_refused, .fn = "HcWrongReturnType", .what = "HostAdd expecting a string",
    .want = GUEST_("-> string"), .check_code = true, .code = 8)
ROW(print_with_a_wrong_return_type_is_refused, .fn = "HcPrintWrongReturnType",
    .what = "print expecting an i32", .want = GUEST_("called as (string) -> i32"),
    .check_code = true, .code = 8)
ROW(print_without_arguments_is_refused, .fn = "HcPrintNoArgs", .what = "print with no argument",
    .want = GUEST_("called as () -> void"), .check_code = true, .code = 8)
ROW(failing_function_reports_its_code, .fn = "HcFailingFunction", .what = "host function fails",
    .want = GUEST_("failed with code -3"), .check_code = true, .code = 8)
ROW(reply_larger_than_the_buffer_is_refused, .fn = "HcReplyTooBig",
    .what = "host reply larger than the buffer", .want = GUEST_("longer than the buffer"),
    .check_code = true, .code = 8)

/* Floods and recursion. */
ROW(ten_thousand_prints_all_reach_the_host, .fn = "Print10000",
    .what = "10000 print host calls in one call", .want = OK_, .check_ret = true, .ret = 10000,
    .timeout_ms = 5000, .max_ms = 2500, .check = check_print10000)
ROW(ten_thousand_calls_in_one_call_complete, .fn = "Add10000",
    .what = "10000 HostAdd host calls in one call", .want = OK_, .check_ret = true, .ret = 49995000,
    .timeout_ms = 5000, .max_ms = 2500, .check = check_add10000)
ROW(flood_of_calls_stops_at_the_timeout, .fn = "PrintForever",
    .what = "host calls forever, 150 ms timeout", .want = TIMEOUT_, .timeout_ms = 150,
    .min_ms = 135, .max_ms = 1500)
ROW(flood_of_calls_without_timeout_is_interruptible, .fn = "PrintForever",
    .what = "host calls forever, no timeout, interrupted after 50 ms", .want = INTR_,
    .timeout_ms = NO_TIMEOUT, .interrupt_ms = 50, .min_ms = 40, .max_ms = 1500)
ROW(host_function_may_call_another_sandbox, .fn = "CallReenter", A_I32(0), .peer = true,
    .what = "host function calls another sandbox of the same image", .want = OK_,
    .check = check_reenter_other)
ROW(reentering_the_calling_sandbox_is_ebusy, .fn = "CallReenter", A_I32(1), .peer = true,
    .what = "host function calls, restores and snapshots the calling sandbox: EBUSY", .want = OK_,
    .check = check_reenter_same)
ROW(reentry_cycle_back_to_a_busy_sandbox_is_ebusy, .fn = "CallReenter", A_I32(2), .peer = true,
    .what = "A -> host -> B -> host -> A again: EBUSY, both calls complete", .want = OK_,
    .check = check_reenter_cycle)
