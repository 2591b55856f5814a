#!/usr/bin/env bash
# interop.client_node_server / interop.handshake_failures: our client
# (interop_client.c) against Node's ws server (node_server.js).
#   client_node_server.sh INTEROP_CLIENT session|handshake
set -u
CLIENT=$1
MODE=$2
source "$(dirname "$0")/lib.sh"
need_node

start_node node "$INTEROP_DIR/node_server.js"
"$CLIENT" "$MODE" "ws://127.0.0.1:$NODE_PORT"
status=$?
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 30
[ -s "$WORK/node.out.err" ] && { echo "node server stderr:"; cat "$WORK/node.out.err"; }
exit $status
