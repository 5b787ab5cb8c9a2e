#!/usr/bin/env bash
# Checks the Debian packages a build needs; installs them when run as root, else says how.
# Usage: ensure-deps.sh build|check|asan|tsan|fuzz
#   build: compile the libraries, guests and programs; check: also the test suites (make check);
#   asan/tsan: check plus the sanitizer runtimes; fuzz: clang and libFuzzer.
# Safe to run concurrently (make -j, several makes at once): the install step holds a lock
# (flock on $GLINT_DEPS_LOCK, default /tmp/glint-ensure-deps.lock) and re-checks under it, so
# two runs never start two apt-get, and the second finds the first one's packages.
# Hooks for scripts/selftest.sh: GLINT_DEPS_EXTRA="HEADER:PACKAGE ..." requires more headers;
# GLINT_DEPS_INSTALL="CMD" installs with `CMD PACKAGE...` instead of apt-get (root not needed).
set -u
mode=${1:-build}
case "$mode" in
build | check | asan | tsan | fuzz) ;;
*)
    echo "usage: $0 build|check|asan|tsan|fuzz" >&2
    exit 2
    ;;
esac
lock=${GLINT_DEPS_LOCK:-/tmp/glint-ensure-deps.lock}

have_header() { printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1; }
can_link() {
    printf 'int main(void) { return 0; }\n' |
        ${CC:-cc} "$@" -x c - -o /dev/null >/dev/null 2>&1
}
# Debian names of gcc's sanitizer runtimes (gcc 12: libasan8, libubsan1, libtsan2). They
# come with gcc through libgcc-N-dev; checked anyway, as a partial install breaks the link.
san_pkgs() {
    local major
    major=$(gcc -dumpversion 2>/dev/null | cut -d. -f1)
    case "$major:$1" in
    12:asan) echo libasan8 libubsan1 ;;
    12:tsan) echo libtsan2 ;;
    *) echo "libgcc-${major:-12}-dev" ;;
    esac
}

find_missing() {
    need=()
    command -v gcc >/dev/null || need+=(gcc)
    command -v make >/dev/null || need+=(make)
    # linux/kvm.h is vendored (third_party/linux); the base UAPI headers are the host's.
    have_header linux/ioctl.h || need+=(linux-libc-dev)
    have_header seccomp.h || need+=(libseccomp-dev)
    have_header zlib.h || need+=(zlib1g-dev) # image files' CRC-32 (docs/images.md)
    # The language runtimes (docs/runtimes.md): Debian's archives linked into guests.
    [ -f /usr/lib/x86_64-linux-musl/libc.a ] || need+=(musl-dev)
    [ -f /usr/lib/x86_64-linux-gnu/liblua5.4.a ] || need+=(liblua5.4-dev)
    [ -f /usr/lib/x86_64-linux-gnu/liblua5.4-cjson.a ] || need+=(lua-cjson-dev)
    [ -f /usr/lib/x86_64-linux-gnu/libmujs.a ] || need+=(libmujs-dev)
    # MuJS is compiled from Debian's source package (scripts/fetch-debian-source.sh).
    command -v dpkg-source >/dev/null || need+=(dpkg-dev)
    command -v dpkg-buildflags >/dev/null || need+=(dpkg-dev)
    command -v patch >/dev/null || need+=(patch)
    # glint serve (docs/serve.md): the HTTP server and JSON libraries.
    have_header microhttpd.h || need+=(libmicrohttpd-dev)
    have_header jansson.h || need+=(libjansson-dev)
    # glint serve --nats (docs/nats.md): the NATS C client with JetStream.
    have_header nats/nats.h || need+=(libnats-dev)
    case "$mode" in
    check | asan | tsan)
        have_header criterion/criterion.h || need+=(libcriterion-dev)
        command -v clang-format >/dev/null || need+=(clang-format)
        command -v pkg-config >/dev/null || need+=(pkg-config)
        command -v lua5.4 >/dev/null || need+=(lua5.4) # scripts/lua-conformance.sh
        command -v mujs >/dev/null || need+=(mujs)     # scripts/js-conformance.sh
        command -v curl >/dev/null || need+=(curl)     # tests/serve/serve-tests.sh
        command -v wrk >/dev/null || need+=(wrk)       # tests/serve/serve-tests.sh (load run)
        # tests/nats, tests/natsgw; Debian installs it in /usr/sbin
        command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
        /usr/bin/python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)             # check-deploy.sh
        /usr/bin/python3 -c 'import kubernetes' 2>/dev/null || need+=(python3-kubernetes) # check-deploy.sh
        command -v yamllint >/dev/null || need+=(yamllint)           # scripts/check-deploy.sh
        ;;
    esac
    # shellcheck disable=SC2207 # san_pkgs prints package names, split on purpose
    case "$mode" in
    asan) can_link -fsanitize=address,undefined || need+=($(san_pkgs asan)) ;;
    tsan)
        can_link -fsanitize=thread || need+=($(san_pkgs tsan))
        command -v setarch >/dev/null || need+=(util-linux)
        ;;
    fuzz)
        command -v clang >/dev/null || need+=(clang)
        [ -n "$(find /usr/lib/llvm-*/lib/clang -name 'libclang_rt.fuzzer*' 2>/dev/null | head -1)" ] ||
            need+=(libclang-rt-14-dev)
        ;;
    esac
    local pair
    for pair in ${GLINT_DEPS_EXTRA:-}; do
        have_header "${pair%%:*}" || need+=("${pair#*:}")
    done
}

find_missing
[ ${#need[@]} -eq 0 ] && exit 0

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$@" \
        >/dev/null ||
        { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$@"; }
}
installer=
if [ -n "${GLINT_DEPS_INSTALL:-}" ]; then
    installer=$GLINT_DEPS_INSTALL
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    installer=apt_install
fi
if [ -n "$installer" ]; then
    exec 9>>"$lock" || { echo "glint: cannot open lock $lock" >&2; exit 1; }
    if ! flock -w 900 9; then
        echo "glint: waited 15 min for another package install (lock $lock); giving up" >&2
        exit 1
    fi
    find_missing # another run may have installed them while this one waited
    [ ${#need[@]} -eq 0 ] && exit 0
    echo "glint: installing missing packages: ${need[*]}"
    $installer "${need[@]}" || exit 1
    find_missing
    [ ${#need[@]} -eq 0 ] && exit 0
    echo "glint: still missing after the install: ${need[*]}" >&2
    exit 1
fi
echo "glint: missing Debian packages: ${need[*]}" >&2
echo "glint: install them with: sudo apt-get install -y ${need[*]}" >&2
exit 1
