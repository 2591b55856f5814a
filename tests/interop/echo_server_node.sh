#!/usr/bin/env bash
# interop.echo_server_node_client: Node's ws client against our echo_server.
#   echo_server_node.sh ECHO_SERVER_BINARY
# Starts two echo servers (one with a small --max-message), runs
# echo_client.js against them; its last case stops the first server with
# SIGTERM, which must then exit 0 (under ASan: with no leak reported); the
# second server is stopped with SIGINT and must exit 0 as well.
set -u
ECHO_SERVER=$1
source "$(dirname "$0")/lib.sh"
need_node

SMALL=100000
start_echo main "$ECHO_SERVER" --subprotocol chat,superchat
MAIN_PID=$ECHO_PID MAIN_PORT=$ECHO_PORT
start_echo small "$ECHO_SERVER" --max-message $SMALL
SMALL_PID=$ECHO_PID SMALL_PORT=$ECHO_PORT

"$NODE" "$INTEROP_DIR/echo_client.js" "ws://127.0.0.1:$MAIN_PORT/" "ws://127.0.0.1:$SMALL_PORT/chat" $SMALL $MAIN_PID
NODE_STATUS=$?

wait_exit $MAIN_PID 30
MAIN_STATUS=$EXIT_STATUS
kill -INT $SMALL_PID
wait_exit $SMALL_PID 30
SMALL_STATUS=$EXIT_STATUS
cat "$WORK/main.out.err" "$WORK/small.out.err" >&2

fails=0
[ $NODE_STATUS -eq 0 ] || { echo "FAIL: node client reported failures"; fails=$((fails + 1)); }
[ $MAIN_STATUS -eq 0 ] && echo "ok   echo_server exits 0 after SIGTERM" ||
    { echo "FAIL: echo_server exited $MAIN_STATUS after SIGTERM"; fails=$((fails + 1)); }
[ $SMALL_STATUS -eq 0 ] && echo "ok   second echo_server exits 0 after SIGINT" ||
    { echo "FAIL: second echo_server exited $SMALL_STATUS"; fails=$((fails + 1)); }
# Sizes it must refuse (exit 2, before listening), among them a count that
# its suffix would carry past 64 bits into a small number.
for bad in 0 -5 12x 1.5M 18014398509481985K 99999999999999999999; do
    if out=$(timeout 5 "$ECHO_SERVER" --port 0 --max-message "$bad" 2>&1); then st=0; else st=$?; fi
    if [ $st -eq 2 ] && [[ $out == *"bad size"* ]]; then
        echo "ok   --max-message $bad is refused"
    else
        echo "FAIL: --max-message $bad: exit $st, $out"
        fails=$((fails + 1))
    fi
done
exit $((fails > 0))
