#!/usr/bin/env bash
# End-to-end tests of the glint CLI: scripts/cli-tests.sh BUILD_DIR (default: build).
#
# Runs build/bin/glint on build/guests/hello.elf and, if present, on
# build/tests/guests/faults.elf. Cases that need a VM are skipped (loudly) when
# /dev/kvm is not usable; with GLINT_REQUIRE_KVM=1 that skip is a failure.
# GLINT_CLI_VALGRIND=1 also runs a few cases under valgrind to check for leaks.
set -u

BUILD=${1:-build}
GLINT=$BUILD/bin/glint
HELLO=$BUILD/guests/hello.elf
FAULTS=$BUILD/tests/guests/faults.elf
STATEFUL=$BUILD/tests/guests/stateful.elf
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)

pass=0
fail=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/glint-cli-tests.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

note() { printf 'cli-tests: %s\n' "$*"; }

bad() {
    fail=$((fail + 1))
    printf 'FAIL: %s\n' "$1"
    shift
    local line
    for line in "$@"; do
        printf '      %s\n' "$line"
    done
}

good() { pass=$((pass + 1)); }

# Show a file's first lines, indented, for failure reports.
show() {
    if [ -s "$2" ]; then
        printf '      %s:\n' "$1"
        head -n 5 "$2" | cut -c1-200 | sed 's/^/        | /'
    else
        printf '      %s: (empty)\n' "$1"
    fi
}

# check NAME WANT_STATUS WANT_STDOUT CMD...
#   Runs CMD (under `timeout 10`), with stdout/stderr in $TMP/out and $TMP/err.
#   WANT_STDOUT: '-' (not checked), '@empty' (no output at all) or the exact
#   text stdout must hold, followed by one newline.
#   On success stderr must be empty; on failure it must be exactly one line
#   starting with "glint: ".
check() {
    local name=$1 want_rc=$2 want_out=$3
    shift 3
    local rc=0
    timeout 10 "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
    local problems=()
    if [ "$rc" -ne "$want_rc" ]; then
        if [ "$rc" -eq 124 ]; then
            problems+=("timed out after 10 s (wanted exit $want_rc)")
        elif [ "$rc" -gt 128 ]; then
            problems+=("killed by signal $((rc - 128)) (wanted exit $want_rc)")
        else
            problems+=("exit status $rc, wanted $want_rc")
        fi
    fi
    case $want_out in
    -) ;;
    @empty)
        [ -s "$TMP/out" ] && problems+=("stdout should be empty")
        ;;
    *)
        printf '%s\n' "$want_out" >"$TMP/want"
        cmp -s "$TMP/want" "$TMP/out" || problems+=("stdout should be exactly: $want_out")
        ;;
    esac
    if [ "$rc" -eq 0 ]; then
        [ -s "$TMP/err" ] && problems+=("stderr should be empty on success")
    else
        local lines
        lines=$(wc -l <"$TMP/err")
        if [ "$lines" -ne 1 ] || [ "$(tail -c 1 "$TMP/err" | od -An -c | tr -d ' ')" != '\n' ]; then
            problems+=("stderr should be exactly one line (has $lines newline(s))")
        fi
        head -n 1 "$TMP/err" | grep -q '^glint: ' ||
            problems+=("stderr should start with 'glint: '")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        good
        return 0
    fi
    bad "$name" "command: $*" "${problems[@]}"
    show stdout "$TMP/out"
    show stderr "$TMP/err"
    return 1
}

# expect_line NAME TEXT FILE: TEXT must be a whole line of FILE.
expect_line() {
    if grep -qxF -- "$2" "$3"; then
        good
    else
        bad "$1" "missing line: $2"
        show output "$3"
    fi
}

# expect_grep NAME TEXT FILE: TEXT must occur in FILE.
expect_grep() {
    if grep -qF -- "$2" "$3"; then
        good
    else
        bad "$1" "missing text: $2"
        show output "$3"
    fi
}

# plausible_args SIGNATURE_LINE: one valid argument per parameter, as words.
plausible_args() {
    local params=${1#*(}
    params=${params%%)*}
    local t out=()
    local IFS=', '
    for t in $params; do
        case $t in
        i32 | u32 | i64 | u64) out+=(1) ;;
        f32 | f64) out+=(1.5) ;;
        bool) out+=(true) ;;
        string) out+=(abc) ;;
        bytes) out+=(00ff) ;;
        *) out+=(1) ;;
        esac
    done
    [ ${#out[@]} -eq 0 ] || printf '%s\n' "${out[@]}"
}

# ---- preconditions ------------------------------------------------------------
if [ ! -x "$GLINT" ]; then
    note "$GLINT not found; build it first (make)"
    echo "cli-tests: 0 passed, 1 failed"
    exit 1
fi
if [ ! -f "$HELLO" ]; then
    bad "hello guest exists" "$HELLO not found; build it first (make)"
fi

VERSION=$(sed -n 's/^#define GLINT_VERSION_STRING "\(.*\)"$/\1/p' \
    "$SRCDIR/include/glint.h" 2>/dev/null)
VERSION=${VERSION:-0.1.0}

# Files that are not guests.
printf 'just some text\n' >"$TMP/text.txt"
: >"$TMP/empty.elf"
mkdir "$TMP/dir.elf"
if [ -f "$HELLO" ]; then
    head -c 100 "$HELLO" >"$TMP/truncated.elf"
    head -c 1000 "$HELLO" >"$TMP/truncated1k.elf"
fi

# ---- no KVM needed: help, version, usage errors ---------------------------------
check "--help" 0 - "$GLINT" --help && {
    expect_grep "--help lists run" "run" "$TMP/out"
    expect_grep "--help lists inspect" "inspect" "$TMP/out"
    expect_grep "--help lists exit statuses" "Exit status" "$TMP/out"
}
check "-h" 0 - "$GLINT" -h
check "help" 0 - "$GLINT" help
check "help run" 0 - "$GLINT" help run && {
    expect_grep "run help lists --timeout-ms" "--timeout-ms" "$TMP/out"
    expect_grep "run help lists --heap" "--heap" "$TMP/out"
    expect_grep "run help lists --stack" "--stack" "$TMP/out"
}
check "help inspect" 0 - "$GLINT" help inspect
check "run --help" 0 - "$GLINT" run --help
check "run -h" 0 - "$GLINT" run -h
check "inspect --help" 0 - "$GLINT" inspect --help
check "--version" 0 "glint $VERSION" "$GLINT" --version
if [ -w /dev/full ]; then
    # shellcheck disable=SC2016
    check "--version >/dev/full: write error" 1 - sh -c '"$1" --version >/dev/full' sh "$GLINT"
    # shellcheck disable=SC2016
    check "--help >/dev/full: write error" 1 - sh -c '"$1" --help >/dev/full' sh "$GLINT"
fi
# A reader that goes away early must not kill glint with SIGPIPE.
no_signal() {
    local name=$1
    shift
    timeout 10 "$@" 2>/dev/null </dev/null | head -c 0
    local rc=${PIPESTATUS[0]}
    if [ "$rc" -lt 124 ]; then good; else bad "$name" "exit status $rc (signal or hang)"; fi
}
no_signal "--help into a closed pipe" "$GLINT" --help

check "no command" 2 @empty "$GLINT"
check "unknown command" 2 @empty "$GLINT" frobnicate
check "unknown global option" 2 @empty "$GLINT" --frobnicate
check "help unknown topic" 2 @empty "$GLINT" help frobnicate
check "run: no operands" 2 @empty "$GLINT" run
check "run: unknown option" 2 @empty "$GLINT" run --frobnicate "$HELLO" Add 2 3
check "run: -x unknown option" 2 @empty "$GLINT" run -x "$HELLO" Add 2 3
check "run: missing FUNCTION" 2 @empty "$GLINT" run "$HELLO"
check "run: only --" 2 @empty "$GLINT" run --
check "run: --heap 0" 2 @empty "$GLINT" run --heap 0 "$HELLO" Add 2 3
check "run: --heap abc" 2 @empty "$GLINT" run --heap abc "$HELLO" Add 2 3
check "run: --heap=12Q" 2 @empty "$GLINT" run --heap=12Q "$HELLO" Add 2 3
check "run: --heap K" 2 @empty "$GLINT" run --heap K "$HELLO" Add 2 3
check "run: --heap -1" 2 @empty "$GLINT" run --heap -1 "$HELLO" Add 2 3
check "run: --heap overflow" 2 @empty "$GLINT" run --heap 99999999999999999999 "$HELLO" Add 2 3
check "run: --heap 17179869184G overflow" 2 @empty \
    "$GLINT" run --heap 17179869184G "$HELLO" Add 2 3
check "run: --heap 1G out of range" 2 @empty "$GLINT" run --heap 1G "$HELLO" Add 2 3
check "run: --stack 1 below minimum" 2 @empty "$GLINT" run --stack 1 "$HELLO" Add 2 3
check "run: --heap missing value" 2 @empty "$GLINT" run --heap
check "run: --heap= empty" 2 @empty "$GLINT" run --heap= "$HELLO" Add 2 3
check "run: --timeout-ms abc" 2 @empty "$GLINT" run --timeout-ms abc "$HELLO" Add 2 3
check "run: --timeout-ms=-1" 2 @empty "$GLINT" run --timeout-ms=-1 "$HELLO" Add 2 3
check "run: --timeout-ms 4294967296" 2 @empty \
    "$GLINT" run --timeout-ms 4294967296 "$HELLO" Add 2 3
check "run: --help=x" 2 @empty "$GLINT" run --help=x "$HELLO" Add 2 3
check "inspect: no operand" 2 @empty "$GLINT" inspect
check "inspect: two operands" 2 @empty "$GLINT" inspect "$HELLO" "$HELLO"
check "inspect: unknown option" 2 @empty "$GLINT" inspect --frobnicate "$HELLO"

# ---- no KVM needed: guest files -----------------------------------------------------
check "inspect: nonexistent file" 3 @empty "$GLINT" inspect "$TMP/no/such.elf"
check "inspect: text file" 3 @empty "$GLINT" inspect "$TMP/text.txt"
check "inspect: empty file" 3 @empty "$GLINT" inspect "$TMP/empty.elf"
check "inspect: directory" 3 @empty "$GLINT" inspect "$TMP/dir.elf"
[ -r /etc/hostname ] && check "inspect: /etc/hostname" 3 @empty "$GLINT" inspect /etc/hostname
check "run: nonexistent file" 3 @empty "$GLINT" run "$TMP/no/such.elf" Add 2 3
check "run: text file" 3 @empty "$GLINT" run "$TMP/text.txt" Add 2 3
check "run: empty file" 3 @empty "$GLINT" run "$TMP/empty.elf" Add 2 3
[ -r /etc/hostname ] && check "run: /etc/hostname" 3 @empty "$GLINT" run /etc/hostname Add 2 3
check "run: newline in path stays one line" 3 @empty "$GLINT" run "$TMP/a
b.elf" Add 2 3

# The malformed-guest corpus (scripts/gen-malformed.sh): each file is rejected
# before any VM exists, with exit 3 and one line naming the listed problem.
MALFORMED=$SRCDIR/tests/data/malformed
if [ -f "$MALFORMED/MANIFEST" ]; then
    ncorpus=0
    while read -r mfile mcode mmsg; do
        ncorpus=$((ncorpus + 1))
        case $mcode in
        EELF) mkind="malformed guest ELF" ;;
        EABI) mkind="guest ABI missing or mismatched" ;;
        *)
            bad "corpus MANIFEST line $ncorpus" "unknown code '$mcode' for $mfile"
            continue
            ;;
        esac
        for mcmd in inspect run; do
            margs=("$MALFORMED/$mfile")
            [ "$mcmd" = run ] && margs+=(Foo)
            if check "$mcmd: malformed $mfile" 3 @empty "$GLINT" "$mcmd" "${margs[@]}"; then
                expect_grep "$mcmd: malformed $mfile: $mcode" "$mkind" "$TMP/err"
                expect_grep "$mcmd: malformed $mfile: message" "$mmsg" "$TMP/err"
            fi
        done
    done <"$MALFORMED/MANIFEST"
    if [ "$ncorpus" -ge 40 ]; then
        good
    else
        bad "malformed corpus size" "$MALFORMED/MANIFEST lists $ncorpus files, want >= 40"
    fi
else
    bad "malformed corpus exists" "$MALFORMED/MANIFEST not found (run scripts/gen-malformed.sh)"
fi

# The malformed-image-file corpus (scripts/gen-malformed.sh): the same, for .gimg files.
MALFORMED_GIMG=$SRCDIR/tests/data/malformed-gimg
if [ -f "$MALFORMED_GIMG/MANIFEST" ]; then
    ngimg=0
    while read -r mfile mcode mmsg; do
        ngimg=$((ngimg + 1))
        case $mcode in
        EIMAGE) mkind="malformed image file" ;;
        EABI) mkind="guest ABI missing or mismatched" ;;
        *)
            bad "gimg corpus MANIFEST line $ngimg" "unknown code '$mcode' for $mfile"
            continue
            ;;
        esac
        for mcmd in inspect run; do
            margs=("$MALFORMED_GIMG/$mfile")
            [ "$mcmd" = run ] && margs+=(Foo)
            if check "$mcmd: malformed $mfile" 3 @empty "$GLINT" "$mcmd" "${margs[@]}"; then
                expect_grep "$mcmd: malformed $mfile: $mcode" "$mkind" "$TMP/err"
                expect_grep "$mcmd: malformed $mfile: message" "$mmsg" "$TMP/err"
            fi
        done
    done <"$MALFORMED_GIMG/MANIFEST"
    if [ "$ngimg" -ge 50 ]; then good; else bad "gimg corpus size" "$ngimg files, want >= 50"; fi
else
    bad "malformed image corpus exists" "$MALFORMED_GIMG/MANIFEST not found (run scripts/gen-malformed.sh)"
fi

HELLO_FUNCS=()
if [ -f "$HELLO" ]; then
    check "inspect: truncated guest (100 bytes)" 3 @empty "$GLINT" inspect "$TMP/truncated.elf"
    check "inspect: truncated guest (1000 bytes)" 3 @empty "$GLINT" inspect "$TMP/truncated1k.elf"
    check "run: truncated guest (100 bytes)" 3 @empty "$GLINT" run "$TMP/truncated.elf" Add 2 3
    check "run: truncated guest (1000 bytes)" 3 @empty \
        "$GLINT" run "$TMP/truncated1k.elf" Add 2 3
    if check "inspect hello.elf" 0 - "$GLINT" inspect "$HELLO"; then
        cp "$TMP/out" "$TMP/hello.sigs"
        expect_line "hello.elf exports Echo" "Echo(string) -> string" "$TMP/hello.sigs"
        expect_line "hello.elf exports Add" "Add(i32, i32) -> i32" "$TMP/hello.sigs"
        types='i32|u32|i64|u64|f32|f64|bool|string|bytes'
        sig_re="^[A-Za-z0-9_.]+\\((($types)(, )?)*\\) -> (void|$types)\$"
        if grep -qvE "$sig_re" "$TMP/hello.sigs"; then
            bad "inspect line format" "lines not of the form 'Name(type, ...) -> type'"
            show output "$TMP/hello.sigs"
        else
            good
        fi
        mapfile -t HELLO_FUNCS <"$TMP/hello.sigs"
    fi
    check "inspect -- hello.elf" 0 - "$GLINT" inspect -- "$HELLO"

    # Arguments are checked against the signature before any VM is created.
    check "run: unknown function" 2 @empty "$GLINT" run "$HELLO" NoSuch
    check "run: empty function name" 2 @empty "$GLINT" run "$HELLO" ""
    check "run: Add 2 (too few)" 2 @empty "$GLINT" run "$HELLO" Add 2
    check "run: Add 1 2 3 (too many)" 2 @empty "$GLINT" run "$HELLO" Add 1 2 3
    check "run: Add x 3" 2 @empty "$GLINT" run "$HELLO" Add x 3
    check "run: Add 99999999999 1" 2 @empty "$GLINT" run "$HELLO" Add 99999999999 1
    check "run: Add 2147483648 0" 2 @empty "$GLINT" run "$HELLO" Add 2147483648 0
    check "run: Add -2147483649 0" 2 @empty "$GLINT" run "$HELLO" Add -2147483649 0
    check "run: Add '' 1" 2 @empty "$GLINT" run "$HELLO" Add "" 1
    check "run: Add ' 1' 1" 2 @empty "$GLINT" run "$HELLO" Add " 1" 1
    check "run: Add 1.5 1" 2 @empty "$GLINT" run "$HELLO" Add 1.5 1
    check "run: Add 0x 1" 2 @empty "$GLINT" run "$HELLO" Add 0x 1
    check "run: Add 0xfffffffff 1" 2 @empty "$GLINT" run "$HELLO" Add 0xfffffffff 1
    check "run: Add - 1" 2 @empty "$GLINT" run "$HELLO" Add - 1
    check "run: Echo with invalid UTF-8" 2 @empty "$GLINT" run "$HELLO" Echo "$(printf 'a\377b')"
    check "run: Echo with no argument" 2 @empty "$GLINT" run "$HELLO" Echo
    long=$(head -c 5000 /dev/zero | tr '\0' 'x')
    check "run: very long function name" 2 @empty "$GLINT" run "$HELLO" "$long"
    check "run: very long bad argument" 2 @empty "$GLINT" run "$HELLO" Add "$long" 1
    if [ "$(wc -c <"$TMP/err")" -gt 400 ]; then
        bad "error line is cut to a reasonable length" "stderr has $(wc -c <"$TMP/err") bytes"
    else
        good
    fi

    # Every function: wrong argument count, and a bad argument for each typed parameter.
    for sig in "${HELLO_FUNCS[@]+"${HELLO_FUNCS[@]}"}"; do
        fname=${sig%%(*}
        mapfile -t fargs < <(plausible_args "$sig")
        check "run: $fname with one argument too many" 2 @empty \
            "$GLINT" run "$HELLO" "$fname" "${fargs[@]+"${fargs[@]}"}" 1
        params=${sig#*(}
        params=${params%%)*}
        i=0
        IFS=', ' read -r -a ptypes <<<"$params"
        for t in "${ptypes[@]+"${ptypes[@]}"}"; do
            case $t in
            i32 | i64 | f32 | f64) badv=zz ;;
            u32 | u64) badv=-1 ;;
            bool) badv=yes ;;
            bytes) badv=abc ;;
            *) badv= ;;
            esac
            if [ -n "$badv" ]; then
                bargs=("${fargs[@]}")
                bargs[i]=$badv
                check "run: $fname with bad $t argument $((i + 1)) '$badv'" 2 @empty \
                    "$GLINT" run "$HELLO" "$fname" "${bargs[@]}"
            fi
            i=$((i + 1))
        done
    done
fi

# ---- VM cases ---------------------------------------------------------------------------
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    HAVE_KVM=1
else
    HAVE_KVM=0
    echo
    echo "*** SKIPPED: cli VM tests: /dev/kvm missing ***"
    echo
    if [ -f "$HELLO" ]; then
        check "run without KVM: exit 3" 3 @empty "$GLINT" run "$HELLO" Add 2 3
    fi
    if [ "${GLINT_REQUIRE_KVM:-0}" = 1 ]; then
        bad "VM tests" "GLINT_REQUIRE_KVM=1 but /dev/kvm is not usable"
    fi
fi

if [ "$HAVE_KVM" = 1 ] && [ -f "$HELLO" ]; then
    check "run Echo hello" 0 "hello" "$GLINT" run "$HELLO" Echo hello
    check "run Echo '' prints nothing (an empty string, like void)" 0 @empty "$GLINT" run "$HELLO" Echo ""
    check "run Echo 'two words'" 0 "two words" "$GLINT" run "$HELLO" Echo "two words"
    check "run Echo UTF-8" 0 "héllo wörld ✓" "$GLINT" run "$HELLO" Echo "héllo wörld ✓"
    check "run Echo -5 (operands after FUNCTION are not options)" 0 "-5" \
        "$GLINT" run "$HELLO" Echo -5
    check "run Echo --heap" 0 "--heap" "$GLINT" run "$HELLO" Echo --heap
    check "run Add 2 3" 0 "5" "$GLINT" run "$HELLO" Add 2 3
    # --repeat: the result once on stdout, one timing line on stderr.
    rc=0
    timeout 20 "$GLINT" run --repeat 200 "$HELLO" Echo hi >"$TMP/out" 2>"$TMP/err" || rc=$?
    if [ "$rc" -eq 0 ] && [ "$(cat "$TMP/out")" = hi ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
        grep -q '^glint: 200 isolated calls of Echo (call + restore): min .* median .* p99 ' "$TMP/err"; then
        good
    else
        bad "run --repeat 200 Echo hi" "exit $rc"
        show stdout "$TMP/out"
        show stderr "$TMP/err"
    fi
    check "run --no-confine Add 2 3" 0 "5" "$GLINT" run --no-confine "$HELLO" Add 2 3
    check "info" 0 - "$GLINT" info
    expect_grep "info reports the MSR filter" "msr filter:     yes" "$TMP/out"
    expect_grep "info reports dirty tracking" "dirty tracking: yes" "$TMP/out"
    check "info with an operand" 2 @empty "$GLINT" info extra
    check "run --repeat 0" 2 @empty "$GLINT" run --repeat 0 "$HELLO" Echo hi
    check "run --repeat x" 2 @empty "$GLINT" run --repeat x "$HELLO" Echo hi
    check "run Add -2 -3" 0 "-5" "$GLINT" run "$HELLO" Add -2 -3
    check "run Add 0x10 1" 0 "17" "$GLINT" run "$HELLO" Add 0x10 1
    check "run Add 2147483647 0" 0 "2147483647" "$GLINT" run "$HELLO" Add 2147483647 0
    check "run Add -2147483648 0" 0 "-2147483648" "$GLINT" run "$HELLO" Add -2147483648 0
    check "run -- hello.elf Add 2 3" 0 "5" "$GLINT" run -- "$HELLO" Add 2 3
    check "run with all options" 0 "5" \
        "$GLINT" run --timeout-ms 5000 --heap 1M --stack 128K --input-size 64K \
        --output-size=64K "$HELLO" Add 2 3
    check "run --timeout-ms=0 (no limit)" 0 "5" "$GLINT" run --timeout-ms=0 "$HELLO" Add 2 3
    # lua.elf declares its sizes (heap 16M, stack 256K, input 64K): no flags needed.
    LUA=$BUILD/guests/lua.elf
    check "run lua.elf without size flags" 0 "200000" \
        "$GLINT" run "$LUA" Eval 'local t = {} for i = 1, 200000 do t[i] = i end return #t'
    check "run lua.elf --heap 1M overrides its default" 1 @empty \
        "$GLINT" run --heap 1M "$LUA" Eval 'local t = {} for i = 1, 1e6 do t[i] = ("x"):rep(32) .. i end'
    expect_grep "run lua.elf --heap 1M: not enough memory" "not enough memory" "$TMP/err"
    check "run --budget: an infinite loop" 1 @empty \
        "$GLINT" run --budget 100000 "$LUA" Eval 'while true do end'
    expect_grep "run --budget: the budget kind" "budget: guest call exceeded its instruction budget of 100000" "$TMP/err"
    check "run --budget: a short script" 0 "500500" \
        "$GLINT" run --budget=100000 "$LUA" Eval 'local s = 0 for i = 1, 1000 do s = s + i end return s'
    check "run --budget: a JavaScript infinite loop" 1 @empty \
        "$GLINT" run --budget 100000 "$BUILD/guests/js.elf" Eval 'for (;;) {}'
    expect_grep "run --budget: JavaScript, the budget kind" "budget: guest call exceeded its instruction budget of 100000" "$TMP/err"
    check "run --budget on a guest that does not enforce one" 2 @empty \
        "$GLINT" run --budget 1000 "$HELLO" Add 2 3
    expect_grep "run --budget on hello.elf: says why" "does not enforce an instruction budget" "$TMP/err"
    check "run --budget x" 2 @empty "$GLINT" run --budget x "$HELLO" Add 2 3
    check "run --budget without a value" 2 @empty "$GLINT" run --budget
    check "run --heap 4096" 0 "5" "$GLINT" run --heap 4096 "$HELLO" Add 2 3
    if [ -w /dev/full ]; then
        # shellcheck disable=SC2016
        check "run Echo >/dev/full: write error" 1 - \
            sh -c '"$1" run "$2" Echo hello >/dev/full' sh "$GLINT" "$HELLO"
    fi
    no_signal "run into a closed pipe" "$GLINT" run "$HELLO" Echo "$long"

    # Every exported function, called with plausible arguments, must succeed or
    # report a guest failure (its meaning is unknown here), never crash or hang.
    for sig in "${HELLO_FUNCS[@]+"${HELLO_FUNCS[@]}"}"; do
        fname=${sig%%(*}
        mapfile -t fargs < <(plausible_args "$sig")
        rc=0
        timeout 10 "$GLINT" run --timeout-ms 2000 "$HELLO" "$fname" \
            "${fargs[@]+"${fargs[@]}"}" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
        if [ "$rc" -eq 0 ] && [ ! -s "$TMP/err" ]; then
            good
        elif [ "$rc" -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
            grep -q '^glint: ' "$TMP/err"; then
            good
        else
            bad "run $fname ${fargs[*]+"${fargs[*]}"}" \
                "exit status $rc (wanted 0, or 1 with one error line)"
            show stderr "$TMP/err"
        fi
    done

    if [ "${GLINT_CLI_VALGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
        vg() {
            local rc=0
            valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
                --error-exitcode=99 "$GLINT" "$@" >/dev/null 2>"$TMP/vg" || rc=$?
            if [ "$rc" -eq 99 ]; then
                bad "valgrind: glint $*" "valgrind reported errors"
                show valgrind "$TMP/vg"
            else
                good
            fi
        }
        vg run "$HELLO" Echo hello
        vg run "$HELLO" Add x 3
        vg inspect "$HELLO"
        vg run "$TMP/text.txt" Add 1 2
    fi
fi

# ---- fault and timeout guests ----------------------------------------------------------------
if [ "$HAVE_KVM" = 1 ] && [ -f "$FAULTS" ] &&
    "$GLINT" inspect "$FAULTS" >"$TMP/faults.sigs" 2>/dev/null; then
    nd=$(grep -m1 '^NullDeref(' "$TMP/faults.sigs")
    if [ -n "$nd" ]; then
        mapfile -t fargs < <(plausible_args "$nd")
        check "run faults.elf NullDeref" 1 - \
            "$GLINT" run "$FAULTS" NullDeref "${fargs[@]+"${fargs[@]}"}" &&
            expect_grep "fault report names the vector" "#" "$TMP/err"
    else
        note "note: $FAULTS has no NullDeref; fault case skipped"
    fi
    sp=$(grep -m1 '^Spin(' "$TMP/faults.sigs")
    if [ -n "$sp" ]; then
        mapfile -t fargs < <(plausible_args "$sp")
        start=$(date +%s%N)
        check "run --timeout-ms 100 faults.elf Spin" 1 - \
            "$GLINT" run --timeout-ms 100 "$FAULTS" Spin "${fargs[@]+"${fargs[@]}"}"
        ms=$((($(date +%s%N) - start) / 1000000))
        if [ "$ms" -lt 5000 ]; then
            good
        else
            bad "Spin with --timeout-ms 100 ends within 5 s" "took $ms ms"
        fi
    else
        note "note: $FAULTS has no Spin; timeout case skipped"
    fi
elif [ "$HAVE_KVM" = 1 ]; then
    note "note: $FAULTS not found or unreadable; NullDeref and Spin cases skipped"
fi

# ---- confinement of guest init (issue 7, item 8) ----------------------------------------------
# While `glint run` initialises a guest whose glint_guest_init spins, the thread
# running it must already be under the seccomp filter (Seccomp: 2).
INITSPIN=$BUILD/tests/guests/initspin.elf
# running_thread_has_seccomp PID MODE: sample PID's threads until a running one
# has "Seccomp: MODE", the process ends, or about 3 s pass; the samples
# (task:state/seccomp) are left in $seen. Ends the process either way.
running_thread_has_seccomp() {
    local pid=$1 mode=$2 found=1 st state sc tid
    seen=""
    for _ in $(seq 1 60); do
        for st in /proc/"$pid"/task/*/status; do
            [ -r "$st" ] || continue
            state=$(awk '/^State:/ {print $2}' "$st" 2>/dev/null)
            sc=$(awk '/^Seccomp:/ {print $2}' "$st" 2>/dev/null)
            [ -n "$state" ] || continue
            tid=${st#/proc/"$pid"/task/}
            seen="$seen ${tid%/status}:$state/$sc"
            if [ "$state" = R ] && [ "$sc" = "$mode" ]; then
                found=0
            fi
        done
        [ "$found" = 0 ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return "$found"
}
if [ "$HAVE_KVM" = 1 ] && [ -f "$INITSPIN" ]; then
    "$GLINT" run --timeout-ms 4000 "$INITSPIN" Ok >/dev/null 2>"$TMP/initspin.err" </dev/null &
    if running_thread_has_seccomp $! 2; then
        good
    else
        bad "run initspin.elf: the thread spinning in glint_guest_init is confined (Seccomp: 2)" \
            "samples (task:state/seccomp): $(printf '%s' "$seen" | cut -c1-300)"
    fi
    # --no-confine leaves it unconfined (the check above is not vacuous).
    "$GLINT" run --no-confine --timeout-ms 4000 "$INITSPIN" Ok >/dev/null 2>&1 </dev/null &
    if running_thread_has_seccomp $! 0; then
        good
    else
        bad "run --no-confine initspin.elf: init runs unconfined" \
            "samples (task:state/seccomp): $(printf '%s' "$seen" | cut -c1-300)"
    fi
elif [ "$HAVE_KVM" = 1 ]; then
    note "note: $INITSPIN not found; init confinement case skipped"
fi

# ---- issue 7 (items 5, 6, 15): special files, size limits, guest text -------------
# A FIFO as the guest: glint must fail at once (exit 3), not wait for a writer.
mkfifo "$TMP/fifo.elf"
check "inspect a FIFO fails, does not hang" 3 @empty "$GLINT" inspect "$TMP/fifo.elf" &&
    expect_grep "FIFO: message says not a regular file" "not a regular file" "$TMP/err"
check "run a FIFO fails, does not hang" 3 @empty "$GLINT" run "$TMP/fifo.elf" Add 2 3 &&
    expect_grep "run FIFO: message says not a regular file" "not a regular file" "$TMP/err"
check "inspect /dev/null fails" 3 @empty "$GLINT" inspect /dev/null

# Sizes: the CLI and the library apply one rule (round up to 4K, then the
# range), so a value the CLI accepts loads and one it refuses is a usage error.
check "run --max-image-memory 0: usage error" 2 @empty \
    "$GLINT" run --max-image-memory 0 "$HELLO" Add 2 3
check "run --max-image-memory 2G: usage error naming the range" 2 @empty \
    "$GLINT" run --max-image-memory 2G "$HELLO" Add 2 3 &&
    expect_grep "max-image-memory range named" "64K..1G" "$TMP/err"
check "run --stack 4K: usage error naming the minimum" 2 @empty \
    "$GLINT" run --stack 4K "$HELLO" Add 2 3 &&
    expect_grep "stack minimum named" "8K" "$TMP/err"
check "help run lists --max-image-memory" 0 - "$GLINT" help run &&
    expect_grep "run help: --max-image-memory" "--max-image-memory SIZE" "$TMP/out"
if [ "$HAVE_KVM" = 1 ] && [ -f "$HELLO" ]; then
    check "run --heap 1 rounds up and runs" 0 "5" "$GLINT" run --heap 1 "$HELLO" Add 2 3
    check "run --stack 8191 rounds up and runs" 0 "5" "$GLINT" run --stack 8191 "$HELLO" Add 2 3
    check "run --output-size 4095 rounds up and runs" 0 "5" \
        "$GLINT" run --output-size 4095 "$HELLO" Add 2 3
    check "run --input-size 4095 rounds up and runs" 0 "5" \
        "$GLINT" run --input-size=4095 "$HELLO" Add 2 3
    check "run --max-image-memory 1M hello.elf" 0 "5" \
        "$GLINT" run --max-image-memory 1M "$HELLO" Add 2 3
fi
BIGBSS=$BUILD/tests/guests/bigbss.elf
if [ "$HAVE_KVM" = 1 ] && [ -f "$BIGBSS" ]; then
    check "run bigbss.elf: over the default max_image_memory" 2 @empty \
        "$GLINT" run "$BIGBSS" Check 1 &&
        expect_grep "bigbss: names the limit" "16 MiB max_image_memory" "$TMP/err"
    check "run --max-image-memory 128M bigbss.elf" 0 "1" \
        "$GLINT" run --max-image-memory 128M "$BIGBSS" Check 1
fi

# Guest text on stdout: exact bytes into a pipe or file, control characters and
# invalid UTF-8 escaped as \xNN on a terminal (checked through `script`'s pty).
if [ "$HAVE_KVM" = 1 ] && [ -f "$HELLO" ]; then
    ESC=$(printf '\033')
    check "run Echo into a pipe: exact bytes" 0 "a${ESC}[31mb" \
        "$GLINT" run "$HELLO" Echo "a${ESC}[31mb"
    check "run Greet into a pipe: exact bytes" 0 "Hello, ${ESC}]0;x, from inside the sandbox!" \
        "$GLINT" run "$HELLO" Greet "${ESC}]0;x"
    if command -v script >/dev/null 2>&1; then
        cat >"$TMP/tty.sh" <<'TTY'
#!/bin/sh
# $1 glint, $2 guest, $3 function; the argument holds ESC, BEL and valid UTF-8.
arg=$(printf 'a\033[31m\007b\303\274')
exec "$1" run "$2" "$3" "$arg"
TTY
        for fn in Echo Greet; do
            rc=0
            timeout 10 script -qec "sh '$TMP/tty.sh' '$GLINT' '$HELLO' $fn" /dev/null \
                >"$TMP/tty.out" 2>&1 </dev/null || rc=$?
            if [ "$rc" -ne 0 ]; then
                bad "run $fn on a terminal" "exit status $rc"
                show output "$TMP/tty.out"
            elif grep -q "$ESC" "$TMP/tty.out" || grep -q "$(printf '\007')" "$TMP/tty.out"; then
                bad "run $fn on a terminal: control characters escaped" "raw ESC or BEL reached the terminal"
                show output "$TMP/tty.out"
            else
                good
                expect_grep "run $fn on a terminal: shown as \\xNN, UTF-8 kept" \
                    "$(printf 'a\\x1b[31m\\x07b\303\274')" "$TMP/tty.out"
            fi
        done
    else
        note "note: script (util-linux) not found; terminal escaping cases skipped"
    fi
fi

# --load FILE: Load(string) once, then every call from the derived image.
if [ "$HAVE_KVM" = 1 ] && [ -f "$STATEFUL" ]; then
    printf 'my script' >"$TMP/state.txt"
    check "run --load Get" 0 "loaded 1 0:my script" \
        "$GLINT" run --load "$TMP/state.txt" "$STATEFUL" Get
    check "run --load=FILE --no-confine Get" 0 "loaded 1 0:my script" \
        "$GLINT" run --no-confine --load="$TMP/state.txt" "$STATEFUL" Get
    # --repeat: each call's result on its own line (each from the loaded
    # state, though Scribble changes it), the timing line on stderr.
    rc=0
    timeout 20 "$GLINT" run --load "$TMP/state.txt" --repeat 3 "$STATEFUL" Scribble 2 \
        >"$TMP/out" 2>"$TMP/err" || rc=$?
    if [ "$rc" -eq 0 ] && [ "$(cat "$TMP/out")" = "$(printf '2\n2\n2')" ] &&
        [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
        grep -q '^glint: 3 isolated calls of Scribble (call + restore): min ' "$TMP/err"; then
        good
    else
        bad "run --load --repeat 3 Scribble 2" "exit $rc"
        show stdout "$TMP/out"
        show stderr "$TMP/err"
    fi
    rc=0
    timeout 20 "$GLINT" run --load "$TMP/state.txt" --repeat 4 "$STATEFUL" Get \
        >"$TMP/out" 2>"$TMP/err" || rc=$?
    want=$(printf 'loaded 1 0:my script\n%.0s' 1 2 3 4)
    if [ "$rc" -eq 0 ] && [ "$(cat "$TMP/out")" = "$want" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
        good
    else
        bad "run --load --repeat 4 Get: the loaded state every time" "exit $rc"
        show stdout "$TMP/out"
        show stderr "$TMP/err"
    fi
    check "run --load a directory" 2 @empty "$GLINT" run --load "$TMP" "$STATEFUL" Get
    expect_grep "run --load a directory: named" "is not a regular file" "$TMP/err"
    check "run --load a missing file" 2 @empty "$GLINT" run --load "$TMP/nope" "$STATEFUL" Get
    check "run --load /dev/null" 2 @empty "$GLINT" run --load /dev/null "$STATEFUL" Get
    check "run --load without a value" 2 @empty "$GLINT" run --load
    head -c 20000 /dev/zero | tr '\0' a >"$TMP/big.txt"
    check "run --load a file too big for the input buffer" 2 @empty \
        "$GLINT" run --load "$TMP/big.txt" "$STATEFUL" Get
    expect_grep "run --load too big: says so" "fit the input buffer" "$TMP/err"
    check "run --load a bigger input buffer" 0 - \
        "$GLINT" run --input-size 64K --heap 1M --load "$TMP/big.txt" "$STATEFUL" Scribble 0
    printf 'a\377b' >"$TMP/bad.txt"
    check "run --load non-UTF-8" 2 @empty "$GLINT" run --load "$TMP/bad.txt" "$STATEFUL" Get
    check "run --load on a guest without Load" 2 @empty \
        "$GLINT" run --load "$TMP/state.txt" "$HELLO" Echo hi
    expect_grep "run --load without Load: names the export" "Load(string) -> void" "$TMP/err"
    head -c 12000 /dev/zero | tr '\0' a >"$TMP/mid.txt"
    check "run --load where Load fails" 1 @empty \
        "$GLINT" run --heap 8K --load "$TMP/mid.txt" "$STATEFUL" Get
    expect_grep "run --load where Load fails: says Load" "Load failed" "$TMP/err"
fi

# The README's handler-script examples (examples/scripts/handler.*): the same commands, which
# must appear verbatim in README.md, and their output.
README=$(dirname "$0")/../README.md
for lang in lua js; do
    guest=$BUILD/guests/$lang.elf
    if [ "$HAVE_KVM" != 1 ] || [ ! -f "$guest" ]; then
        continue
    fi
    script=$(dirname "$0")/../examples/scripts/handler.$lang
    args='[{"name":"ada","tags":["a","b"]}]'
    if [ "$lang" = lua ]; then
        sizes="--heap 16M"
        want='["hello, ada",2,1]'
    else
        sizes="--heap 16M --stack 512K"
        want='{"greeting":"hello, ada","served":1,"words":2}'
    fi
    for repeat in "" "--repeat 3 "; do
        line="\$ build/bin/glint run $sizes --load examples/scripts/handler.$lang ${repeat}build/guests/$lang.elf Call handle '$args'"
        if grep -qxF -- "$line" "$README"; then
            good
        else
            bad "README has: $line" "missing"
        fi
    done
    # shellcheck disable=SC2086 # $sizes is two or four words
    check "README: $lang handler --load Call" 0 "$want" \
        "$GLINT" run $sizes --load "$script" "$guest" Call handle "$args"
    rc=0
    # shellcheck disable=SC2086
    timeout 20 "$GLINT" run $sizes --load "$script" --repeat 3 "$guest" Call handle "$args" \
        >"$TMP/out" 2>"$TMP/err" || rc=$?
    if [ "$rc" -eq 0 ] && [ "$(cat "$TMP/out")" = "$(printf '%s\n%s\n%s' "$want" "$want" "$want")" ] &&
        grep -q '^glint: 3 isolated calls of Call (call + restore): min ' "$TMP/err" &&
        [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
        good
    else
        bad "README: $lang handler --load --repeat 3 Call" "exit $rc"
        show stdout "$TMP/out"
        show stderr "$TMP/err"
    fi
done

# ---- image files: glint image build, and run/inspect of a .gimg ------------------------
check "image: no subcommand" 2 @empty "$GLINT" image
check "image: unknown subcommand" 2 @empty "$GLINT" image frob
check "image --help" 0 - "$GLINT" image --help
expect_grep "image --help: usage" "Usage: glint image build GUEST.elf [OPTIONS] -o FILE.gimg" "$TMP/out"
check "image build without -o" 2 @empty "$GLINT" image build "$HELLO"
expect_grep "image build without -o: says so" "missing -o FILE.gimg" "$TMP/err"
check "image build: unknown option" 2 @empty "$GLINT" image build --frob "$HELLO" -o "$TMP/x.gimg"
check "image build: two guests" 2 @empty "$GLINT" image build "$HELLO" "$HELLO" -o "$TMP/x.gimg"
check "image build: missing guest" 3 @empty "$GLINT" image build /nonexistent.elf -o "$TMP/x.gimg"
if [ "$HAVE_KVM" = 1 ] && [ -f "$HELLO" ]; then
    check "image build hello" 0 @empty "$GLINT" image build "$HELLO" -o "$TMP/hello.gimg"
    check "run hello.gimg Add 2 3" 0 "5" "$GLINT" run "$TMP/hello.gimg" Add 2 3
    check "run hello.gimg Echo" 0 "from a file" "$GLINT" run "$TMP/hello.gimg" Echo "from a file"
    check "run hello.gimg: unknown function" 2 @empty "$GLINT" run "$TMP/hello.gimg" Nope
    check "run --heap on hello.gimg: sizes are the file's" 2 @empty \
        "$GLINT" run --heap 1M "$TMP/hello.gimg" Add 2 3
    expect_grep "run --heap on a .gimg: names the field" "heap_size" "$TMP/err"
    check "inspect hello.gimg" 0 - "$GLINT" inspect "$TMP/hello.gimg"
    cp "$TMP/out" "$TMP/inspect-gimg"
    expect_grep "inspect .gimg: header facts" "image file: format 1, glint ABI " "$TMP/inspect-gimg"
    expect_grep "inspect .gimg: expected host functions" "host functions expected: none" \
        "$TMP/inspect-gimg"
    "$GLINT" inspect "$HELLO" >"$TMP/inspect-elf" 2>/dev/null
    if tail -n "$(wc -l <"$TMP/inspect-elf")" "$TMP/inspect-gimg" | cmp -s - "$TMP/inspect-elf"; then
        good
    else
        bad "inspect .gimg lists the ELF's exports" "$(diff "$TMP/inspect-elf" "$TMP/inspect-gimg")"
    fi
    size=$(stat -c %s "$TMP/hello.gimg")
    head -c $((size - 1)) "$TMP/hello.gimg" >"$TMP/trunc.gimg"
    check "run a truncated .gimg" 3 @empty "$GLINT" run "$TMP/trunc.gimg" Add 2 3
    expect_grep "truncated .gimg: says so" "truncated?" "$TMP/err"
    cp "$TMP/hello.gimg" "$TMP/flip.gimg"
    printf '\377' | dd of="$TMP/flip.gimg" bs=1 seek=$((size - 100)) conv=notrunc status=none
    check "run a .gimg with a flipped byte" 3 @empty "$GLINT" run "$TMP/flip.gimg" Add 2 3
    expect_grep "flipped .gimg: checksum" "header.checksum" "$TMP/err"
    cp "$TMP/hello.gimg" "$TMP/abi.gimg"
    printf '\177' | dd of="$TMP/abi.gimg" bs=1 seek=12 conv=notrunc status=none
    check "run a .gimg of another ABI version" 3 @empty "$GLINT" run "$TMP/abi.gimg" Add 2 3
    expect_grep "other ABI .gimg: names it" "header.abi_version 127" "$TMP/err"
    check "inspect a .gimg of another ABI version" 3 @empty "$GLINT" inspect "$TMP/abi.gimg"
    for lang in lua js; do
        guest=$BUILD/guests/$lang.elf
        [ -f "$guest" ] || continue
        script=$(dirname "$0")/../examples/scripts/handler.$lang
        args='[{"name":"ada","tags":["a","b"]}]'
        sizes="--heap 16M"
        [ "$lang" = js ] && sizes="--heap 16M --stack 512K"
        # shellcheck disable=SC2086
        "$GLINT" run $sizes --load "$script" "$guest" Call handle "$args" >"$TMP/want" 2>/dev/null
        # shellcheck disable=SC2086
        check "image build $lang --load handler" 0 @empty \
            "$GLINT" image build "$guest" --load "$script" $sizes -o "$TMP/$lang.gimg"
        check "run $lang.gimg Call handle: the --load result" 0 "$(cat "$TMP/want")" \
            "$GLINT" run "$TMP/$lang.gimg" Call handle "$args"
        check "image build $lang --load a missing script" 2 @empty \
            "$GLINT" image build "$guest" --load "$TMP/none.lua" -o "$TMP/none.gimg"
    done
    # The README's image-file example, verbatim, and its output.
    README=$(dirname "$0")/../README.md
    for line in "\$ build/bin/glint image build build/guests/lua.elf --heap 16M --load examples/scripts/handler.lua -o handler.gimg" \
        "\$ build/bin/glint run handler.gimg Call handle '[{\"name\":\"ada\",\"tags\":[\"a\",\"b\"]}]'"; do
        if grep -qxF -- "$line" "$README"; then good; else bad "README has: $line" "missing"; fi
    done
    if [ -f "$BUILD/guests/lua.elf" ]; then
        check "README: image build lua --load handler" 0 @empty "$GLINT" image build \
            "$BUILD/guests/lua.elf" --heap 16M --load "$(dirname "$0")/../examples/scripts/handler.lua" \
            -o "$TMP/handler.gimg"
        check "README: run handler.gimg" 0 '["hello, ada",2,1]' \
            "$GLINT" run "$TMP/handler.gimg" Call handle '[{"name":"ada","tags":["a","b"]}]'
    fi
    check "image build --load on a guest without Load" 2 @empty \
        "$GLINT" image build "$HELLO" --load "$TMP/hello.gimg" -o "$TMP/x.gimg"
    check "image build to a missing directory" 3 @empty \
        "$GLINT" image build "$HELLO" -o /nonexistent-dir/x.gimg
    expect_grep "image build to a missing directory: says why" "cannot write" "$TMP/err"
fi

# Error lines never carry raw control or non-UTF-8 bytes (here from the path).
check "inspect a path with a raw 0x9b byte" 3 @empty \
    "$GLINT" inspect "$(printf '/nonexistent/a\233\033b')"
if LC_ALL=C grep -q "$(printf '[\233\033]')" "$TMP/err"; then
    bad "error line has no raw 0x9b or ESC byte" "$(od -c "$TMP/err" | head -n 3)"
else
    good
fi

echo "cli-tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
