# Shared by the interop test scripts (sourced, not run). Each script starts
# its own peers on free 127.0.0.1 ports and stops them by PID on exit.

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_MODULES="$INTEROP_DIR/../node/node_modules"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ws-interop.XXXXXX")
PIDS=()

die() {
    echo "FAIL: $*" >&2
    exit 1
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Node and the pinned ws package are required: a missing tool is a failure.
need_node() {
    NODE=$(command -v node) || die "node not found (install nodejs; see tests/apt-packages.txt)"
    [ -f "$NODE_MODULES/ws/package.json" ] ||
        die "tests/node/node_modules/ws missing: run 'npm ci' in tests/node"
}

# wait_for_line FILE PATTERN PID SECONDS: waits until FILE has a line
# matching PATTERN; fails if PID exits first or time runs out.
wait_for_line() {
    local file=$1 pattern=$2 pid=$3 limit=$(($4 * 10)) i=0
    while ! grep -q "$pattern" "$file" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$file" "$file.err" >&2 2>/dev/null; die "process $pid exited before printing '$pattern'"; }
        i=$((i + 1))
        [ $i -le $limit ] || die "process $pid did not print '$pattern' within $4 s"
        sleep 0.1
    done
}

# start_echo NAME PROGRAM [ARGS...]: runs an echo server on a free port;
# sets ECHO_PID and ECHO_PORT. Output goes to $WORK/NAME.out and .err.
start_echo() {
    local name=$1
    shift
    "$@" --host 127.0.0.1 --port 0 >"$WORK/$name.out" 2>"$WORK/$name.out.err" &
    ECHO_PID=$!
    PIDS+=("$ECHO_PID")
    wait_for_line "$WORK/$name.out" "listening on ws://" "$ECHO_PID" 60
    ECHO_PORT=$(sed -n 's#.*listening on ws://127\.0\.0\.1:\([0-9][0-9]*\)/.*#\1#p' "$WORK/$name.out")
    [ -n "$ECHO_PORT" ] || die "cannot read the port of $name"
}

# start_node NAME SCRIPT [ARGS...]: runs a Node peer that prints
# "listening PORT"; sets NODE_PID and NODE_PORT.
start_node() {
    local name=$1
    shift
    "$NODE" "$@" >"$WORK/$name.out" 2>"$WORK/$name.out.err" &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    wait_for_line "$WORK/$name.out" "^listening [0-9]" "$NODE_PID" 60
    NODE_PORT=$(sed -n 's/^listening \([0-9][0-9]*\).*/\1/p' "$WORK/$name.out")
    [ -n "$NODE_PORT" ] || die "cannot read the port of $name"
}

# wait_exit PID SECONDS: waits for a child to exit; sets EXIT_STATUS
# (fails if it is still running after SECONDS).
wait_exit() {
    local pid=$1 limit=$(($2 * 10)) i=0
    while kill -0 "$pid" 2>/dev/null; do
        # (bash reaps its children as they exit, so kill -0 fails then)
        i=$((i + 1))
        [ $i -le $limit ] || die "process $pid still running after $2 s"
        sleep 0.1
    done
    wait "$pid"
    EXIT_STATUS=$?
}
