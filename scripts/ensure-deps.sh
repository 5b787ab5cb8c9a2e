#!/usr/bin/env bash
# Checks the Debian packages a build needs; installs them when run as root, else says how.
# Usage: ensure-deps.sh build|check|fuzz
set -u
need=()
have_header() { printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1; }
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
have_header linux/kvm.h || need+=(linux-libc-dev)
have_header seccomp.h || need+=(libseccomp-dev)
case "${1:-build}" in
check)
    have_header criterion/criterion.h || need+=(libcriterion-dev)
    command -v clang-format >/dev/null || need+=(clang-format)
    ;;
fuzz)
    command -v clang >/dev/null || need+=(clang)
    [ -n "$(find /usr/lib/llvm-*/lib/clang -name 'libclang_rt.fuzzer*' 2>/dev/null | head -1)" ] ||
        need+=(libclang-rt-14-dev)
    ;;
esac
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "glint: installing missing packages: ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; }
    exit $?
fi
echo "glint: missing Debian packages: ${need[*]}" >&2
echo "glint: install them with: sudo apt-get install -y ${need[*]}" >&2
exit 1
