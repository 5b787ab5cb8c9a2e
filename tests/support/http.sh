# Shell helpers the end-to-end suites share (tests/serve, tests/nats, tests/natsgw): HTTP
# requests with curl, and bounded stops of the servers they start. Sourced; needs $TMP.

# http_req PORT METHOD PATH [BODY] [CURL-ARGS...]: sets CODE, BODY and HEADERS (a file).
http_req() {
    local port=$1 method=$2 path=$3
    shift 3
    local data=()
    if [ $# -gt 0 ]; then
        data=(--data-binary "$1")
        shift
    fi
    HEADERS=$TMP/headers
    CODE=$(curl -s -X "$method" -o "$TMP/body" -D "$HEADERS" -w '%{http_code}' --max-time 20 \
        -H 'Content-Type: application/json' "${data[@]}" "$@" "http://127.0.0.1:$port$path")
    BODY=$(cat "$TMP/body")
}

# stop_pid PID [SECONDS]: SIGTERM, then wait at most SECONDS (default 15) for the exit, then
# SIGKILL. Sets STATUS to the exit status (124: it had not exited in time).
stop_pid() {
    local pid=$1 tries=$((${2:-15} * 20))
    kill -TERM "$pid" 2>/dev/null
    STATUS=124
    for _ in $(seq "$tries"); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            STATUS=$?
            return
        fi
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
}
