#!/usr/bin/env bash
# interop.load_1000: 1000 concurrent Node ws clients against our echo_server.
#   load.sh ECHO_SERVER [CONNECTIONS]
set -u
ECHO_SERVER=$1
CONNS=${2:-1000}
source "$(dirname "$0")/lib.sh"
need_node

# Both processes hold one descriptor per connection, plus a few.
NEED=$((CONNS + 200))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $NEED ]; then
    ulimit -n "$(ulimit -H -n)" 2>/dev/null
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $NEED ]; then
        ulimit -n $NEED 2>/dev/null || die "open file limit $(ulimit -n) < $NEED and cannot be raised (hard limit $(ulimit -H -n))"
    fi
fi
echo "open file limit: $(ulimit -n)"

start_echo echo "$ECHO_SERVER"
"$NODE" "$INTEROP_DIR/load.js" "ws://127.0.0.1:$ECHO_PORT/" "$CONNS" 6
status=$?
kill -TERM "$ECHO_PID"
wait_exit "$ECHO_PID" 60
[ $EXIT_STATUS -eq 0 ] && echo "ok   echo_server exits 0 after SIGTERM" ||
    { echo "FAIL echo_server exited $EXIT_STATUS"; status=1; }
[ -s "$WORK/echo.out.err" ] && cat "$WORK/echo.out.err"
exit $status
