#!/usr/bin/env bash
# Runs tests/js/*.js through build/guests/js.elf's Eval and through native mujs and requires
# byte-identical output (what print/console.log show, errors, plus Eval's result line). Native
# mujs runs a copy named `eval` (the guest's chunk name, so stack traces match) in UTC (the
# guest's only zone).
# Usage: scripts/js-conformance.sh [BUILD]
set -u
BUILD=${1:-build}
GLINT=$(realpath "$BUILD/bin/glint")
GUEST=$(realpath "$BUILD/guests/js.elf")
cd "$(dirname "$0")/.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
for f in tests/js/*.js; do
    cp "$f" "$tmp/eval"
    # Byte-exact, trailing newlines included (the x keeps $(...) from stripping them); the
    # scripts end in a statement whose completion value is undefined, for which glint run
    # prints nothing, as mujs does.
    want=$(cd "$tmp" && TZ=UTC mujs eval 2>&1; echo x)
    got=$("$GLINT" run --heap 16M --stack 512K --input-size 64K "$GUEST" Eval "$(cat "$f")" 2>&1; echo x)
    if [ "$got" == "$want" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $f"
        diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | head -n 20
    fi
done
echo "js-conformance: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
