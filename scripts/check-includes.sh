#!/usr/bin/env bash
# Derive the include graph of include/, common/ and src/, and fail on a cycle between files or an
# include against the allowed directions (the same table is in docs/architecture.md).
#
# Nodes are modules: a .c file and the .h of the same name are one module (src/runtime/image.c
# and src/runtime/image.h are "src/runtime/image"), so that "image.c calls sandbox.c and
# sandbox.c calls image.c" shows as a cycle even though no header includes itself. An edge
# A -> B means a file of A includes a header of B. Headers are resolved as the compiler does:
# against the including file's folder, then src/, common/ and include/ (the -I order).
#
# Usage: scripts/check-includes.sh [root]   (default: the repository this script is in)
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# ---- allowed directions --------------------------------------------------------------------
# layer: the layers its files may include (besides its own). Layers: include (include/glint.h,
# include/glint/*.h), common, error (src/runtime/error.[ch], the library-wide glint__fail that
# every layer of src/ reports through), cpu (src/x86/cpu.h: named CPU bits, constants only, which
# any layer of src/ may use), and each folder of src/. Keep this acyclic and in step
# with docs/architecture.md.
allowed() {
    case $1 in
    include) echo "" ;;
    common) echo "include" ;;
    error) echo "include" ;;
    cpu) echo "" ;;
    load) echo "common include error cpu" ;;
    mem) echo "load common include error cpu" ;;
    x86) echo "mem load common include error cpu" ;;
    hv) echo "x86 mem load common include error cpu" ;;
    os) echo "include error cpu" ;;
    runtime) echo "os hv x86 mem load common include error cpu" ;;
    *) return 1 ;;
    esac
}

layer_of() { # module path -> layer
    case $1 in
    include/*) echo include ;;
    common/*) echo common ;;
    src/runtime/error) echo error ;;
    src/x86/cpu) echo cpu ;;
    src/*/*) local d=${1#src/}; echo "${d%%/*}" ;;
    *) echo "?" ;;
    esac
}

resolve() { # including file, include text -> file path, or nothing
    local inc=$2 dir
    for dir in "$(dirname "$1")" src common include; do
        if [ -f "$dir/$inc" ]; then
            realpath --relative-to=. "$dir/$inc"
            return
        fi
    done
}

fail=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

while IFS= read -r file; do
    from=${file%.[ch]}
    from_layer=$(layer_of "$from")
    if ! ok=$(allowed "$from_layer"); then
        echo "check-includes: $file: no layer for it in the table (add one)" >&2
        fail=1
        continue
    fi
    while IFS= read -r inc; do
        [ -n "$inc" ] || continue
        target=$(resolve "$file" "$inc")
        if [ -z "$target" ]; then
            echo "check-includes: $file: cannot resolve #include \"$inc\"" >&2
            fail=1
            continue
        fi
        to=${target%.[ch]}
        [ "$to" = "$from" ] && continue
        echo "$from $to" >>"$edges"
        to_layer=$(layer_of "$to")
        if [ "$to_layer" != "$from_layer" ] && [[ " $ok " != *" $to_layer "* ]]; then
            echo "check-includes: $file includes \"$inc\": $from_layer may not include" \
                "$to_layer (allowed: ${ok:-nothing})" >&2
            fail=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(find include common src -name '*.[ch]' | LC_ALL=C sort)

# tsort reports every cycle it finds on stderr ("input contains a loop") and exits non-zero.
if ! loops=$(sort -u "$edges" | tsort 2>&1 >/dev/null); then
    echo "check-includes: cycle between files (module -> module it includes):" >&2
    echo "$loops" | sed 's/^/  /' >&2
    fail=1
fi

modules=$(tr ' ' '\n' <"$edges" | sort -u | wc -l)
if [ "$fail" -ne 0 ]; then
    echo "check-includes: FAILED" >&2
    exit 1
fi
echo "check-includes: $(sort -u "$edges" | wc -l) edges, $modules modules, acyclic, directions allowed: ok"
