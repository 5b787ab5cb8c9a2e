#!/usr/bin/env bash
# Proves `make install` yields a usable SDK: builds a host program, a guest and a guest embedding
# Lua with only pkg-config and the installed files, runs them, then checks DESTDIR staging and that
# `make uninstall` removes everything.
# Usage: scripts/install-test.sh [BUILD_DIR]   (default build; $MAKE is the make to use)
# Running the guest needs /dev/kvm: without it that case is skipped loudly, or fails when
# GLINT_REQUIRE_KVM=1.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
MAKE=${MAKE:-make}
pass=0
fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/glint-install-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    printf 'FAIL: %s\n' "$1"
    [ -s "$T/log" ] && head -n 15 "$T/log" | sed 's/^/      | /'
}
# try NAME CMD...: one case; its output goes to $T/log, shown on failure.
try() {
    local name=$1
    shift
    if "$@" >"$T/log" 2>&1; then ok; else bad "$name"; fi
}
mk() { $MAKE --no-print-directory -C "$SRCDIR" BUILD="$BUILD" "$@"; }

P=$T/prefix
try "make install PREFIX=$P" mk install PREFIX="$P"
export PKG_CONFIG_PATH=$P/lib/pkgconfig
unset PKG_CONFIG_LIBDIR

# Soname chain: libglint.so -> libglint.so.0 -> libglint.so.0.1.0 (a real file).
version=$(sed -n 's/^VERSION := //p' "$SRCDIR/Makefile")
try "libglint.so -> libglint.so.0" test "$(readlink "$P/lib/libglint.so")" = libglint.so.0
try "libglint.so.0 -> libglint.so.$version" \
    test "$(readlink "$P/lib/libglint.so.0")" = "libglint.so.$version"
try "libglint.so.$version is a file" test -f "$P/lib/libglint.so.$version" -a \
    ! -L "$P/lib/libglint.so.$version"
try "SONAME is libglint.so.0" sh -c \
    "readelf -d '$P/lib/libglint.so.$version' | grep -q 'SONAME.*\[libglint.so.0\]'"
try "pkg-config knows glint $version" test "$(pkg-config --modversion glint)" = "$version"
try "glint.pc: private libs" sh -c \
    'pkg-config --static --libs glint | grep -q -- -lseccomp && pkg-config --static --libs glint | grep -q -- -lpthread'

# A guest, from the installed example, with pkg-config alone.
gcflags=$(pkg-config --cflags glint-guest) || bad "pkg-config --cflags glint-guest"
glibs=$(pkg-config --libs glint-guest) || bad "pkg-config --libs glint-guest"
# shellcheck disable=SC2086
try "compile the installed example guest" \
    gcc $gcflags -c "$P/share/glint/examples/hello-guest.c" -o "$T/g.o"
# shellcheck disable=SC2086
try "link the guest" gcc -o "$T/hello.elf" "$T/g.o" $glibs
# The guest sees no host header: <string.h> is the guest libc's.
try "guest headers are the installed guest libc" sh -c \
    "printf '#include <string.h>\n' | gcc $gcflags -E -x c - | grep -q '$P/include/glint/guest-include/string.h'"

# A guest embedding Lua (the installed example), in one command with glint-lua.pc alone.
try "pkg-config: glint-rt links libglint-rt with libglint-guest" sh -c \
    'pkg-config --libs glint-rt | grep -q -- "-lglint-rt -lglint-guest"'
try "pkg-config: glint-lua adds Debian's liblua5.4.a" sh -c \
    'pkg-config --libs glint-lua | grep -q "liblua5.4.a"'
# shellcheck disable=SC2046
try "build the installed Lua-embedding example guest in one command" \
    gcc -O2 -Wall -Wextra -Werror -o "$T/lua-embed.elf" "$P/share/glint/examples/lua-embed-guest.c" \
    $(pkg-config --cflags --libs glint-lua)
try "the Lua-embedding guest passes the guest ELF check" \
    "$SRCDIR/scripts/check-guest-elf.sh" "$T/lua-embed.elf"
try "lua.elf is installed under lib/glint/guests" test -f "$P/lib/glint/guests/lua.elf"
try "js.elf is installed under lib/glint/guests" test -f "$P/lib/glint/guests/js.elf"
try "glint-rt.pc names the guests directory" \
    test "$(pkg-config --variable=guestdir glint-rt)" = "$P/lib/glint/guests"

# A host program: the README's C example, with pkg-config alone.
sed -n '/^## Use it from C/,/^```$/p' "$SRCDIR/README.md" | sed '1,/^```c$/d; /^```$/d' >"$T/host.c"
try "README has a C example" grep -q 'int main' "$T/host.c"
sed -i 's|"hello.elf"|argc > 1 ? argv[1] : "hello.elf"|; s|int main(void)|int main(int argc, char **argv)|' \
    "$T/host.c"
libdir=$(pkg-config --variable=libdir glint)
# shellcheck disable=SC2046
try "build the README host example" \
    cc -std=c11 -Wall -Wextra -Werror -o "$T/host" "$T/host.c" $(pkg-config --cflags --libs glint) \
    -Wl,-rpath,"$libdir"
# shellcheck disable=SC2046
try "build the installed demo host" \
    cc -std=gnu11 -Wall -Wextra -Werror -o "$T/demo" "$P/share/glint/examples/demo-host.c" \
    $(pkg-config --cflags --libs glint) -Wl,-rpath,"$libdir"
try "host program uses the installed libglint.so.0" sh -c \
    "ldd '$T/host' | grep -q '$P/lib/libglint.so.0'"
# A host program that registers greet(string) -> string, which the Lua-embedding guest's
# host_greet calls (glint run registers no functions); it runs Run(argv[2]) in argv[1].
cat >"$T/greet-host.c" <<'EOF_C'
#include <glint.h>
#include <stdio.h>

static int greet(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    static char buf[256]; /* must outlive the callback: glint copies it after the return */
    (void)user, (void)nargs;
    int n = snprintf(buf, sizeof buf, "hello, %s, from the host", args[0].as.str.ptr);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    ret->as.str.ptr = buf;
    ret->as.str.len = (size_t)n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    glint_type param = GLINT_STRING;
    glint_host_fns *fns = NULL;
    glint_image *img = NULL;
    glint_sandbox *sb = NULL;
    glint_value arg = glint_string(argv[2]), ret;
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 16u << 20;
    cfg.stack_size = 256u << 10;
    int rc = glint_host_fns_create(&fns);
    if (rc == 0)
        rc = glint_host_fns_add(fns, "greet", GLINT_STRING, &param, 1, greet, NULL);
    if (rc == 0)
        rc = glint_image_load_file(argv[1], &cfg, fns, &img);
    if (rc == 0)
        rc = glint_sandbox_create(img, fns, &sb);
    if (rc == 0)
        rc = glint_sandbox_call(sb, "Run", &arg, 1, &ret);
    if (rc == 0)
        printf("%s\n", ret.as.str.ptr);
    else
        fprintf(stderr, "glint: %s: %s\n", glint_strerror(rc), glint_errmsg());
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
    return rc == 0 ? 0 : 1;
}
EOF_C
# shellcheck disable=SC2046
try "build a host program that registers a host function" \
    cc -std=c11 -Wall -Wextra -Werror -o "$T/greet-host" "$T/greet-host.c" \
    $(pkg-config --cflags --libs glint) -Wl,-rpath,"$libdir"

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    try "README example runs Echo in the installed-SDK guest" \
        test "$("$T/host" "$T/hello.elf" 2>&1)" = hello
    try "installed demo runs the installed-SDK guest" "$T/demo" "$T/hello.elf"
    try "installed CLI runs the guest" test "$("$P/bin/glint" run "$T/hello.elf" Add 2 40)" = 42
    try "installed glint serve runs the glint-net installed beside it" sh -c \
        "'$P/bin/glint' serve --help | grep -q '^Usage: glint serve'"
    try "installed glint loads no HTTP library (process start stays light)" sh -c \
        "! ldd '$P/bin/glint' | grep -q -e microhttpd -e jansson"
    sizes=(--heap 16M --stack 256K)
    # The script prints, calls the guest's C function and returns through it.
    try "the Lua-embedding guest runs a script that calls its C function" test \
        "$("$P/bin/glint" run "${sizes[@]}" "$T/lua-embed.elf" Run \
            'print("n=" .. #string.rep("ab", 3)) return shout("hello " .. math.max(2, 7))' 2>&1)" \
        = "$(printf 'n=6\nHELLO 7!')"
    # A script calls the guest's C function host_greet, which calls the host's greet.
    try "the Lua-embedding guest's script calls a host function through its C function" test \
        "$("$T/greet-host" "$T/lua-embed.elf" 'return shout(host_greet("lua"))' 2>&1)" \
        = "HELLO, LUA, FROM THE HOST!"
    try "the Lua-embedding guest has no file loaders" test \
        "$("$P/bin/glint" run "${sizes[@]}" "$T/lua-embed.elf" Run 'return tostring(require)')" = nil
    try "the installed lua.elf evaluates Lua" \
        test "$("$P/bin/glint" run "${sizes[@]}" "$P/lib/glint/guests/lua.elf" Eval 'return 6 * 7')" = 42
    try "the installed js.elf evaluates JavaScript" \
        test "$("$P/bin/glint" run "$P/lib/glint/guests/js.elf" Eval '6 * 7')" = 42
else
    echo "*** install-test: /dev/kvm not usable: SKIPPED running the installed SDK's programs ***"
    [ "${GLINT_REQUIRE_KVM:-0}" = 1 ] && bad "GLINT_REQUIRE_KVM=1 but /dev/kvm is not usable"
fi

left() { find "$1" \( -type f -o -type l \) | sort; }
try "make uninstall PREFIX=$P" mk uninstall PREFIX="$P"
try "uninstall removes every installed file" test -z "$(left "$P")"
try "uninstall removes glint's directories" sh -c \
    "! find '$P' -name 'glint*' | grep -q ."

# DESTDIR: stage under a root, paths inside the files name the final prefix.
S=$T/stage
try "make install DESTDIR=$S PREFIX=/opt/glint" mk install DESTDIR="$S" PREFIX=/opt/glint
try "DESTDIR install stages under DESTDIR" test -f "$S/opt/glint/lib/libglint.so.$version"
try "staged glint.pc names the final prefix" grep -qx 'prefix=/opt/glint' \
    "$S/opt/glint/lib/pkgconfig/glint.pc"
try "staged files never name DESTDIR" sh -c "! grep -rlF '$S' '$S/opt/glint/lib/pkgconfig'"
try "make uninstall DESTDIR=$S" mk uninstall DESTDIR="$S" PREFIX=/opt/glint
try "DESTDIR uninstall removes every file" test -z "$(left "$S")"

echo "install-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
