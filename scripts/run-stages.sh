#!/usr/bin/env bash
# Runs every stage of a check, even after one fails, then prints a summary table; fails if any stage failed.
#
# Usage: scripts/run-stages.sh NAME COMMAND [NAME COMMAND]...
#   Each COMMAND runs with `bash -c`, its stdout and stderr shown as they come and kept in a
#   log. A stage passes when its command exits 0. The summary column shows the last line of the
#   stage's output that looks like a result: Criterion's "Synthesis" line, "N passed",
#   "(N cases)", "clean", "SKIP"...; GLINT_STAGE_LOGS=DIR keeps the logs there.
# Exit status: 0 if every stage passed, 1 if any failed, 2 on a usage error.
set -u
if [ $# -eq 0 ] || [ $(($# % 2)) -ne 0 ]; then
    echo "usage: $0 NAME COMMAND [NAME COMMAND]..." >&2
    exit 2
fi
logs=${GLINT_STAGE_LOGS:-}
if [ -z "$logs" ]; then
    logs=$(mktemp -d "${TMPDIR:-/tmp}/glint-stages.XXXXXX") || exit 2
    trap 'rm -rf "$logs"' EXIT
fi
mkdir -p "$logs" || exit 2

# The line of a log that best summarises the stage (colour codes stripped).
summary_of() {
    sed 's/\x1b\[[0-9;]*m//g' "$1" |
        grep -E 'Synthesis|[0-9]+ (passed|failed|cases)|[0-9]+ report|clean|SKIP|skipp|usable|: ok|FAIL' |
        tail -n 1 | sed 's/^[[:space:]]*//; s/[[:space:]]*$//; s/^\[====\] //' | cut -c1-90
}
# For a failed stage without such a line: its last non-empty line.
last_line() { sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -v '^[[:space:]]*$' | tail -n 1 | cut -c1-90; }

names=() results=() summaries=() seconds=()
failed=()
while [ $# -gt 0 ]; do
    name=$1 cmd=$2
    shift 2
    log=$logs/${#names[@]}-$name.log
    printf '\n==== stage %s: %s\n' "$name" "$cmd"
    start=$(date +%s)
    bash -c "$cmd" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    names+=("$name")
    seconds+=($(($(date +%s) - start)))
    if [ "$rc" -eq 0 ]; then
        results+=(pass)
    else
        results+=("FAIL($rc)")
        failed+=("$name")
    fi
    s=$(summary_of "$log")
    [ -z "$s" ] && [ "$rc" -ne 0 ] && s=$(last_line "$log")
    summaries+=("${s:--}")
    printf '==== stage %s: %s\n' "$name" "${results[-1]}"
done

printf '\n%-10s %-8s %5s  %s\n' stage result time summary
for i in "${!names[@]}"; do
    printf '%-10s %-8s %4ss  %s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}" "${summaries[$i]}"
done
if [ ${#failed[@]} -eq 0 ]; then
    echo "check: all ${#names[@]} stages passed"
    exit 0
fi
echo "check: ${#failed[@]} of ${#names[@]} stages FAILED: ${failed[*]}"
exit 1
