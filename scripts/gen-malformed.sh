#!/usr/bin/env bash
# Regenerate the malformed-guest corpus tests/data/malformed/ from tests/data/gen-malformed.c,
# and the malformed-image-file corpus tests/data/malformed-gimg/ from gen-malformed-gimg.c.
#
# Usage: scripts/gen-malformed.sh           rewrite both corpora (files + MANIFEST)
#        scripts/gen-malformed.sh --check   only verify the committed corpora are up to date
# Each generator is built into $BUILD (default: build) with gcc. It runs twice
# and both outputs must be byte-identical (the corpus is deterministic).
set -eu

cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
CC=${GEN_CC:-gcc}
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

TMP=$(mktemp -d "${TMPDIR:-/tmp}/glint-gen-malformed.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# corpus NAME DIR SOURCES... [-lLIB]: build the generator, run it twice, check or write DIR.
corpus() {
    local name=$1 dir=$2 gen=$BUILD/$1
    shift 2
    echo "  CC      $gen"
    # shellcheck disable=SC2086
    $CC -std=c11 -D_GNU_SOURCE -O2 $WARN -Iinclude -Icommon -Isrc -Ithird_party/linux/include \
        "$@" -o "$gen"
    mkdir "$TMP/$name-a" "$TMP/$name-b"
    "$gen" "$TMP/$name-a" >/dev/null
    "$gen" "$TMP/$name-b" >/dev/null
    if ! same_dir "$TMP/$name-a" "$TMP/$name-b"; then
        echo "$name: two runs produced different output (not deterministic)" >&2
        exit 1
    fi
    local count
    count=$(wc -l <"$TMP/$name-a/MANIFEST")
    if [ "$mode" = check ]; then
        if [ -d "$dir" ] && same_dir "$TMP/$name-a" "$dir"; then
            echo "$name: $dir is up to date ($count cases)"
            return 0
        fi
        echo "$name: $dir is out of date; run scripts/gen-malformed.sh" >&2
        exit 1
    fi
    mkdir -p "$dir"
    find "$dir" -mindepth 1 -maxdepth 1 -type f -delete
    cp "$TMP/$name-a"/* "$dir"/
    echo "$name: wrote $count cases to $dir (deterministic: two runs identical)"
}

corpus gen-malformed "$CORPUS" tests/data/gen-malformed.c tests/unit/elf_builder.c
corpus gen-malformed-gimg tests/data/malformed-gimg tests/data/gen-malformed-gimg.c \
    tests/unit/gimg_builder.c -lz
