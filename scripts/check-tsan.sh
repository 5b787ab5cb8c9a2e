#!/usr/bin/env bash
# Builds the host library and VM tests with ThreadSanitizer into build/tsan; runs the pool, interrupt, deadline and hot-mode suites.
# Usage: scripts/check-tsan.sh [extra Criterion options]
# Exit status: 0 if the tests pass and TSan reports nothing, 1 otherwise.
set -u
cd "$(dirname "$0")/.." || exit 1
scripts/ensure-deps.sh tsan || exit 1
B=build/tsan
make --no-print-directory BUILD=$B EXTRA_CFLAGS="-fsanitize=thread -O1 -g" \
    EXTRA_LDFLAGS="-fsanitize=thread" all $B/tests/vm-tests $B/tests/whitebox-tests || exit 1

# Criterion's runner (BoxFort) maps two "arenas" with MAP_FIXED at random addresses in
# 0x2000'0000'0000..0x6000'0000'0000, three tries each. ThreadSanitizer (v2) only allows
# application mappings in a few ranges, of which 0x5500'0000'0000..0x5680'0000'0000 is the one
# in that window, so most starts die with "Could not initialize inheritable arena: Resource
# temporarily unavailable" or a SEGV in libcriterion (Criterion issue #274). BoxFort draws the
# address from rand_r(): this preloaded rand_r() steers it to 0x5660'0000'0000..0x5680'0000'0000,
# above where the kernel puts PIE executables. Nothing else in the test binary uses rand_r().
shim=$B/criterion-tsan-shim.so
cat >$B/criterion-tsan-shim.c <<'EOF'
/* rand_r() for BoxFort under TSan: arena slots (16 MiB units above 0x2000'0000'0000) that
 * TSan accepts. */
int rand_r(unsigned *seed);
int rand_r(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return 0x366000 + (int)((*seed >> 8) % 0x2000);
}
EOF
${CC:-cc} -shared -fPIC -O2 -o $shim $B/criterion-tsan-shim.c || exit 1

log=$B/tsan.log
: >"$log"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0 second_deadlock_stack=1}"
export GLINT_GUESTS=$B/guests GLINT_TEST_GUESTS=$B/tests/guests
EXTRA=("$@")
PREFIX=()

# suite BINARY FILTER
suite() {
    # (The extra `exit` keeps the subshell, which then reports a crash into the log.)
    ("${PREFIX[@]}" env LD_PRELOAD="$PWD/$shim" $B/tests/$1 --jobs=2 --filter="$2" \
        "${EXTRA[@]}"
        exit $?) >>"$log" 2>&1
}

run() {
    local ok=0
    suite vm-tests 'vm_pool/*' || ok=1
    suite whitebox-tests 'vm_interrupt/*' || ok=1
    suite vm-tests 'vm_deadline/*' || ok=1
    suite vm-tests 'vm_hot*/*' || ok=1
    # (not vm_deadline_tid: it forks after starting threads, which TSan does not support)
    return $ok
}

run
ok=$?
# Some kernels place mappings where TSan cannot shadow them ("FATAL: ThreadSanitizer:
# unexpected memory mapping"); without ASLR they fit.
if grep -q "unexpected memory mapping" "$log"; then
    echo "tsan: unexpected memory mapping; retrying with ASLR off (setarch -R)"
    : >"$log"
    PREFIX=(setarch "$(uname -m)" -R)
    run
    ok=$?
fi

grep -E '^\[(FAIL|----)\]|Synthesis|^vm_|arena' "$log" || true
reports=$(grep -c "WARNING: ThreadSanitizer" "$log")
if [ "$reports" -gt 0 ]; then
    echo "tsan: $reports report(s); the first:"
    sed -n '/WARNING: ThreadSanitizer/,/^SUMMARY/p' "$log" | head -80
fi
if [ $ok -eq 0 ] && [ "$reports" -eq 0 ]; then
    echo "tsan: clean (log: $log)"
    exit 0
fi
echo "tsan: NOT clean: tests $([ $ok -eq 0 ] && echo passed || echo failed)," \
    "$reports report(s) (log: $log)"
exit 1
