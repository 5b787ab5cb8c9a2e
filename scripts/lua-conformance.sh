#!/usr/bin/env bash
# Runs tests/lua/*.lua through build/guests/lua.elf's Eval and through native lua5.4 -e and
# requires byte-identical output (what print/io.write show plus Eval's result line).
# Usage: scripts/lua-conformance.sh [BUILD]
set -u
BUILD=${1:-build}
GLINT=$BUILD/bin/glint
GUEST=$BUILD/guests/lua.elf
cd "$(dirname "$0")/.." || exit 2
pass=0
fail=0
for f in tests/lua/*.lua; do
    src=$(cat "$f")
    # Byte-exact, trailing newlines included (the x keeps $(...) from stripping them); an
    # empty result prints nothing, so the outputs must be identical.
    want=$(lua5.4 -e "$src" 2>&1; echo x)
    got=$("$GLINT" run --heap 16M "$GUEST" Eval "$src" 2>&1; echo x)
    if [ "$got" == "$want" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $f"
        diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | head -n 20
    fi
done
echo "lua-conformance: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
