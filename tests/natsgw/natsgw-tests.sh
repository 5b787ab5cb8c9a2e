#!/usr/bin/env bash
# `glint call --nats` and the HTTP gateway (`glint serve --forward`) against a real nats-server
# on a free loopback port and a stand-in worker (tests/natsgw/responder.c). A `make check` stage.
#
# Usage: tests/natsgw/natsgw-tests.sh [BUILD]   (needs BUILD/bin/glint, BUILD/tests/natsgw-responder)
# Each test prints "ok NAME" or "FAIL NAME: why"; the last line is "natsgw: N passed, M failed".
# No KVM is needed: the gateway and the client run no guest code. The end-to-end part (gateway
# and client -> a real worker, `glint serve --nats`) runs when the worker is in this build (or
# GLINT_NATS_WORKER names a glint binary that has it) and /dev/kvm is usable; else it skips.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${1:-build}
GLINT=$BUILD/bin/glint
WORKER_GLINT=${GLINT_NATS_WORKER:-$GLINT}
HELLO=$BUILD/guests/hello.elf
RESPONDER=$BUILD/tests/natsgw-responder
TMP=$(mktemp -d "${TMPDIR:-/tmp}/glint-natsgw-tests.XXXXXX")
# shellcheck source=tests/support/http.sh
. tests/support/http.sh
passed=0 failed=0
NATS_PID="" RESP_PID="" GW_PID="" GW_PORT="" GW_LOG="" WORKER_PID=""

cleanup() {
    for p in "$GW_PID" "$RESP_PID" "$WORKER_PID" "$NATS_PID"; do
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

for tool in nats-server curl python3 wrk; do
    command -v $tool >/dev/null || { echo "FAIL natsgw: $tool is missing (scripts/ensure-deps.sh check)"; exit 1; }
done
for f in "$GLINT" "$RESPONDER"; do
    [ -x "$f" ] || { echo "FAIL natsgw: $f is not built"; exit 1; }
done

ok() { echo "ok $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: poll every 50 ms until the command succeeds; false on time out.
wait_for() {
    local n=$(($1 * 20))
    shift
    for _ in $(seq "$n"); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

nats_up() { (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null; }
nats_down() { ! nats_up; }

# start_nats: nats-server with JetStream (temporary store) on NATS_PORT.
start_nats() {
    nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$TMP/js" >>"$TMP/nats.log" 2>&1 &
    NATS_PID=$!
    wait_for 10 nats_up || { bad nats-start "nats-server did not listen: $(tail -c 400 "$TMP/nats.log")"; return 1; }
}
stop_nats() {
    kill -TERM "$NATS_PID" 2>/dev/null
    wait "$NATS_PID" 2>/dev/null
    NATS_PID=
}

# start_responder [ARGS...]: the stand-in worker; waits (bounded) for its "ready" line.
start_responder() {
    : >"$TMP/responder.out"
    "$RESPONDER" "$URL" "$@" >"$TMP/responder.out" 2>>"$TMP/responder.log" &
    RESP_PID=$!
    wait_for 10 grep -q ready "$TMP/responder.out" ||
        { bad responder-start "the responder did not start: $(tail -c 400 "$TMP/responder.log")"; return 1; }
}
stop_responder() {
    kill -TERM "$RESP_PID" 2>/dev/null
    wait "$RESP_PID" 2>/dev/null
    RESP_PID=
}

# call NAME EXPECTED-EXIT STDOUT-REGEX STDERR-REGEX ARGS...: one glint call and its outcome.
call() {
    local name=$1 want=$2 out_re=$3 err_re=$4
    shift 4
    timeout 20 "$GLINT" call "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$? out err
    out=$(cat "$TMP/out") err=$(cat "$TMP/err")
    if [ "$rc" = "$want" ] && [[ "$out" =~ $out_re ]] && [[ "$err" =~ $err_re ]]; then
        ok "$name"
    else
        bad "$name" "want exit $want, /$out_re/, /$err_re/; got $rc, '$out', '$err'"
    fi
}

# start_gateway NAME ARGS...: glint serve --forward on a free port; waits for its listening line.
start_gateway() {
    local name=$1
    shift
    GW_LOG=$TMP/$name.log
    : >"$GW_LOG"
    "$GLINT" serve --listen 127.0.0.1:0 --forward "$URL" "$@" 2>"$GW_LOG" &
    GW_PID=$!
    GW_PORT=
    for _ in $(seq 200); do
        GW_PORT=$(sed -n 's|^glint serve: listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$GW_LOG")
        [ -n "$GW_PORT" ] && return 0
        kill -0 "$GW_PID" 2>/dev/null || break
        sleep 0.05
    done
    bad "$name-start" "the gateway did not start: $(head -c 600 "$GW_LOG")"
    GW_PID=
    return 1
}
# stop_gateway: SIGTERM; sets STATUS (124: it did not exit within 10 s).
stop_gateway() {
    stop_pid "$GW_PID" 10
    GW_PID=
}

# req METHOD PATH [BODY]: sets CODE, BODY and the headers file HEADERS.
req() { http_req "$GW_PORT" "$@"; }
# expect NAME STATUS BODY-REGEX METHOD PATH [BODY]
expect() {
    local name=$1 status=$2 re=$3
    shift 3
    req "$@"
    if [ "$CODE" = "$status" ] && [[ "$BODY" =~ $re ]]; then
        ok "$name"
    else
        bad "$name" "want $status matching /$re/, got $CODE $BODY"
    fi
}
readyz_is() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$GW_PORT/readyz")" = "$1" ]
}

NATS_PORT=$(free_port)
URL=nats://127.0.0.1:$NATS_PORT

# ---- the gateway before NATS exists: it starts, /healthz answers, /readyz is 503
if start_gateway early --timeout-ms 1000; then
    expect gateway-healthz-without-nats 200 '"ok"' GET /healthz
    expect gateway-readyz-before-nats 503 '"ready":false' GET /readyz
    expect gateway-call-before-nats 503 '"kind":"unavailable"' POST /v1/functions/echo '[1]'
fi

start_nats || { echo "natsgw: $passed passed, $((failed + 1)) failed"; exit 1; }

if [ -n "$GW_PID" ]; then
    if wait_for 10 readyz_is 200; then ok gateway-readyz-after-nats; else bad gateway-readyz-after-nats "/readyz never 200 once nats-server ran"; fi
    stop_gateway
fi

# ---- glint call: usage errors (exit 2) need no worker
USAGE='^glint: call: '
call call-usage-no-url 2 '^$' "$USAGE"'missing --nats' echo '[]'
call call-usage-bad-url 2 '^$' "$USAGE"'--nats:' --nats http://127.0.0.1:1 echo '[]'
call call-usage-bad-port 2 '^$' "$USAGE"'--nats:' --nats nats://127.0.0.1:99999 echo '[]'
call call-usage-bad-name 2 '^$' "$USAGE""'.*' is not a function name" --nats "$URL" 'a..b' '[]'
call call-usage-name-subject 2 '^$' "$USAGE""'.*' is not a function name" --nats "$URL" 'glint.fn.*' '[]'
call call-usage-malformed-json 2 '^$' "$USAGE"'JSON_ARRAY: malformed JSON' --nats "$URL" echo '[1'
call call-usage-not-array 2 '^$' "$USAGE"'JSON_ARRAY: .*array' --nats "$URL" echo '{"a":1}'
call call-usage-missing-args 2 '^$' "$USAGE"'missing JSON_ARRAY' --nats "$URL" echo
call call-usage-extra-operand 2 '^$' "$USAGE"'unexpected operand' --nats "$URL" echo '[]' x
call call-usage-timeout-zero 2 '^$' "$USAGE"'--timeout-ms' --nats "$URL" --timeout-ms 0 echo '[]'
call call-usage-unknown-option 2 '^$' "$USAGE"'unknown option' --nats "$URL" --bogus echo '[]'
call call-help 0 'Usage: glint call' '^$' --help

# ---- no worker yet
call call-no-responders 3 '"kind":"no_workers"' "$USAGE"'echo: 503 no_workers' --nats "$URL" echo '[1]'
call call-jetstream-no-stream 3 '"kind":"no_workers".*stream' "$USAGE"'echo: 503' --jetstream --nats "$URL" echo '[1]'
DEAD=nats://127.0.0.1:$(free_port)
call call-unreachable 3 '^$' "$USAGE"'cannot connect' --nats "$DEAD" echo '[1]'

# ---- the stand-in worker, core and JetStream
start_responder --jetstream || { echo "natsgw: $passed passed, $((failed + 1)) failed"; exit 1; }
call call-success 0 '^\{"result":"héllo"\}$' '^$' --nats "$URL" echo '["héllo"]'
call call-success-structured 0 '^\{"result":\{"a":\[1,2\]\}\}$' '^$' --nats "$URL" echo '[{"a":[1,2]}]'
call call-guest-error 1 '"kind":"guest_error"' "$USAGE"'echo: 422 guest_error: asked to fail' --nats "$URL" echo '["error"]'
call call-timeout 1 '"kind":"timeout"' "$USAGE"'echo: 504 timeout: no answer from a worker within [0-9]+ ms' --nats "$URL" --timeout-ms 300 echo '["silent"]'
call call-overloaded 3 '"kind":"overloaded"' "$USAGE"'echo: 429' --nats "$URL" echo '["overloaded"]'
call call-bad-reply 3 '"kind":"bad_reply"' "$USAGE"'echo: 502' --nats "$URL" echo '["bad"]'
timeout 20 "$GLINT" call --nats "$URL" echo '["x"]' >/dev/full 2>"$TMP/err"
rc=$?
if [ "$rc" = 1 ] && grep -q 'cannot write to stdout' "$TMP/err"; then ok call-stdout-full; else bad call-stdout-full "exit $rc: $(cat "$TMP/err")"; fi
call call-server-list 0 '^\{"result":"listed"\}$' '^$' --nats "$DEAD,$URL" echo '["listed"]'
call call-jetstream-success 0 '^\{"result":"job"\}$' '^$' --jetstream --nats "$URL" echo '["job"]'
# The worker sends a stale result for another job, then this job's result twice: the first
# matching one is printed, the others ignored.
call call-jetstream-duplicates 0 '^\{"result":"dup"\}$' '^$' --jetstream --nats "$URL" echo '["dup"]'
call call-jetstream-error 1 '"kind":"guest_error"' "$USAGE"'echo: 422' --jetstream --nats "$URL" echo '["error"]'
call call-jetstream-timeout 1 '"kind":"timeout"' "$USAGE"'echo: 504' --jetstream --timeout-ms 300 --nats "$URL" echo '["silent"]'
jobs_seen=$(grep -c '^responder: job ' "$TMP/responder.log")
if [ "$jobs_seen" = 4 ]; then ok call-jetstream-one-job-each; else bad call-jetstream-one-job-each "the worker saw $jobs_seen jobs, want 4"; fi

# ---- the gateway, core mode, with a function list
if start_gateway core --functions echo,nothing --timeout-ms 400; then
    if wait_for 10 readyz_is 200; then ok gateway-core-ready; else bad gateway-core-ready "/readyz never 200"; fi
    expect gateway-200 200 '^\{"result":"héllo"\}$' POST /v1/functions/echo '["héllo"]'
    expect gateway-422 422 '"kind":"guest_error"' POST /v1/functions/echo '["error"]'
    expect gateway-429 429 '"kind":"overloaded"' POST /v1/functions/echo '["overloaded"]'
    if grep -qi '^Retry-After: 1' "$HEADERS"; then ok gateway-429-retry-after; else bad gateway-429-retry-after "no Retry-After: $(cat "$HEADERS")"; fi
    expect gateway-504 504 '"kind":"timeout".*400 ms' POST /v1/functions/echo '["silent"]'
    expect gateway-503-no-responders 503 '"kind":"no_workers"' POST /v1/functions/nothing '[]'
    expect gateway-404-unlisted 404 '"kind":"not_found"' POST /v1/functions/other '[]'
    expect gateway-502-bad-reply 502 '"kind":"bad_reply"' POST /v1/functions/echo '["bad"]'
    expect gateway-400-malformed 400 '"kind":"malformed_json"' POST /v1/functions/echo '[1,'
    expect gateway-400-not-array 400 '"kind":"malformed_json"' POST /v1/functions/echo '7'
    expect gateway-405 405 '"kind":"method_not_allowed"' GET /v1/functions/echo
    expect gateway-list 200 '^\{"functions":\[\{"name":"echo","forwarded":"core"\},\{"name":"nothing","forwarded":"core"\}\],"forward_any":false\}$' GET /v1/functions
    req GET /metrics
    if [[ "$BODY" =~ glint_requests_total\{function=\"echo\",status=\"200\"\}\ 1 ]] &&
        [[ "$BODY" =~ glint_requests_total\{function=\"echo\",status=\"504\"\}\ 1 ]] &&
        [[ "$BODY" =~ glint_requests_total\{function=\"nothing\",status=\"503\"\}\ 1 ]] &&
        [[ "$BODY" =~ glint_nats_connected\ 1 ]]; then
        ok gateway-metrics
    else
        bad gateway-metrics "counters missing: $(grep -v '^#\|bucket' "$TMP/body" | head -20)"
    fi
    # Many calls at once over the gateway's one NATS connection: every answer is the caller's.
    line=$(wrk -t2 -c8 -d2s -s tests/serve/check.lua "http://127.0.0.1:$GW_PORT/v1/functions/echo" 2>&1 | grep '^wrk-check:')
    if [[ "$line" =~ responses=([0-9]+)\ wrong=0\ busy429=0\ other=0\ errors=0 ]] && [ "${BASH_REMATCH[1]}" -gt 100 ]; then
        ok "gateway-load-all-answers-right ($line)"
    else
        bad gateway-load-all-answers-right "${line:-wrk printed no result}"
    fi
    # NATS goes away and comes back: /readyz follows, the gateway reconnects, calls work again.
    stop_nats
    if wait_for 10 readyz_is 503; then ok gateway-readyz-nats-lost; else bad gateway-readyz-nats-lost "/readyz stayed 200 with nats-server stopped"; fi
    expect gateway-503-nats-lost 503 '"kind":"unavailable"' POST /v1/functions/echo '[1]'
    start_nats
    if wait_for 15 readyz_is 200; then ok gateway-readyz-nats-back; else bad gateway-readyz-nats-back "/readyz never 200 after the restart"; fi
    back() { req POST /v1/functions/echo '["again"]'; [ "$CODE" = 200 ] && [ "$BODY" = '{"result":"again"}' ]; }
    if wait_for 15 back; then ok gateway-call-after-restart; else bad gateway-call-after-restart "got $CODE $BODY"; fi
    req GET /metrics
    if [[ "$BODY" =~ glint_nats_reconnects_total\ [1-9] ]]; then ok gateway-reconnects-counted; else bad gateway-reconnects-counted "$(grep reconnects "$TMP/body")"; fi
    stop_gateway
    if [ "$STATUS" = 0 ]; then ok gateway-sigterm-exit-0; else bad gateway-sigterm-exit-0 "exit $STATUS: $(tail -3 "$GW_LOG")"; fi
fi

# ---- the gateway, JetStream mode, any name (the responder's stream went with the restart)
stop_responder
start_responder --jetstream
if start_gateway js --jetstream --timeout-ms 1000; then
    if wait_for 10 readyz_is 200; then ok gateway-js-ready; else bad gateway-js-ready "/readyz never 200"; fi
    expect gateway-js-200 200 '^\{"result":"héllo"\}$' POST /v1/functions/echo '["héllo"]'
    expect gateway-js-duplicates 200 '^\{"result":"dup"\}$' POST /v1/functions/echo '["dup"]'
    expect gateway-js-after-duplicates 200 '^\{"result":"next"\}$' POST /v1/functions/echo '["next"]'
    expect gateway-js-422 422 '"kind":"guest_error"' POST /v1/functions/echo '["error"]'
    expect gateway-js-504 504 '"kind":"timeout"' POST /v1/functions/echo '["silent"]'
    expect gateway-js-404-bad-name 404 '"kind":"not_found"' POST /v1/functions/.echo '[]'
    expect gateway-js-list 200 '^\{"functions":\[\],"forward_any":true\}$' GET /v1/functions
    # At least once: a job published while no worker takes jobs waits in the stream and is
    # answered once a worker comes (the caller is still waiting).
    stop_responder
    curl -s -o "$TMP/late" -w '%{http_code}' --max-time 20 -H 'Content-Type: application/json' \
        --data-binary '["late"]' "http://127.0.0.1:$GW_PORT/v1/functions/echo" >"$TMP/late.code" &
    late=$!
    sleep 0.3 # not an assertion: only lets the job reach the stream before the worker is back
    start_responder --jetstream
    wait "$late"
    if [ "$(cat "$TMP/late.code")" = 200 ] && [ "$(cat "$TMP/late")" = '{"result":"late"}' ]; then
        ok gateway-js-job-waits-for-a-worker
    else
        bad gateway-js-job-waits-for-a-worker "got $(cat "$TMP/late.code") $(cat "$TMP/late")"
    fi
    req GET /metrics
    if [[ "$BODY" =~ glint_gateway_ignored_results_total\ [1-9] ]]; then ok gateway-js-ignored-counted; else bad gateway-js-ignored-counted "$(grep ignored "$TMP/body")"; fi
    stop_gateway
    if [ "$STATUS" = 0 ]; then ok gateway-js-sigterm; else bad gateway-js-sigterm "exit $STATUS"; fi
fi

# ---- gateway usage errors
gw_usage() { # NAME MESSAGE-REGEX ARGS...
    local name=$1 re=$2
    shift 2
    timeout 10 "$GLINT" serve "$@" >/dev/null 2>"$TMP/err"
    local rc=$? err
    err=$(cat "$TMP/err")
    if [ "$rc" = 2 ] && [[ "$err" =~ $re ]]; then ok "$name"; else bad "$name" "want exit 2 /$re/, got $rc '$err'"; fi
}
gw_usage gateway-usage-bad-url 'forward: .* not a URL' --forward http://x
gw_usage gateway-usage-with-guest 'does not go with --forward' --forward "$URL" --guest x.elf
gw_usage gateway-usage-bad-functions 'functions: .* not a function name' --forward "$URL" --functions 'echo,,x'
gw_usage gateway-usage-dup-functions "functions: 'echo' given twice" --forward "$URL" --functions echo,echo
gw_usage gateway-usage-jetstream-alone 'or --forward URL' --guest x.elf --jetstream
gw_usage gateway-usage-timeout 'timeout-ms' --forward "$URL" --timeout-ms 0

stop_responder

# ---- end to end: the gateway and glint call -> a real worker (glint serve --nats)
# start_worker [ARGS...]: a worker serving hello.elf; waits (bounded) until a call succeeds.
start_worker() {
    "$WORKER_GLINT" serve --nats "$URL" --guest "$HELLO" --pool 2 --no-access-log "$@" 2>>"$TMP/worker.log" &
    WORKER_PID=$!
    up() { "$GLINT" call --nats "$URL" --timeout-ms 500 "${jsflag[@]}" Echo '["up"]' >/dev/null 2>&1; }
    wait_for 20 up || { bad worker-start "no answer from the worker: $(tail -c 600 "$TMP/worker.log")"; return 1; }
}
stop_worker() {
    kill -TERM "$WORKER_PID" 2>/dev/null
    wait "$WORKER_PID" 2>/dev/null
    WORKER_PID=
}
if ! "$WORKER_GLINT" serve --help 2>/dev/null | grep -qE '^ +--nats '; then
    echo "SKIP natsgw-e2e: this glint has no worker mode (glint serve --nats); set GLINT_NATS_WORKER"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ] || [ ! -f "$HELLO" ]; then
    if [ "${GLINT_REQUIRE_KVM:-0}" = 1 ]; then
        bad natsgw-e2e "/dev/kvm is not usable (or $HELLO not built) and GLINT_REQUIRE_KVM=1"
    else
        echo "SKIP natsgw-e2e: /dev/kvm is not usable or $HELLO is not built"
    fi
else
    for mode in core jetstream; do
        jsflag=()
        [ "$mode" = jetstream ] && jsflag=(--jetstream)
        start_worker "${jsflag[@]}" || continue
        call "e2e-$mode-call" 0 '^\{"result":5\}$' '^$' --nats "$URL" "${jsflag[@]}" Add '[2,3]'
        call "e2e-$mode-call-bad-arguments" 2 '"kind":"bad_arguments"' "$USAGE"'Add: 400' --nats "$URL" "${jsflag[@]}" Add '[2]'
        if start_gateway "e2e-$mode" "${jsflag[@]}" --functions Add,Echo --timeout-ms 5000; then
            wait_for 10 readyz_is 200 || bad "e2e-$mode-ready" "/readyz never 200"
            expect "e2e-$mode-gateway-200" 200 '^\{"result":5\}$' POST /v1/functions/Add '[2,3]'
            expect "e2e-$mode-gateway-utf8" 200 '^\{"result":"héllo"\}$' POST /v1/functions/Echo '["héllo"]'
            expect "e2e-$mode-gateway-400" 400 '"kind":"bad_arguments"' POST /v1/functions/Add '[2,"x"]'
            stop_gateway
        fi
        stop_worker
    done
fi

stop_nats
echo "natsgw: $passed passed, $failed failed"
[ "$failed" = 0 ]
