#!/usr/bin/env bash
# glint serve end to end: real servers on free loopback ports, started and stopped here, checked
# with curl, raw sockets (bash /dev/tcp) and wrk. A `make check` stage (scripts/run-stages.sh).
#
# Usage: tests/serve/serve-tests.sh [BUILD]   (default build; needs BUILD/bin/glint and guests)
# Each test prints "ok NAME" or "FAIL NAME: why"; the last line is "serve: N passed, M failed".
# Without /dev/kvm the VM-backed tests skip loudly unless GLINT_REQUIRE_KVM=1.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${1:-build}
GLINT=$BUILD/bin/glint
HELLO=$BUILD/guests/hello.elf
TYPES=$BUILD/tests/guests/types.elf
FAULTS=$BUILD/tests/guests/faults.elf
LUA=$BUILD/guests/lua.elf
JS=$BUILD/guests/js.elf
HERE=tests/serve
TMP=$(mktemp -d "${TMPDIR:-/tmp}/glint-serve-tests.XXXXXX")
# shellcheck source=tests/support/http.sh
. tests/support/http.sh
passed=0 failed=0
PID="" PORT="" LOG=""

cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    if [ "${GLINT_REQUIRE_KVM:-0}" = 1 ]; then
        echo "FAIL serve: /dev/kvm is not usable and GLINT_REQUIRE_KVM=1"
        exit 1
    fi
    echo "SKIP serve: /dev/kvm is not usable; the serve tests need real VMs"
    exit 0
fi
for tool in curl wrk; do
    command -v $tool >/dev/null || { echo "FAIL serve: $tool is missing (scripts/ensure-deps.sh check)"; exit 1; }
done

ok() { echo "ok $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
# check NAME CONDITION-TEXT: run the condition (a command), ok or FAIL with a message.
check() {
    local name=$1 why=$2
    shift 2
    if "$@"; then ok "$name"; else bad "$name" "$why"; fi
}

# start NAME ARGS...: a server on a free port; waits (bounded) for its "listening" line and
# /readyz. Sets PID, PORT, LOG.
start() {
    local name=$1
    shift
    LOG=$TMP/$name.log
    : >"$LOG"
    "$GLINT" serve --listen 127.0.0.1:0 "$@" 2>"$LOG" &
    PID=$!
    PORT=
    for _ in $(seq 200); do
        PORT=$(sed -n 's|^glint serve: listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$LOG")
        [ -n "$PORT" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$PORT" ]; then
        bad "$name-start" "the server did not start: $(head -c 600 "$LOG")"
        PID=
        return 1
    fi
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/readyz")" = 200 ] && return 0
        sleep 0.05
    done
    bad "$name-ready" "/readyz never answered 200"
    return 1
}

# stop: SIGTERM, wait (bounded) for the exit; sets STATUS to its exit status (124: hung).
stop() {
    stop_pid "$PID"
    PID=
}

# req METHOD PATH [BODY] [CURL-ARGS...]: sets CODE, BODY and HEADERS (file).
req() { http_req "$PORT" "$@"; }

# expect NAME STATUS BODY-REGEX METHOD PATH [BODY]: one request and its answer.
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

# ---- API conformance on hello.elf and the test guests ---------------------------------------
if start api --guest "$HELLO" --pool 2 --max-body 4K; then
    expect api/echo 200 '^\{"result":"h\\u00e9llo|^\{"result":"héllo"\}$' POST /v1/functions/Echo '["héllo"]'
    expect api/add 200 '^\{"result":5\}$' POST /v1/functions/Add '[2,3]'
    expect api/void-result 200 '^\{"result":null\}$' POST /v1/functions/Greet '["ada"]'
    expect api/list 200 '"name":"Echo","params":\["string"\],"result":"string"' GET /v1/functions
    expect api/list-add 200 '"name":"Add","params":\["i32","i32"\],"result":"i32"' GET /v1/functions
    expect api/healthz 200 '"ok"' GET /healthz
    expect api/readyz 200 'true' GET /readyz
    expect api/bad-json 400 '"kind":"malformed_json"' POST /v1/functions/Add '[2,'
    expect api/not-an-array 400 '"kind":"malformed_json".*array' POST /v1/functions/Add '{"a":1}'
    expect api/empty-body 400 '"kind":"malformed_json"' POST /v1/functions/Add ''
    expect api/trailing-garbage 400 '"kind":"malformed_json"' POST /v1/functions/Add '[1,2] x'
    expect api/nul-in-string 400 '"kind":"malformed_json"' POST /v1/functions/Echo '["a\u0000b"]'
    expect api/wrong-type 400 '"kind":"bad_arguments".*argument 1 \(i32\)' POST /v1/functions/Add '["2",3]'
    expect api/wrong-count 400 '"kind":"bad_arguments".*takes 2 arguments' POST /v1/functions/Add '[2]'
    expect api/out-of-range 400 '"kind":"bad_arguments".*out of range for i32' POST /v1/functions/Add '[2147483648,1]'
    expect api/real-for-int 400 '"kind":"bad_arguments"' POST /v1/functions/Add '[1.5,1]'
    expect api/nested-arg 400 '"kind":"bad_arguments"' POST /v1/functions/Echo '[["x"]]'
    deep=$(head -c 4000 /dev/zero | tr '\0' '[')
    expect api/deeply-nested 400 '"kind":"malformed_json".*nested deeper' POST /v1/functions/Echo "$deep"
    deep2=$(printf '%0.s[' $(seq 33))$(printf '%0.s]' $(seq 33))
    expect api/nested-33 400 'nested deeper than 32' POST /v1/functions/Echo "$deep2"
    expect api/unknown-function 404 '"kind":"not_found".*Nope' POST /v1/functions/Nope '[]'
    expect api/unknown-route 404 '"kind":"not_found"' GET /v2/anything
    expect api/get-function 405 '"kind":"method_not_allowed"' GET /v1/functions/Echo
    check api/405-allow "405 without Allow: POST" grep -qi '^Allow: POST' "$HEADERS"
    big=$(head -c 6000 /dev/zero | tr '\0' 'a')
    expect api/huge-body 413 '"kind":"body_too_large"' POST /v1/functions/Echo "[\"$big\"]"
    req POST /v1/functions/Echo "[\"$big\"]" -H 'Transfer-Encoding: chunked'
    check api/huge-chunked-body "want 413, got $CODE $BODY" [ "$CODE" = 413 ]
    expect api/guest-error 422 '"kind":"guest_error".*Multiply' POST /v1/functions/MultiplyOnHost '[2,3]'
    expect api/after-errors 200 '^\{"result":"still here"\}$' POST /v1/functions/Echo '["still here"]'
    req GET /metrics
    check api/metrics-requests "no Echo 200 counter: $(echo "$BODY" | head -5)" \
        grep -q '^glint_requests_total{function="Echo",status="200"} [1-9]' <<<"$BODY"
    check api/metrics-400 "no Add 400 counter" grep -q '^glint_requests_total{function="Add",status="400"} [1-9]' <<<"$BODY"
    check api/metrics-failures "no guest_error failure counter" \
        grep -q '^glint_failures_total{function="MultiplyOnHost",kind="guest_error"} 1$' <<<"$BODY"
    check api/metrics-histogram "no latency histogram" \
        grep -q '^glint_request_duration_seconds_bucket{function="Echo",le="+Inf"} [1-9]' <<<"$BODY"
    check api/metrics-pool "no pool gauges" grep -q '^glint_pool_sandboxes{function="Echo",state="size"} 2$' <<<"$BODY"
    check api/metrics-restores "no restores counter" grep -q '^glint_restores_total{function="Echo"} [1-9]' <<<"$BODY"
    check api/metrics-modes "no hot/exit call counters" grep -q '^glint_calls_total{function="Echo",mode="hot"} 0$' <<<"$BODY"
    check api/metrics-content-type "metrics not text/plain" grep -qi '^Content-Type: text/plain; version=0.0.4' "$HEADERS"
    check api/access-log "no access-log line for the Echo call" \
        grep -q 'method=POST path=/v1/functions/Echo status=200 function=Echo kind=- ' "$LOG"
    check api/access-log-escapes "a raw control byte reached the log" \
        bash -c "curl -s -o /dev/null 'http://127.0.0.1:$PORT/%0a%1b' ; ! grep -qP '\x1b' '$LOG'"
    stop
    check api/exit-0 "exit status $STATUS" [ "$STATUS" = 0 ]
fi

if start types --guest "$TYPES" --pool 1 --timeout-ms 5000; then
    # Bytes: every byte value through base64 and back.
    all=$(python3 -c 'import base64;print(base64.b64encode(bytes(range(256))).decode())' 2>/dev/null ||
        head -c 0 /dev/null)
    [ -n "$all" ] || all=$(printf '%b' "$(printf '\\x%02x' $(seq 0 255))" | base64 -w0)
    expect types/bytes-roundtrip 200 "^\\{\"result\":\"${all//+/\\+}\"\\}\$" POST /v1/functions/EchoBytes "[\"$all\"]"
    expect types/bytes-empty 200 '^\{"result":""\}$' POST /v1/functions/EchoBytes '[""]'
    expect types/bytes-not-base64 400 '"kind":"bad_arguments".*base64' POST /v1/functions/EchoBytes '["abc"]'
    expect types/bytes-noncanonical 400 'canonical base64' POST /v1/functions/EchoBytes '["QR=="]'
    expect types/u64-max 200 '^\{"result":18446744073709551615\}$' POST /v1/functions/EchoU64 '["18446744073709551615"]'
    expect types/i64-min 200 '^\{"result":-9223372036854775808\}$' POST /v1/functions/EchoI64 '[-9223372036854775808]'
    expect types/u32-negative 400 'out of range for u32' POST /v1/functions/EchoU32 '[-1]'
    expect types/f64 200 '^\{"result":0.1\}$' POST /v1/functions/EchoF64 '[0.1]'
    expect types/f32 200 '^\{"result":0.1\}$' POST /v1/functions/EchoF32 '[0.1]'
    expect types/f64-inf 200 '^\{"result":"-Infinity"\}$' POST /v1/functions/EchoF64 '["-Infinity"]'
    expect types/bool 200 '^\{"result":true\}$' POST /v1/functions/EchoBool '[true]'
    expect types/bool-wrong 400 'expected true or false' POST /v1/functions/EchoBool '[1]'
    expect types/guest-error 422 '"kind":"guest_error".*requested error 7' POST /v1/functions/ReturnError '[7]'
    # Isolation: the counter starts from the image state on every request.
    expect types/isolated-1 200 '^\{"result":1\}$' POST /v1/functions/Counter '[]'
    expect types/isolated-2 200 '^\{"result":1\}$' POST /v1/functions/Counter '[]'
    big=$(head -c 20000 /dev/zero | tr '\0' 'x')
    expect types/too-big-for-guest 400 '"kind":"bad_arguments"' POST /v1/functions/EchoString "[\"$big\"]" \
        -H 'X-Note: 20000 bytes > the 16K input buffer'
    stop
fi

if start faults --guest "$FAULTS" --pool 1 --timeout-ms 200; then
    expect faults/fault 422 '"kind":"fault".*#PF' POST /v1/functions/NullDeref '[]'
    expect faults/abort 422 '"kind":"abort"' POST /v1/functions/Abort '[]'
    expect faults/timeout 504 '"kind":"timeout"' POST /v1/functions/Spin '[]'
    expect faults/after-timeout 200 '^\{"result":' POST /v1/functions/Ok '[]'
    req GET /metrics
    kinds() { grep -q 'kind="fault"} 1' "$TMP/body" && grep -q 'kind="abort"} 1' "$TMP/body" &&
        grep -q 'kind="timeout"} 1' "$TMP/body"; }
    check faults/metrics-kinds "fault/abort/timeout failures not counted" kinds
    stop
fi

# ---- --image with an ELF path (image files are accepted by the same loader) -----------------
# ---- hot pools: the same answers, counted as hot calls once admission gave a hot sandbox -----
if start hot --guest "$HELLO" --pool 1 --hot; then
    wrong=0
    for i in $(seq 30); do
        req POST /v1/functions/Add "[$i, 1]"
        [ "$CODE" = 200 ] && [ "$BODY" = "{\"result\":$((i + 1))}" ] || wrong=$((wrong + 1))
    done
    check hot/answers "$wrong of 30 answers wrong" [ "$wrong" = 0 ]
    req GET /metrics
    if grep -q 'glint_pool_sandboxes{function="Add",state="hot"} 1' <<<"$BODY"; then
        check hot/counted-as-hot "$(grep 'glint_calls_total{function="Add"' <<<"$BODY")" \
            grep -Eq 'glint_calls_total\{function="Add",mode="hot"\} [1-9]' <<<"$BODY"
    else
        echo "serve-tests: NOTE: no hot sandbox admitted on this host; hot/counted-as-hot not run"
    fi
    stop
fi

if start image --image "$HELLO" --pool 1 --export Echo; then
    expect image/echo 200 '^\{"result":"img"\}$' POST /v1/functions/Echo '["img"]'
    expect image/only-export 404 'not_found' POST /v1/functions/Add '[1,2]'
    stop
fi

# ---- --image with real image files (glint image build): hello, and a Lua handler -------------
if "$GLINT" image build "$HELLO" -o "$TMP/hello.gimg" 2>"$TMP/build.err" &&
    start gimg --image "$TMP/hello.gimg" --pool 1; then
    expect gimg/add 200 '^\{"result":5\}$' POST /v1/functions/Add '[2,3]'
    expect gimg/echo 200 '^\{"result":"from a file"\}$' POST /v1/functions/Echo '["from a file"]'
    stop
else
    bad gimg/build "glint image build hello failed: $(head -c 300 "$TMP/build.err")"
fi
if "$GLINT" image build "$LUA" --load "$HERE/greet.lua" -o "$TMP/greet.gimg" 2>"$TMP/build.err" &&
    start gimg-lua --image "$TMP/greet.gimg" --handler greet --pool 1; then
    expect gimg/lua-handler 200 '"greeting":"hello, ada hello, ada"' POST /v1/functions/greet '["ada", 2]'
    stop
else
    bad gimg/lua-build "glint image build lua --load failed: $(head -c 300 "$TMP/build.err")"
fi
# A corrupt image file: the server refuses to start, naming the problem.
if [ -f "$TMP/hello.gimg" ]; then
    cp "$TMP/hello.gimg" "$TMP/bad.gimg"
    printf '\377' | dd of="$TMP/bad.gimg" bs=1 seek=5000 conv=notrunc status=none
    rc=0
    timeout 20 "$GLINT" serve --listen 127.0.0.1:0 --image "$TMP/bad.gimg" >/dev/null 2>"$TMP/bad.err" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'header.checksum' "$TMP/bad.err"; then
        ok gimg/corrupt-refused
    else
        bad gimg/corrupt-refused "exit $rc: $(head -c 300 "$TMP/bad.err")"
    fi
fi

# ---- slow clients: the read deadline closes them; the server keeps answering ----------------
if start slow --guest "$HELLO" --pool 1 --read-timeout-ms 1000 --idle-timeout-s 1; then
    # Headers one byte every 100 ms: 60 bytes would take 6 s; the deadline is 1 s.
    slow_headers() {
        local line='POST /v1/functions/Echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n["hi"]'
        exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
        local bytes
        bytes=$(printf '%b' "$line")
        (for ((i = 0; i < ${#bytes}; i++)); do printf '%s' "${bytes:i:1}" >&3 2>/dev/null || exit 0; sleep 0.1; done) &
        local writer=$!
        local start=$SECONDS
        timeout 8 cat <&3 >"$TMP/slow1" 2>/dev/null
        local rc=$?
        kill "$writer" 2>/dev/null
        wait "$writer" 2>/dev/null
        exec 3<&- 3>&-
        # Closed by the server (cat saw EOF, rc 0) before the client could finish, no answer.
        [ $rc = 0 ] && [ $((SECONDS - start)) -lt 6 ] && [ ! -s "$TMP/slow1" ]
    }
    check slow/headers-byte-by-byte "connection not closed before the slow headers ended" slow_headers
    # Headers at once, then a body that never ends.
    slow_body() {
        exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
        printf 'POST /v1/functions/Echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n["hi' >&3
        local start=$SECONDS
        timeout 8 cat <&3 >"$TMP/slow2" 2>/dev/null
        local rc=$?
        exec 3<&- 3>&-
        [ $rc = 0 ] && [ $((SECONDS - start)) -lt 6 ]
    }
    check slow/body-never-finished "connection with an unfinished body not closed" slow_body
    check slow/logged-incomplete "no incomplete request in the access log" \
        grep -q 'path=/v1/functions/Echo status=0 function=Echo kind=incomplete' "$LOG"
    # An idle connection (no byte at all) is closed too.
    idle() {
        exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
        timeout 8 cat <&3 >/dev/null 2>&1
        local rc=$?
        exec 3<&- 3>&-
        [ $rc = 0 ]
    }
    check slow/idle-connection "an idle connection was never closed" idle
    expect slow/still-serving 200 '^\{"result":"ok"\}$' POST /v1/functions/Echo '["ok"]'
    stop
fi

# ---- the connection limit: connections beyond it are closed at once ------------------------
if start conns --guest "$HELLO" --pool 1 --max-connections 2 --read-timeout-ms 20000 --idle-timeout-s 20; then
    exec 4<>"/dev/tcp/127.0.0.1/$PORT" 5<>"/dev/tcp/127.0.0.1/$PORT"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/healthz")
    check conns/over-limit-refused "a third connection got $code" [ "$code" = 000 ]
    exec 4<&- 4>&-
    code=000
    for _ in $(seq 100); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/healthz")
        [ "$code" = 200 ] && break
        sleep 0.05
    done
    check conns/freed-slot-serves "after one closed, got $code" [ "$code" = 200 ]
    exec 5<&- 5>&-
    stop
fi

# ---- overload: more concurrent requests than sandboxes -> fast 429s, server responsive ------
if start overload --guest "$TYPES" --pool 1 --queue 0 --wait-ms 20 --timeout-ms 20000; then
    spin=5000000000 # a few seconds of guest time; only its overlap with the others matters
    curl -s -o "$TMP/long" -w '%{http_code} %{time_total}\n' --max-time 60 \
        -d "[$spin]" "http://127.0.0.1:$PORT/v1/functions/SpinLoops" >"$TMP/long.code" &
    long=$!
    # Wait (bounded) until the long call holds the only sandbox.
    for _ in $(seq 200); do
        curl -s "http://127.0.0.1:$PORT/metrics" | grep -q 'state="busy"} 1' && break
        sleep 0.02
    done
    clients=()
    for i in $(seq 8); do
        curl -s -D "$TMP/h$i" -o "$TMP/b$i" -w '%{http_code} %{time_total}\n' --max-time 30 \
            -d '[1]' "http://127.0.0.1:$PORT/v1/functions/SpinLoops" >"$TMP/c$i" &
        clients+=($!)
    done
    wait "${clients[@]}"
    n429=$(cat "$TMP"/c? | grep -c '^429 ')
    check overload/fast-429s "expected 8 429s while the sandbox is busy, got: $(cat "$TMP"/c? | tr '\n' ' ')" [ "$n429" = 8 ]
    check overload/retry-after "429 without Retry-After" grep -qi '^Retry-After: 1' "$TMP/h1"
    check overload/busy-kind "429 body: $(cat "$TMP/b1")" grep -q '"kind":"busy"' "$TMP/b1"
    expect overload/healthz-responsive 200 'ok' GET /healthz
    req GET /metrics
    check overload/still-busy "the long call ended before the 429s were checked (too fast a host?)" \
        grep -q 'state="busy"} 1' <<<"$BODY"
    wait "$long"
    check overload/long-call-ok "the long call: $(cat "$TMP/long.code")" grep -q '^200 ' "$TMP/long.code"
    expect overload/after 200 '^\{"result":5\}$' POST /v1/functions/SpinLoops '[5]'
    stop
fi

# ---- overload within the queue: admitted requests wait at most wait_ms for the sandbox ------
if start overload-wait --guest "$TYPES" --pool 1 --queue 8 --wait-ms 20 --timeout-ms 20000; then
    curl -s -o /dev/null --max-time 60 -d '[3000000000]' "http://127.0.0.1:$PORT/v1/functions/SpinLoops" &
    long=$!
    for _ in $(seq 200); do
        curl -s "http://127.0.0.1:$PORT/metrics" | grep -q 'state="busy"} 1' && break
        sleep 0.02
    done
    clients=()
    for i in $(seq 4); do
        curl -s -D "$TMP/wh$i" -o "$TMP/wb$i" -w '%{http_code}\n' --max-time 30 \
            -d '[1]' "http://127.0.0.1:$PORT/v1/functions/SpinLoops" >"$TMP/wc$i" &
        clients+=($!)
    done
    wait "${clients[@]}"
    n429=$(cat "$TMP"/wc? | grep -c '^429')
    check overload-wait/429-after-wait "expected 4 429s: $(cat "$TMP"/wc? | tr '\n' ' ')" [ "$n429" = 4 ]
    check overload-wait/wait-bound-message "$(cat "$TMP/wb1")" grep -q 'within the wait bound' "$TMP/wb1"
    check overload-wait/retry-after "no Retry-After" grep -qi '^Retry-After: 1' "$TMP/wh1"
    wait "$long"
    stop
fi

# ---- graceful shutdown with a request in flight -------------------------------------------
if start drain --guest "$TYPES" --pool 1 --timeout-ms 20000 --drain-ms 15000; then
    # An idle keep-alive connection, open before SIGTERM and known to be accepted by the server:
    # one request answered on it first (a connection still in the listen backlog at SIGTERM is
    # never accepted, which is not what this test is about).
    exec 6<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'POST /v1/functions/SpinLoops HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n[1]' >&6
    clen=0
    while IFS= read -r -t 10 line <&6; do
        line=${line%$'\r'}
        [ -z "$line" ] && break
        case "${line,,}" in content-length:*) clen=${line#*:} && clen=${clen// /} ;; esac
    done
    [ "$clen" -gt 0 ] && read -r -t 10 -N "$clen" _ <&6
    curl -s -o "$TMP/inflight" -w '%{http_code}' --max-time 60 -d '[2000000000]' \
        "http://127.0.0.1:$PORT/v1/functions/SpinLoops" >"$TMP/inflight.code" &
    inflight=$!
    for _ in $(seq 200); do
        curl -s "http://127.0.0.1:$PORT/metrics" | grep -q 'state="busy"} 1' && break
        sleep 0.02
    done
    port=$PORT
    kill -TERM "$PID"
    for _ in $(seq 200); do grep -q 'SIGTERM: draining' "$LOG" && break; sleep 0.02; done
    printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&6
    timeout 10 cat <&6 >"$TMP/drain503" 2>/dev/null
    exec 6<&- 6>&-
    check drain/new-request-503 "a request during the drain got: $(head -c 300 "$TMP/drain503")" \
        grep -q '^HTTP/1.1 503' "$TMP/drain503"
    check drain/connection-close "no Connection: close while draining" grep -qi '^Connection: close' "$TMP/drain503"
    stop
    wait "$inflight"
    check drain/in-flight-completes "in-flight request: $(cat "$TMP/inflight.code") $(cat "$TMP/inflight")" \
        [ "$(cat "$TMP/inflight.code")" = 200 ]
    check drain/result "in-flight result: $(cat "$TMP/inflight")" grep -q '^{"result":2000000000}$' "$TMP/inflight"
    check drain/exit-0 "exit status $STATUS after SIGTERM" [ "$STATUS" = 0 ]
    check drain/logged "drain line: $(grep draining "$LOG")" grep -Eq 'SIGTERM: draining [1-9][0-9]* requests? in flight' "$LOG"
    check drain/closed "the port still accepts after the exit" \
        bash -c "! curl -s --max-time 2 http://127.0.0.1:$port/healthz"
fi
if start sigint --guest "$HELLO" --pool 1; then
    kill -INT "$PID"
    STATUS=124
    for _ in $(seq 200); do kill -0 "$PID" 2>/dev/null || { wait "$PID"; STATUS=$?; break; }; sleep 0.05; done
    check sigint/exit-0 "exit status $STATUS after SIGINT" [ "$STATUS" = 0 ]
    PID=
fi

# ---- a wrk load run: every response body checked ------------------------------------------
if start wrk --guest "$HELLO" --pool 2 --no-access-log; then
    wrk -t2 -c4 -d3s --timeout 5s -s "$HERE/check.lua" "http://127.0.0.1:$PORT/v1/functions/Echo" >"$TMP/wrk.out" 2>&1
    line=$(grep '^wrk-check:' "$TMP/wrk.out")
    echo "  $line"
    resp=$(sed -n 's/.*responses=\([0-9]*\).*/\1/p' <<<"$line")
    check wrk/responses "no responses: $(tail -5 "$TMP/wrk.out")" [ "${resp:-0}" -gt 100 ]
    check wrk/zero-wrong "wrong bodies: $line" grep -q ' wrong=0 ' <<<"$line"
    check wrk/zero-other "statuses besides 200/429: $line" grep -q ' other=0 ' <<<"$line"
    check wrk/zero-errors "socket errors: $line" grep -q ' errors=0 ' <<<"$line"
    stop
    check wrk/exit-0 "exit status $STATUS" [ "$STATUS" = 0 ]
fi

# ---- a config file: Lua and JS handlers and a C export --------------------------------------
cat >"$TMP/fns.json" <<JSON
{
  "listen": "127.0.0.1:1",
  "limits": {"max_body": "64K", "read_timeout_ms": 5000},
  "functions": [
    {"guest": "$LUA", "load": "$HERE/greet.lua", "handler": "greet", "pool": 1},
    {"guest": "$JS", "load": "$HERE/add.js", "handler": "add", "pool": 1},
    {"name": "echo", "guest": "$HELLO", "export": "Echo", "pool": 1, "timeout_ms": 500}
  ]
}
JSON
if start config --config "$TMP/fns.json"; then
    expect config/lua-handler 200 '^\{"result":\{"greeting":"hello, ada hello, ada","words":3\}\}$|^\{"result":\{"words":3,"greeting":"hello, ada hello, ada"\}\}$' \
        POST /v1/functions/greet '["ada", 2]'
    expect config/js-handler 200 '^\{"result":\{("sum":5,"from":"js"|"from":"js","sum":5)\}\}$' POST /v1/functions/add '[2, 3]'
    expect config/c-export 200 '^\{"result":"cfg"\}$' POST /v1/functions/echo '["cfg"]'
    expect config/lua-bad-json 400 'malformed_json' POST /v1/functions/greet '["ada"'
    expect config/lua-error 422 '"kind":"guest_error"' POST /v1/functions/greet '[{"not":"a string"}]'
    expect config/list 200 '"name":"greet","handler":"greet"' GET /v1/functions
    stop
fi

# ---- bad configurations: clear errors naming the key, exit 2 --------------------------------
bad_config() { # NAME JSON MESSAGE-REGEX
    printf '%s' "$2" >"$TMP/bad.json"
    "$GLINT" serve --config "$TMP/bad.json" >/dev/null 2>"$TMP/bad.err"
    local rc=$?
    if [ $rc = 2 ] && grep -Eq "$3" "$TMP/bad.err"; then ok "$1"; else bad "$1" "exit $rc: $(cat "$TMP/bad.err")"; fi
}
bad_config config/unknown-key '{"functions":[{"guest":"x","pol":2}]}' 'functions\[0\]: unknown key "pol"'
bad_config config/pool-range '{"functions":[{"guest":"x","pool":0}]}' 'functions\[0\]\.pool: must be an integer 1\.\.256'
bad_config config/hot '{"functions":[{"guest":"x","hot":1}]}' 'functions\[0\]\.hot: must be true or false'
bad_config config/heap '{"functions":[{"guest":"x","heap":"1T"}]}' 'functions\[0\]\.heap'
bad_config config/not-json '{"functions": [' 'line 1'
bad_config config/limits '{"limits":{"max_body":0},"functions":[{"guest":"x"}]}' 'limits\.max_body'
bad_config config/no-path '{"functions":[{"pool":1}]}' 'functions\[0\]: needs "guest"'
"$GLINT" serve --guest "$HELLO" --listen nohost:80 >/dev/null 2>"$TMP/bad.err"
check usage/listen "bad --listen: $(cat "$TMP/bad.err")" grep -q 'host must be an IP address' "$TMP/bad.err"
"$GLINT" serve --guest "$HELLO" --config x >/dev/null 2>"$TMP/bad.err"
check usage/one-source "--guest with --config accepted" grep -q 'exactly one of' "$TMP/bad.err"
"$GLINT" serve --guest /nonexistent.elf --listen 127.0.0.1:0 >/dev/null 2>"$TMP/bad.err"
check usage/missing-guest "missing guest: exit $?" grep -q 'cannot load /nonexistent.elf' "$TMP/bad.err"

echo "serve: $passed passed, $failed failed"
[ "$failed" = 0 ]
