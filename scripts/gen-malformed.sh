#!/usr/bin/env bash
# Regenerate the malformed-guest corpus tests/data/malformed/ from tests/data/gen-malformed.c.
#
# Usage: scripts/gen-malformed.sh           rewrite tests/data/malformed/ (files + MANIFEST)
#        scripts/gen-malformed.sh --check   only verify the committed corpus is up to date
# The generator is built into $BUILD (default: build) with gcc. It runs twice
# and both outputs must be byte-identical (the corpus is deterministic).
set -eu

cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
CC=${GEN_CC:-gcc}
GEN=$BUILD/gen-malformed
CORPUS=tests/data/malformed
WARN="-Wall -Wextra -Wshadow -Wcast-qual -Wstrict-prototypes -Wmissing-prototypes -Werror"

mode="write"
case ${1:-} in
'') ;;
--check) mode="check" ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac

mkdir -p "$BUILD"
echo "  CC      $GEN"
# shellcheck disable=SC2086
$CC -std=c11 -D_GNU_SOURCE -O2 $WARN -Iinclude -Icommon -Isrc -Ithird_party/linux/include \
    tests/data/gen-malformed.c tests/unit/elf_builder.c -o "$GEN"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/glint-gen-malformed.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/a" "$TMP/b"
"$GEN" "$TMP/a" >/dev/null
"$GEN" "$TMP/b" >/dev/null

# same_dir A B: the two directories hold the same names with identical bytes.
same_dir() {
    local f
    [ "$(cd "$1" && find . -mindepth 1 | LC_ALL=C sort)" = \
        "$(cd "$2" && find . -mindepth 1 | LC_ALL=C sort)" ] || return 1
    for f in "$1"/*; do
        cmp -s "$f" "$2/${f##*/}" || return 1
    done
    [ -f "$1/MANIFEST" ]
}

if ! same_dir "$TMP/a" "$TMP/b"; then
    echo "gen-malformed: two runs produced different output (not deterministic)" >&2
    exit 1
fi
count=$(wc -l <"$TMP/a/MANIFEST")

if [ "$mode" = check ]; then
    if [ -d "$CORPUS" ] && same_dir "$TMP/a" "$CORPUS"; then
        echo "gen-malformed: $CORPUS is up to date ($count cases)"
        exit 0
    fi
    echo "gen-malformed: $CORPUS is out of date; run scripts/gen-malformed.sh" >&2
    exit 1
fi

mkdir -p "$CORPUS"
find "$CORPUS" -mindepth 1 -maxdepth 1 -type f -delete
cp "$TMP/a"/* "$CORPUS"/
echo "gen-malformed: wrote $count cases to $CORPUS (deterministic: two runs identical)"
