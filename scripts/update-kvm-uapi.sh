#!/usr/bin/env bash
# Refreshes the vendored KVM UAPI headers in third_party/linux/ from a kernel tree or installed headers.
#
# Usage: scripts/update-kvm-uapi.sh [SOURCE]
#   SOURCE is either a kernel source tree (has include/uapi/linux/kvm.h; the headers are
#   sanitised with `make headers_install` into a temporary directory first) or a directory of
#   installed UAPI headers (has linux/kvm.h, e.g. /usr/include, the default).
# Copies linux/kvm.h and the x86 asm/kvm.h it includes, and writes third_party/linux/VERSION.
# The other headers kvm.h includes (linux/types.h, linux/ioctl.h, linux/const.h,
# linux/stddef.h) are stable for decades and still come from the build host (linux-libc-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-/usr/include}
dst=third_party/linux/include
tmp=$(mktemp -d "${TMPDIR:-/tmp}/glint-kvm-uapi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ -f "$src/include/uapi/linux/kvm.h" ]; then
    # A kernel tree: install sanitised headers (strips __KERNEL__ parts, _UAPI guards).
    make -s -C "$src" ARCH=x86 INSTALL_HDR_PATH="$tmp/usr" headers_install
    inc=$tmp/usr/include
    asm=$inc/asm/kvm.h
    version="kernel tree $(make -s -C "$src" kernelversion)"
    if git -C "$src" rev-parse --verify -q HEAD >/dev/null 2>&1; then
        version="$version, commit $(git -C "$src" rev-parse HEAD)"
    fi
elif [ -f "$src/linux/kvm.h" ]; then
    inc=$src
    asm=$inc/asm/kvm.h
    [ -f "$asm" ] || asm=$inc/x86_64-linux-gnu/asm/kvm.h
    code=$(sed -n 's/^#define LINUX_VERSION_CODE \([0-9]*\).*/\1/p' "$inc/linux/version.h" 2>/dev/null || true)
    version="installed headers in $src"
    [ -n "$code" ] && version="$version, LINUX_VERSION_CODE $((code >> 16)).$(((code >> 8) & 255)).$((code & 255))"
    pkg=$(dpkg-query -S "$inc/linux/kvm.h" 2>/dev/null | cut -d: -f1 | head -1 || true)
    [ -n "$pkg" ] && version="$version, Debian package $pkg $(dpkg-query -W -f='${Version}' "$pkg")"
else
    echo "update-kvm-uapi: $src is neither a kernel tree nor an include directory with linux/kvm.h" >&2
    exit 2
fi
[ -f "$asm" ] || { echo "update-kvm-uapi: no x86 asm/kvm.h under $inc" >&2; exit 1; }

mkdir -p "$dst/linux" "$dst/asm"
install -m 644 "$inc/linux/kvm.h" "$dst/linux/kvm.h"
install -m 644 "$asm" "$dst/asm/kvm.h"
{
    echo "$version"
    echo "updated $(date -u +%Y-%m-%d) by scripts/update-kvm-uapi.sh"
    (cd "$dst" && sha256sum linux/kvm.h asm/kvm.h)
} >third_party/linux/VERSION
echo "update-kvm-uapi: $(head -1 third_party/linux/VERSION)"
