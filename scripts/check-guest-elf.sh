#!/usr/bin/env bash
# Link-time check of a guest ELF: no syscall/sysenter instruction in its code, no PT_TLS segment.
# Usage: check-guest-elf.sh [--allow-syscall] GUEST.elf
#   A glint guest has no kernel below it: a syscall or sysenter is at best a fault, and a
#   PT_TLS segment is TLS the host never sets up (the TLS page of glint/abi.h is the only one).
#   The code is disassembled (objdump -d, every executable section) and mnemonics are matched,
#   not raw bytes, so 0f 05 inside a longer instruction or in data is not a false alarm.
#   --allow-syscall: for the hostile test guests, which execute these instructions on purpose
#   to prove the host contains them; the PT_TLS check still applies.
set -u
allow=0
if [ "${1:-}" = --allow-syscall ]; then
    allow=1
    shift
fi
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 [--allow-syscall] GUEST.elf" >&2
    exit 2
fi
elf=$1
OBJDUMP=${OBJDUMP:-objdump}
READELF=${READELF:-readelf}
status=0

if ! phdrs=$("$READELF" -lW "$elf" 2>&1); then
    echo "check-guest-elf: $elf: readelf failed: $phdrs" >&2
    exit 1
fi
if printf '%s\n' "$phdrs" | grep -Eq '^[[:space:]]+TLS[[:space:]]'; then
    echo "check-guest-elf: $elf: has a PT_TLS segment (thread-local variables); glint sets up" \
        "no ELF TLS: use plain globals (the guest is single-threaded)" >&2
    status=1
fi

if [ $allow -eq 0 ]; then
    if ! dis=$("$OBJDUMP" -d --no-show-raw-insn "$elf" 2>&1); then
        echo "check-guest-elf: $elf: objdump failed: $dis" >&2
        exit 1
    fi
    # Lines are "  addr:<TAB>mnemonic operands"; functions are "addr <name>:".
    hits=$(printf '%s\n' "$dis" | awk '
        /^[0-9a-f]+ <.*>:$/ { fn = $2 }
        /^ *[0-9a-f]+:\t/ {
            split($0, part, "\t"); split(part[2], w, " ")
            if (w[1] == "syscall" || w[1] == "sysenter")
                printf "  %s %s in %s\n", w[1], $1, fn
        }')
    if [ -n "$hits" ]; then
        echo "check-guest-elf: $elf: contains system-call instructions (a glint guest has no" \
            "kernel; link against libglint-rt instead of a libc that makes system calls):" >&2
        printf '%s\n' "$hits" | head -n 20 >&2
        status=1
    fi
fi
exit $status
