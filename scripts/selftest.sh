#!/usr/bin/env bash
# Tests of the build scripts themselves: the check stage runner, and dependency installs under make -j.
# Usage: scripts/selftest.sh   (no packages are installed or removed: fake ones stand in)
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
MAKE=${MAKE:-make}
pass=0
fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/glint-selftest.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    printf 'FAIL: %s\n' "$1"
    shift
    [ $# -gt 0 ] && [ -s "$1" ] && head -n 20 "$1" | sed 's/^/      | /'
}
expect() { # expect NAME FILE CMD...: CMD must succeed; FILE is shown if it does not
    local name=$1 file=$2
    shift 2
    if "$@"; then ok; else bad "$name" "$file"; fi
}

# ---- run-stages.sh: every stage runs, each is summarised, any failure fails the whole ------
R=$SRCDIR/scripts/run-stages.sh
"$R" unit 'echo "[====] Synthesis: Tested: 3 | Passing: 3 | Failing: 0 | Crashing: 0"' \
    vm 'echo "[====] Synthesis: Tested: 5 | Passing: 4 | Failing: 1 | Crashing: 0"; exit 1' \
    cli 'echo "cli-tests: 7 passed, 0 failed"' \
    format 'echo "  FORMAT  clean"' >"$T/stages.out" 2>&1
rc=$?
expect "run-stages: a failed stage makes the exit status non-zero" "$T/stages.out" test "$rc" -eq 1
expect "run-stages: stages after the failed one still run" "$T/stages.out" \
    grep -q '^cli-tests: 7 passed' "$T/stages.out"
expect "run-stages: the table shows the failed stage" "$T/stages.out" \
    grep -Eq '^vm +FAIL\(1\) .*Failing: 1' "$T/stages.out"
expect "run-stages: the table summarises every stage" "$T/stages.out" sh -c \
    "grep -Eq '^unit +pass .*Tested: 3' '$T/stages.out' && grep -Eq '^cli +pass .*7 passed' '$T/stages.out' && grep -Eq '^format +pass .*clean' '$T/stages.out'"
expect "run-stages: the last line names the failures" "$T/stages.out" \
    sh -c "tail -n 1 '$T/stages.out' | grep -q '1 of 4 stages FAILED: vm'"
"$R" a true b 'echo 2 passed' >"$T/stages2.out" 2>&1
expect "run-stages: all passing stages exit 0" "$T/stages2.out" test $? -eq 0
"$R" a >/dev/null 2>&1
expect "run-stages: odd arguments are a usage error" /dev/null test $? -eq 2

# ---- ensure-deps.sh: concurrent runs never install at once, the second finds the first's ----
# A fake package "glint-selftest-dev" provides a header in $T/inc (on CPATH); the fake
# installer records when it starts and ends and takes a while, like apt-get.
mkdir -p "$T/inc"
cat >"$T/fake-install" <<EOS
#!/usr/bin/env bash
echo "install-start \$*" >>"$T/events"
sleep 1
echo '/* fake */' >"$T/inc/glint-selftest.h"
echo "install-end" >>"$T/events"
EOS
chmod +x "$T/fake-install"
export CPATH=$T/inc GLINT_DEPS_LOCK=$T/deps.lock GLINT_DEPS_INSTALL=$T/fake-install
export GLINT_DEPS_EXTRA=glint-selftest.h:glint-selftest-dev
: >"$T/events"
"$SRCDIR/scripts/ensure-deps.sh" build >"$T/d1" 2>&1 &
p1=$!
"$SRCDIR/scripts/ensure-deps.sh" build >"$T/d2" 2>&1 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
cat "$T/d1" "$T/d2" >>"$T/events"
expect "ensure-deps: both concurrent runs succeed" "$T/events" test $r1 -eq 0 -a $r2 -eq 0
expect "ensure-deps: two concurrent runs install once, not twice at the same time" "$T/events" \
    test "$(grep -c '^install-start' "$T/events")" -eq 1

# ---- make -j2: no compile starts before the dependency step has finished ------------------
# The fake compiler fails, as a real one would, when the fake package's header is not there
# yet; it logs each compile. (Preprocessing, as ensure-deps.sh does, goes to the real cc.)
rm -f "$T/inc/glint-selftest.h"
cat >"$T/fake-cc" <<EOS
#!/usr/bin/env bash
for a in "\$@"; do [ "\$a" = -E ] && exec cc "\$@"; done
if [ ! -f "$T/inc/glint-selftest.h" ]; then
    echo "compile-before-deps" >>"$T/events"
    echo "fake-cc: fatal error: glint-selftest.h: No such file or directory" >&2
    exit 1
fi
echo "compile" >>"$T/events"
out=
while [ \$# -gt 0 ]; do [ "\$1" = -o ] && out=\$2; shift; done
[ -n "\$out" ] && : >"\$out"
exit 0
EOS
chmod +x "$T/fake-cc"
: >"$T/events"
B=$T/build
CC=$T/fake-cc GUEST_CC=gcc $MAKE --no-print-directory -C "$SRCDIR" -j2 BUILD="$B" \
    all >"$T/make.out" 2>&1
rc=$?
cat "$T/make.out" >>"$T/events"
expect "make -j2: the build succeeds while a package is being installed" "$T/events" test $rc -eq 0
expect "make -j2: no compile before the dependency step" "$T/events" \
    sh -c "! grep -q compile-before-deps '$T/events'"
expect "make -j2: the dependency step ran once, then the compiles" "$T/events" sh -c \
    "test \$(grep -c '^install-start' '$T/events') -eq 1 && grep -n -e '^install-end' -e '^compile' '$T/events' | head -1 | grep -q install-end"

# ---- the vendored KVM UAPI headers are the ones every <linux/kvm.h> user compiles with ---
# (-MMD lists non-system headers only: the vendored files must appear in each .d file.)
B=$T/kvm
for src in $(cd "$SRCDIR" && grep -rl '#include <linux/kvm.h>' src tests bench --include='*.c'); do
    obj=$B/obj/${src%.c}.o
    $MAKE --no-print-directory -s -C "$SRCDIR" BUILD="$B" "$obj" >"$T/kvm.out" 2>&1
    expect "$src compiles with the vendored linux/kvm.h and asm/kvm.h" "$T/kvm.out" sh -c \
        "grep -q 'third_party/linux/include/linux/kvm.h' '${obj%.o}.d' && grep -q 'third_party/linux/include/asm/kvm.h' '${obj%.o}.d'"
done

# ---- check-guest-elf.sh: a guest with syscall, sysenter or PT_TLS fails the link check ------
C=$SRCDIR/scripts/check-guest-elf.sh
mkelf() { # mkelf NAME C-SOURCE: a static freestanding ELF like a guest
    printf '%s\n' "$2" >"$T/$1.c"
    gcc -ffreestanding -nostdlib -static -no-pie -fno-pic -O1 -o "$T/$1.elf" "$T/$1.c" \
        >"$T/$1.cc" 2>&1
}
mkelf clean 'void _start(void) { for (;;) __asm__ volatile("out %al, $0xe0"); }'
mkelf sys 'void _start(void) { __asm__ volatile("syscall" ::: "rcx", "r11"); for (;;) ; }'
mkelf sysenter 'void _start(void) { __asm__ volatile("sysenter"); for (;;) ; }'
mkelf tls '__thread int t = 1; int _start(void) { return t; }'
mkelf bytes 'const unsigned char data[] = {0x0f, 0x05, 0x0f, 0x34};
void _start(void) { __asm__ volatile("movl $0x050f340f, %%eax" ::: "eax"); for (;;) ; }'
"$C" "$T/clean.elf" >"$T/c1" 2>&1
expect "check-guest-elf: a guest without system calls passes" "$T/c1" test $? -eq 0
"$C" "$T/sys.elf" >"$T/c2" 2>&1
expect "check-guest-elf: a guest with syscall is rejected, naming it" "$T/c2" sh -c \
    "test $? -eq 1 && grep -q 'syscall .* in <_start>' '$T/c2'"
"$C" "$T/sysenter.elf" >"$T/c3" 2>&1
expect "check-guest-elf: a guest with sysenter is rejected" "$T/c3" sh -c \
    "test $? -eq 1 && grep -q 'sysenter' '$T/c3'"
"$C" "$T/tls.elf" >"$T/c4" 2>&1
expect "check-guest-elf: a guest with a PT_TLS segment is rejected" "$T/c4" sh -c \
    "test $? -eq 1 && grep -q 'PT_TLS' '$T/c4'"
"$C" "$T/bytes.elf" >"$T/c5" 2>&1
expect "check-guest-elf: 0f 05 in data or inside an instruction is no syscall" "$T/c5" test $? -eq 0
"$C" --allow-syscall "$T/sys.elf" >"$T/c6" 2>&1
expect "check-guest-elf: --allow-syscall (hostile guests) accepts syscall" "$T/c6" test $? -eq 0
"$C" --allow-syscall "$T/tls.elf" >"$T/c7" 2>&1
expect "check-guest-elf: --allow-syscall still rejects PT_TLS" "$T/c7" test $? -eq 1

# ---- fetch-debian-source.sh: refuses what it cannot do, clearly; reuses a fetched version ----
F=$SRCDIR/scripts/fetch-debian-source.sh
"$F" mujs glint-no-such-package "$T/src" >"$T/fetch.out" 2>&1
expect "fetch-debian-source: a package not installed fails" "$T/fetch.out" test $? -eq 1
expect "fetch-debian-source: and says which" "$T/fetch.out" \
    grep -q 'glint-no-such-package is not installed' "$T/fetch.out"
"$F" mujs >"$T/fetch2.out" 2>&1
expect "fetch-debian-source: missing arguments are a usage error" "$T/fetch2.out" test $? -eq 2
if v=$(dpkg-query -W -f='${Version}' dpkg 2>/dev/null); then
    mkdir -p "$T/have/src" && echo "$v" >"$T/have/VERSION" && touch "$T/have/src/kept"
    "$F" dpkg dpkg "$T/have" >"$T/fetch3.out" 2>&1
    expect "fetch-debian-source: the version already fetched is reused, not fetched again" \
        "$T/fetch3.out" test $? -eq 0 -a -f "$T/have/src/kept"
fi

echo "selftest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
