/* Hostile rows: RESULT and ABORT messages (the guest's last word), each refused or sanitised. */
#include "hostile.h"

#include <string.h>

#define HOSTILE_FAMILY results

TestSuite(hostile_results, .fini = hostile_fini, .timeout = 60);

/* ---- extra checks for some rows ------------------------------------------------------------ */

static void check_messages_printable(struct run *r)
{
    cr_assert(hostile_printable(r->f.message), "'%s'", r->f.message);
    cr_assert(strlen(r->f.message) < sizeof r->f.message);
}

/* ---- the table ---------------------------------------------------------------------------- */

/* RESULT encodings (the function's declared type in parentheses in the guest). */
ROW(random_bytes_are_a_protocol_error, .fn = "ResGarbage",
    .what = "4 KiB of random bytes as the result", .want = PROTO_("malformed call result"))
ROW(all_zero_message_is_a_protocol_error, .fn = "ResAllZero", .what = "an all-zero result (size 0)",
    .want = PROTO_("smaller than its header"))
ROW(truncated_message_is_a_protocol_error, .fn = "ResTruncated",
    .what = "result cut off after the value header", .want = PROTO_("extends past the message"))
ROW(size_inside_header_is_a_protocol_error, .fn = "ResSizeInsideHeader",
    .what = "size 8: the message ends inside its own header",
    .want = PROTO_("smaller than its header"))
ROW(oversized_length_is_a_protocol_error, .fn = "ResOversized", .what = "size = buffer size + 8",
    .want = PROTO_("exceeds the buffer"))
ROW(size_ffffffff_is_a_protocol_error, .fn = "ResSizeFFFFFFFF", .what = "size 0xffffffff",
    .want = PROTO_("exceeds the buffer"))
ROW(size_near_4g_does_not_wrap_and_is_a_protocol_error, .fn = "ResSizeNear4G",
    .what = "size 2^32-8 (wraps 32-bit sums)", .want = PROTO_("exceeds the buffer"))
ROW(size_unaligned_is_a_protocol_error, .fn = "ResSizeUnaligned",
    .what = "size not a multiple of 8", .want = PROTO_("multiple of 8"))
ROW(trailing_bytes_are_a_protocol_error, .fn = "ResTrailingBytes",
    .what = "size larger than the values", .want = PROTO_("does not match its contents"))
ROW(value_outside_the_message_is_a_protocol_error, .fn = "ResSelfRefCount",
    .what = "count 1 but size 16: the value lies outside the message",
    .want = PROTO_("value header extends past"))
ROW(count_beyond_the_values_is_a_protocol_error, .fn = "ResCountGtContent",
    .what = "count 3, one value", .want = PROTO_("extends past the message"))
ROW(count_17_is_a_protocol_error, .fn = "ResCount17", .what = "17 values (limit 16)",
    .want = PROTO_("too many values"))
ROW(count_255_is_a_protocol_error, .fn = "ResCount255", .what = "255 values",
    .want = PROTO_("too many values"))
ROW(bytes_len_ffffffff_is_a_protocol_error, .fn = "ResBytesLenFFFFFFFF",
    .what = "bytes value len 0xffffffff", .want = PROTO_("extends past the message"))
ROW(bytes_len_wrapping_when_aligned_is_a_protocol_error, .fn = "ResBytesLenWrapsAlign",
    .what = "bytes len 2^32-7: rounding up wraps to 0 in 32 bits",
    .want = PROTO_("extends past the message"))
ROW(string_len_ffffffff_does_not_wrap_and_is_a_protocol_error, .fn = "ResStringLenFFFFFFFF",
    .what = "string len 0xffffffff: len+1 wraps to 0 in 32 bits",
    .want = PROTO_("extends past the message"))
ROW(string_without_room_for_its_nul_is_a_protocol_error, .fn = "ResStringLenWholeBuffer",
    .what = "string filling the buffer with no room for its NUL",
    .want = PROTO_("extends past the message"))
ROW(scalar_wrong_len_is_a_protocol_error, .fn = "ResScalarWrongLen", .what = "i32 of length 8",
    .want = PROTO_("wrong length"))
ROW(scalar_len_ffffffff_is_a_protocol_error, .fn = "ResScalarLenFFFFFFFF",
    .what = "i32 of length 0xffffffff", .want = PROTO_("wrong length"))
ROW(value_type_void_is_a_protocol_error, .fn = "ResValueTypeVoid", .what = "a value of type void",
    .want = PROTO_("unknown value type"))
ROW(value_type_200_is_a_protocol_error, .fn = "ResValueType200", .what = "a value of type 200",
    .want = PROTO_("unknown value type"))
ROW(reserved_header_byte_is_a_protocol_error, .fn = "ResReservedHeader",
    .what = "reserved header byte set", .want = PROTO_("reserved header byte"))
ROW(reserved_value_byte_is_a_protocol_error, .fn = "ResReservedValue",
    .what = "reserved value byte set", .want = PROTO_("reserved value bytes"))
ROW(nonzero_padding_is_a_protocol_error, .fn = "ResPaddingNonZero",
    .what = "non-zero value padding", .want = PROTO_("padding not zero"))
ROW(kind_zero_is_a_protocol_error, .fn = "ResKindZero", .what = "message kind 0",
    .want = PROTO_("unknown message kind"))
ROW(call_message_as_the_result_is_a_protocol_error, .fn = "ResKindCall",
    .what = "a CALL message as the result", .want = PROTO_("kind 1"))
ROW(hostresult_as_the_result_is_a_protocol_error, .fn = "ResKindHostResult",
    .what = "a HOSTRESULT as the result", .want = PROTO_("kind 4"))
ROW(kind_99_is_a_protocol_error, .fn = "ResKind99", .what = "message kind 99",
    .want = PROTO_("unknown message kind"))
ROW(name_length_on_a_result_is_a_protocol_error, .fn = "ResNameLenSet",
    .what = "name length on a RESULT", .want = PROTO_("name length set"))
ROW(i64_for_an_i32_function_is_a_protocol_error, .fn = "ResTypeI64ForI32",
    .what = "i64 result for an i32 function", .want = PROTO_("declared return type i32"))
ROW(f32_for_an_i32_function_is_a_protocol_error, .fn = "ResTypeF32ForI32",
    .what = "f32 result for an i32 function (same size)",
    .want = PROTO_("declared return type i32"))
ROW(bytes_for_a_string_function_is_a_protocol_error, .fn = "ResTypeBytesForString",
    .what = "bytes (invalid UTF-8) for a string function",
    .want = PROTO_("declared return type string"))
ROW(value_for_a_void_function_is_a_protocol_error, .fn = "ResValueForVoid",
    .what = "a value for a void function", .want = PROTO_("declared return type void"))
ROW(no_value_for_an_i32_function_is_a_protocol_error, .fn = "ResNoValue",
    .what = "no value for an i32 function", .want = PROTO_("declared return type i32"))
ROW(two_values_for_one_result_are_a_protocol_error, .fn = "ResCount2",
    .what = "two well-formed values", .want = PROTO_("declared return type i32"))
ROW(bool_value_2_is_a_protocol_error, .fn = "ResBoolTwo", .what = "bool value 2",
    .want = PROTO_("bool value"))
ROW(string_unterminated_is_a_protocol_error, .fn = "ResStrUnterminated",
    .what = "string without a NUL in its padding", .want = PROTO_("not NUL-terminated"))
ROW(string_nul_past_the_message_is_a_protocol_error, .fn = "ResStrNulOutsideMessage",
    .what = "string whose NUL lies past the message size", .want = PROTO_("extends past"))
ROW(string_overlong_2_is_a_protocol_error, .fn = "ResStrOverlong2", .what = "overlong 2-byte UTF-8",
    .want = PROTO_("valid UTF-8"))
ROW(string_overlong_3_is_a_protocol_error, .fn = "ResStrOverlong3", .what = "overlong 3-byte UTF-8",
    .want = PROTO_("valid UTF-8"))
ROW(string_overlong_4_is_a_protocol_error, .fn = "ResStrOverlong4", .what = "overlong 4-byte UTF-8",
    .want = PROTO_("valid UTF-8"))
ROW(string_surrogate_is_a_protocol_error, .fn = "ResStrSurrogate",
    .what = "UTF-8-encoded surrogate", .want = PROTO_("valid UTF-8"))
ROW(string_surrogate_pair_is_a_protocol_error, .fn = "ResStrSurrogatePair",
    .what = "CESU-8 surrogate pair", .want = PROTO_("valid UTF-8"))
ROW(string_lone_continuation_is_a_protocol_error, .fn = "ResStrLoneContinuation",
    .what = "lone continuation byte", .want = PROTO_("valid UTF-8"))
ROW(string_truncated_sequence_is_a_protocol_error, .fn = "ResStrTruncatedSequence",
    .what = "multi-byte sequence cut at the end", .want = PROTO_("valid UTF-8"))
ROW(string_above_10ffff_is_a_protocol_error, .fn = "ResStrAbove10FFFF",
    .what = "code point above U+10FFFF", .want = PROTO_("valid UTF-8"))
ROW(string_byte_ff_is_a_protocol_error, .fn = "ResStrByteFF", .what = "bytes 0xff 0xfe in a string",
    .want = PROTO_("valid UTF-8"))
ROW(string_embedded_nul_is_a_protocol_error, .fn = "ResStrEmbeddedNul",
    .what = "NUL inside a string", .want = PROTO_("NUL-free"))
ROW(error_without_a_message_is_a_protocol_error, .fn = "ResErrNoMessage",
    .what = "error status, no message", .want = PROTO_("without a message string"))
ROW(error_message_in_invalid_utf8_is_a_protocol_error, .fn = "ResErrMessageBadUtf8",
    .what = "error message with invalid UTF-8", .want = PROTO_("valid UTF-8"))
ROW(error_message_without_nul_is_a_protocol_error, .fn = "ResErrMessageUnterminated",
    .what = "error message without NUL", .want = PROTO_("not NUL-terminated"))
ROW(error_message_that_is_an_i32_is_a_protocol_error, .fn = "ResErrMessageI32",
    .what = "error 'message' that is an i32", .want = PROTO_("without a message string"))
ROW(error_with_two_messages_is_a_protocol_error, .fn = "ResErrTwoMessages",
    .what = "error with two messages", .want = PROTO_("without a message string"))
ROW(error_text_escapes_are_sanitised, .fn = "ResErrEscapes",
    .what = "error text with terminal escapes (sanitised)", .want = GUEST_("evil?[2J"),
    .check_code = true, .code = 7, .sanitized = true, .desync = true)
ROW(huge_error_text_is_cut_and_sanitised, .fn = "ResErrHugeMessage",
    .what = "16000-byte error text, status INT32_MIN", .want = GUEST_("MMMM"), .check_code = true,
    .code = INT32_MIN, .sanitized = true, .desync = true, .check = check_messages_printable)
ROW(non_ascii_error_text_is_sanitised, .fn = "ResErrUnicode", .what = "valid non-ASCII error text",
    .want = GUEST_("h??llo"), .check_code = true, .code = 3, .sanitized = true, .desync = true)
ROW(result_too_big_for_the_buffer_is_a_guest_error, .fn = "ReturnTooBig",
    .what = "result larger than the output buffer (runtime path)", .want = GUEST_("does not fit"))

/* ABORT encodings. */
ROW(abort_of_random_bytes_is_an_unreadable_abort, .fn = "AbGarbage",
    .what = "random bytes as an abort", .want = ABORT_("unreadable abort message"),
    .check_code = true, .code = 0, .sanitized = true)
ROW(abort_text_without_nul_still_aborts, .fn = "AbUnterminated", .what = "abort text without NUL",
    .want = ABORT_("not NUL-terminated"), .check_code = true, .code = 0)
ROW(budget_code_without_a_budget_is_an_abort, .fn = "AbBudgetCode",
    .what = "the reserved budget abort code outside a budget", .want = ABORT_("fake budget"),
    .check_code = true, .code = GLINT_ABI_ABORT_BUDGET)
ROW(abort_text_in_invalid_utf8_still_aborts, .fn = "AbInvalidUtf8",
    .what = "abort text with a surrogate", .want = ABORT_("valid UTF-8"), .check_code = true,
    .code = 0)
ROW(abort_size_ffffffff_still_aborts, .fn = "AbSizeFFFFFFFF", .what = "abort size 0xffffffff",
    .want = ABORT_("exceeds the buffer"), .check_code = true, .code = 0)
ROW(abort_message_that_is_an_i32_still_aborts, .fn = "AbMessageI32",
    .what = "abort 'message' that is an i32", .want = ABORT_("wrong shape"))
ROW(abort_without_a_message_still_aborts, .fn = "AbNoMessage", .what = "abort without a message",
    .want = ABORT_("wrong shape"))
ROW(abort_with_nothing_written_still_aborts, .fn = "AbStaleBuffer",
    .what = "abort exit with nothing written", .want = ABORT_("wrong shape"))
ROW(abort_text_escapes_are_sanitised, .fn = "AbEscapes",
    .what = "abort text with terminal escapes (sanitised)", .want = ABORT_("red"),
    .check_code = true, .code = 82, .sanitized = true)
ROW(abort_text_filling_the_buffer_is_sanitised, .fn = "AbRawHuge",
    .what = "valid abort text filling the buffer", .want = ABORT_("HHHH"), .check_code = true,
    .code = 83, .sanitized = true)
ROW(huge_formatted_abort_is_cut_and_sanitised, .fn = "AbHugeFormatted",
    .what = "glint_guest_abort with 100 KB of text", .want = ABORT_("huge:AAAA"),
    .check_code = true, .code = 43, .sanitized = true)
