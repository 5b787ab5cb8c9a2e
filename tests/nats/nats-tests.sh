#!/usr/bin/env bash
# glint serve --nats end to end: real nats-server processes (JetStream in a temp store) on free
# loopback ports and real workers, started and stopped here; answers checked by natsload.
# A `make check` stage (scripts/run-stages.sh).
#
# Usage: tests/nats/nats-tests.sh [BUILD]   (needs BUILD/bin/glint, BUILD/tests/natsload, guests)
# Each test prints "ok NAME" or "FAIL NAME: why"; the last line is "nats: N passed, M failed".
# Without /dev/kvm the tests skip loudly unless GLINT_REQUIRE_KVM=1.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${1:-build}
GLINT=$BUILD/bin/glint
LOAD=$BUILD/tests/natsload
HELLO=$BUILD/guests/hello.elf
TYPES=$BUILD/tests/guests/types.elf
TMP=$(mktemp -d "${TMPDIR:-/tmp}/glint-nats-tests.XXXXXX")
# shellcheck source=tests/support/http.sh
. tests/support/http.sh
passed=0 failed=0
PIDS=() # every process started here, killed on exit
NS_PID="" NS_PORT="" URL=""

cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    if [ "${GLINT_REQUIRE_KVM:-0}" = 1 ]; then
        echo "FAIL nats: /dev/kvm is not usable and GLINT_REQUIRE_KVM=1"
        exit 1
    fi
    echo "SKIP nats: /dev/kvm is not usable; the NATS tests need real VMs"
    exit 0
fi
# Debian installs nats-server in /usr/sbin, which a user's PATH may lack.
NATS_SERVER=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
[ -x "$NATS_SERVER" ] || { echo "FAIL nats: nats-server is missing (scripts/ensure-deps.sh check)"; exit 1; }
command -v curl >/dev/null || { echo "FAIL nats: curl is missing (scripts/ensure-deps.sh check)"; exit 1; }
[ -x "$LOAD" ] || { echo "FAIL nats: $LOAD is missing (make $LOAD)"; exit 1; }

ok() { echo "ok $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
check() {
    local name=$1 why=$2
    shift 2
    if "$@"; then ok "$name"; else bad "$name" "$why"; fi
}

# nats_start NAME [PORT]: a nats-server with JetStream (store under $TMP/NAME) on PORT, or on a
# free port (-p -1); waits (bounded) until it is ready. Sets NS_PID, NS_PORT, URL.
nats_start() {
    local name=$1 port=${2:--1} log=$TMP/$1.nats.log
    mkdir -p "$TMP/$name.js"
    : >"$log"
    "$NATS_SERVER" -a 127.0.0.1 -p "$port" -js -sd "$TMP/$name.js" >"$log" 2>&1 &
    NS_PID=$!
    PIDS+=("$NS_PID")
    NS_PORT=
    for _ in $(seq 200); do
        if grep -q 'Server is ready' "$log"; then
            NS_PORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | tail -n 1)
            break
        fi
        kill -0 "$NS_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$NS_PORT" ]; then
        bad "$name-nats-start" "nats-server did not start: $(head -c 600 "$log")"
        return 1
    fi
    URL=nats://127.0.0.1:$NS_PORT
}

# nats_stop: SIGTERM the server, wait (bounded) for it to exit.
nats_stop() {
    kill -TERM "$NS_PID" 2>/dev/null
    for _ in $(seq 200); do kill -0 "$NS_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$NS_PID" 2>/dev/null
    wait "$NS_PID" 2>/dev/null
}

# worker NAME ARGS...: glint serve --nats $URL ARGS on a background, waits (bounded) for its
# "worker on" line (and, with --listen, its HTTP port). Sets W_PID, W_PORT, W_LOG.
worker() {
    local name=$1
    shift
    W_LOG=$TMP/$name.log
    : >"$W_LOG"
    "$GLINT" serve --nats "$URL" "$@" 2>"$W_LOG" &
    W_PID=$!
    PIDS+=("$W_PID")
    W_PORT=
    local up=
    for _ in $(seq 300); do
        grep -q 'worker on nats://' "$W_LOG" && up=1
        W_PORT=$(sed -n 's|^glint serve: listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$W_LOG")
        if [ -n "$up" ] && { [ -n "$W_PORT" ] || ! grep -q -- '--listen' <<<"$*"; }; then
            return 0
        fi
        kill -0 "$W_PID" 2>/dev/null || break
        sleep 0.05
    done
    bad "$name-start" "the worker did not start: $(head -c 600 "$W_LOG")"
    return 1
}


# metric PORT NAME-WITH-LABELS: its value from /metrics (empty if absent).
metric() {
    curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}

# wait_metric PORT NAME MIN: wait (at most 20 s) until the metric is at least MIN.
wait_metric() {
    local v
    for _ in $(seq 400); do
        v=$(metric "$1" "$2")
        [ -n "$v" ] && [ "$v" -ge "$3" ] && return 0
        sleep 0.05
    done
    return 1
}

# field OUTPUT NAME: a count from natsload's summary line.
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }

# A SpinLoops argument that takes a few milliseconds of guest time (a few seconds for LONG).
SHORT=20000000
LONG=4000000000

# ---- request/reply through two workers: every answer right, both answer some ----------------
if nats_start share; then
    if worker share-a --guest "$HELLO" --pool 2 --wait-ms 5000 --listen 127.0.0.1:0 --no-access-log; then
        a_pid=$W_PID a_port=$W_PORT
        if worker share-b --guest "$HELLO" --pool 2 --wait-ms 5000 --listen 127.0.0.1:0 --no-access-log; then
            b_pid=$W_PID b_port=$W_PORT
            out=$(timeout 60 "$LOAD" --url "$URL" --count 400 --concurrency 2)
            check share/all-answered "natsload: $out" [ "$(field "$out" ok)" = 400 ]
            va=$(metric "$a_port" 'glint_transport_requests_total{transport="nats"}')
            vb=$(metric "$b_port" 'glint_transport_requests_total{transport="nats"}')
            [ "${va:-0}" -gt 0 ] && [ "${vb:-0}" -gt 0 ]
            check share/both-answer "worker a answered ${va:-?}, b ${vb:-?} of 400" [ $? = 0 ]
            check share/counts-add-up "a $va + b $vb != 400" [ $((${va:-0} + ${vb:-0})) = 400 ]
            h0=$(metric "$a_port" 'glint_transport_requests_total{transport="http"}')
            body=$(curl -s --max-time 5 -d '["h"]' "http://127.0.0.1:$a_port/v1/functions/Echo")
            check share/http-too "HTTP on a NATS worker answered: $body" [ "$body" = '{"result":"h"}' ]
            h1=$(metric "$a_port" 'glint_transport_requests_total{transport="http"}')
            # The Echo and the scrape before it (a scrape counts once it is answered).
            check share/http-counted "http requests went from ${h0:-?} to ${h1:-?}" [ $((${h1:-0} - ${h0:-0})) = 2 ]
            stop_pid "$b_pid"
            check share/exit-0 "worker b exited $STATUS" [ "$STATUS" = 0 ]
        fi
        stop_pid "$a_pid"
    fi
    nats_stop
fi

# ---- drain on SIGTERM: the request in flight is answered, then exit 0 ------------------------
if nats_start drain; then
    if worker drain --guest "$TYPES" --pool 1 --timeout-ms 30000 --listen 127.0.0.1:0 --no-access-log; then
        timeout 60 "$LOAD" --url "$URL" --spin "$LONG" --count 1 --concurrency 1 --timeout-ms 40000 >"$TMP/drain.out" &
        load=$!
        wait_metric "$W_PORT" glint_nats_in_flight 1
        check drain/in-flight "the long request never started" [ "$(metric "$W_PORT" glint_nats_in_flight)" = 1 ]
        stop_pid "$W_PID"
        check drain/exit-0 "exit status $STATUS: $(tail -n 3 "$W_LOG")" [ "$STATUS" = 0 ]
        check drain/logged "no drain line: $(tail -n 3 "$W_LOG")" grep -q 'SIGTERM: draining 1 request in flight' "$W_LOG"
        wait "$load"
        out=$(cat "$TMP/drain.out")
        check drain/answered "natsload: $out" [ "$(field "$out" ok)" = 1 ]
        out=$(timeout 30 "$LOAD" --url "$URL" --count 1 --concurrency 1 --timeout-ms 2000)
        check drain/unsubscribed "a request after the drain: $out" [ "$(field "$out" noresponders)" = 1 ]
    fi
    nats_stop
fi

# ---- nats-server restart mid-run: the worker reconnects, later requests succeed -------------
if nats_start restart; then
    port=$NS_PORT
    if worker restart --guest "$HELLO" --pool 1 --wait-ms 5000 --reconnect-wait-ms 100; then # NATS only
        out=$(timeout 60 "$LOAD" --url "$URL" --count 50 --concurrency 2)
        check restart/before "natsload: $out" [ "$(field "$out" ok)" = 50 ]
        nats_stop
        nats_start restart2 "$port"
        for _ in $(seq 400); do grep -q 'NATS reconnected' "$W_LOG" && break; sleep 0.05; done
        check restart/reconnected "no reconnect within 20 s: $(tail -n 3 "$W_LOG")" grep -q 'NATS reconnected' "$W_LOG"
        out=$(timeout 60 "$LOAD" --url "$URL" --count 50 --concurrency 2)
        check restart/after "natsload: $out" [ "$(field "$out" ok)" = 50 ]
        stop_pid "$W_PID"
        check restart/exit-0 "exit status $STATUS" [ "$STATUS" = 0 ]
    fi
    nats_stop
fi

# ---- JetStream across a nats-server restart (same store): jobs before and after answered ---
if nats_start jsrestart; then
    port=$NS_PORT
    if worker jsrestart --jetstream --guest "$HELLO" --pool 1 --reconnect-wait-ms 100 \
        --listen 127.0.0.1:0 --no-access-log; then
        out=$(timeout 60 "$LOAD" --url "$URL" --jetstream --count 50 --concurrency 10 --timeout-ms 20000 --linger-ms 0 --tag before)
        check jsrestart/before "natsload: $out" [ "$(field "$out" ok)" = 50 ]
        kill -TERM "$NS_PID" 2>/dev/null
        for _ in $(seq 200); do kill -0 "$NS_PID" 2>/dev/null || break; sleep 0.05; done
        wait_metric "$W_PORT" glint_nats_disconnects_total 1
        ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$W_PORT/readyz")
        check jsrestart/not-ready-while-down "/readyz answered $ready with NATS down" [ "$ready" = 503 ]
        # The same store directory: the stream and consumer survive the restart.
        "$NATS_SERVER" -a 127.0.0.1 -p "$port" -js -sd "$TMP/jsrestart.js" >"$TMP/jsrestart2.nats.log" 2>&1 &
        NS_PID=$!
        PIDS+=("$NS_PID")
        wait_metric "$W_PORT" glint_nats_reconnects_total 1
        out=$(timeout 60 "$LOAD" --url "$URL" --jetstream --count 50 --concurrency 10 --timeout-ms 20000 --linger-ms 0 --tag after)
        check jsrestart/after "natsload: $out; worker: $(tail -n 2 "$W_LOG")" [ "$(field "$out" ok)" = 50 ]
        ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$W_PORT/readyz")
        check jsrestart/ready-again "/readyz answered $ready after the reconnect" [ "$ready" = 200 ]
        stop_pid "$W_PID"
        check jsrestart/exit-0 "exit status $STATUS" [ "$STATUS" = 0 ]
    fi
    nats_stop
fi

# ---- overload: more concurrent requests than sandboxes -> immediate overloaded answers -------
if nats_start overload; then
    if worker overload --guest "$TYPES" --pool 1 --queue 0 --wait-ms 20 --timeout-ms 30000 \
        --listen 127.0.0.1:0 --no-access-log; then
        timeout 60 "$LOAD" --url "$URL" --spin "$LONG" --count 1 --concurrency 1 --timeout-ms 40000 >"$TMP/long.out" &
        long=$!
        wait_metric "$W_PORT" glint_nats_in_flight 1
        out=$(timeout 30 "$LOAD" --url "$URL" --spin 1 --count 8 --concurrency 8 --timeout-ms 10000)
        check overload/overloaded-answers "natsload: $out" [ "$(field "$out" overloaded)" = 8 ]
        check overload/still-busy "the long call ended before the overloaded answers came (too fast a host?)" \
            [ "$(metric "$W_PORT" glint_nats_in_flight)" = 1 ]
        check overload/counted "glint_nats_overloaded_total: $(metric "$W_PORT" glint_nats_overloaded_total)" \
            [ "$(metric "$W_PORT" glint_nats_overloaded_total)" = 8 ]
        stop_pid "$W_PID"
        wait "$long"
        out=$(cat "$TMP/long.out")
        check overload/long-answered "natsload: $out" [ "$(field "$out" ok)" = 1 ]
    fi
    nats_stop
fi

# ---- core mode, a worker killed with SIGKILL under load: timeouts, never wrong answers ------
if nats_start corekill; then
    if worker corekill-a --guest "$TYPES" --pool 2 --wait-ms 5000 --listen 127.0.0.1:0 --no-access-log; then
        a_pid=$W_PID a_port=$W_PORT
        if worker corekill-b --guest "$TYPES" --pool 2 --wait-ms 5000 --listen 127.0.0.1:0 --no-access-log; then
            b_pid=$W_PID
            timeout 120 "$LOAD" --url "$URL" --spin "$SHORT" --count 200 --concurrency 4 --timeout-ms 3000 >"$TMP/corekill.out" &
            load=$!
            wait_metric "$a_port" 'glint_transport_requests_total{transport="nats"}' 20
            kill -KILL "$a_pid"
            wait "$load"
            out=$(cat "$TMP/corekill.out")
            echo "   core kill: $out"
            n_ok=$(field "$out" ok) n_to=$(field "$out" timeout)
            check corekill/none-wrong "natsload: $out" [ "$(field "$out" wrong)" = 0 ]
            check corekill/ok-or-timeout "natsload: $out" [ $((n_ok + n_to)) = 200 ]
            check corekill/survivor-answers "natsload: $out" [ "$n_ok" -gt 100 ]
            stop_pid "$b_pid"
        fi
    fi
    nats_stop
fi

# ---- JetStream, a worker killed with SIGKILL mid-run: every job answered, none wrong --------
if nats_start jskill; then
    js_args=(--jetstream --ack-wait-ms 2000 --js-max-ack-pending 64 --guest "$TYPES" --pool 2
        --listen 127.0.0.1:0 --no-access-log)
    if worker jskill-a "${js_args[@]}"; then
        a_pid=$W_PID a_port=$W_PORT
        if worker jskill-b "${js_args[@]}"; then
            b_pid=$W_PID b_port=$W_PORT
            timeout 120 "$LOAD" --url "$URL" --jetstream --spin "$SHORT" --count 200 --concurrency 200 \
                --timeout-ms 30000 --linger-ms 3000 >"$TMP/jskill.out" &
            load=$!
            wait_metric "$a_port" glint_jetstream_acks_total 20
            inflight=$(metric "$a_port" glint_nats_in_flight)
            kill -KILL "$a_pid"
            wait "$load"
            out=$(cat "$TMP/jskill.out")
            redelivered=$(metric "$b_port" glint_jetstream_redeliveries_total)
            echo "   JetStream kill: $out; worker a had ${inflight:-?} jobs in flight when killed;" \
                "worker b saw ${redelivered:-?} redeliveries, acked $(metric "$b_port" glint_jetstream_acks_total)"
            check jskill/every-job-answered "natsload: $out" [ "$(field "$out" ok)" = 200 ]
            check jskill/none-lost "natsload: $out" [ "$(field "$out" timeout)" = 0 ]
            check jskill/none-wrong "natsload: $out" [ "$(field "$out" wrong)" = 0 ]
            check jskill/no-errors "natsload: $out" [ "$(field "$out" error)" = 0 ]
            check jskill/redelivered "worker a had ${inflight:-?} jobs in flight; b saw ${redelivered:-0} redeliveries" \
                [ "${redelivered:-0}" -ge 1 ]
            stop_pid "$b_pid"
            check jskill/exit-0 "worker b exited $STATUS" [ "$STATUS" = 0 ]
        fi
    fi
    nats_stop
fi

# ---- JetStream drain: jobs in flight are answered and acked before exit 0 --------------------
if nats_start jsdrain; then
    if worker jsdrain --jetstream --guest "$TYPES" --pool 1 --timeout-ms 30000 --listen 127.0.0.1:0 --no-access-log; then
        timeout 60 "$LOAD" --url "$URL" --jetstream --spin "$LONG" --count 1 --timeout-ms 40000 --linger-ms 0 >"$TMP/jsdrain.out" &
        load=$!
        wait_metric "$W_PORT" glint_nats_in_flight 1
        stop_pid "$W_PID"
        check jsdrain/exit-0 "exit status $STATUS: $(tail -n 3 "$W_LOG")" [ "$STATUS" = 0 ]
        wait "$load"
        out=$(cat "$TMP/jsdrain.out")
        check jsdrain/answered "natsload: $out" [ "$(field "$out" ok)" = 1 ]
    fi
    nats_stop
fi

# ---- a config file's "nats" object, no "listen": a NATS-only worker --------------------------
if nats_start config; then
    printf '{"nats": {"url": "%s", "reconnect_wait_ms": 100}, "access_log": false,
  "functions": [{"guest": "%s", "export": "Echo", "pool": 1, "wait_ms": 5000}]}' "$URL" "$HELLO" >"$TMP/nats.json"
    "$GLINT" serve --config "$TMP/nats.json" 2>"$TMP/config.log" &
    c_pid=$!
    PIDS+=("$c_pid")
    for _ in $(seq 300); do grep -q 'worker on nats://' "$TMP/config.log" && break; sleep 0.05; done
    out=$(timeout 60 "$LOAD" --url "$URL" --count 20 --concurrency 1)
    check config/nats-only "natsload: $out; log: $(head -c 300 "$TMP/config.log")" [ "$(field "$out" ok)" = 20 ]
    check config/no-http "an HTTP server started without listen" [ "$(grep -c 'listening on http' "$TMP/config.log")" = 0 ]
    stop_pid "$c_pid"
    check config/exit-0 "exit status $STATUS" [ "$STATUS" = 0 ]
    nats_stop
fi

# ---- command line ----------------------------------------------------------------------------
"$GLINT" serve --guest "$HELLO" --jetstream >/dev/null 2>"$TMP/bad.err"
rc=$?
check usage/jetstream-needs-nats "exit $rc: $(cat "$TMP/bad.err")" grep -q 'need --nats' "$TMP/bad.err"
"$GLINT" serve --guest "$HELLO" --nats http://127.0.0.1:1 >/dev/null 2>"$TMP/bad.err"
rc=$?
check usage/nats-url "exit $rc: $(cat "$TMP/bad.err")" [ $rc = 2 ]
"$GLINT" serve --guest "$HELLO" --nats nats://127.0.0.1:1 >/dev/null 2>"$TMP/bad.err"
rc=$?
[ $rc = 3 ] && grep -q 'cannot connect to NATS' "$TMP/bad.err"
check usage/no-server "exit $rc: $(cat "$TMP/bad.err")" [ $? = 0 ]

echo "nats: $passed passed, $failed failed"
[ "$failed" = 0 ]
