#!/usr/bin/env bash
# interop.autobahn_client: the Autobahn testee client against a Node
# stand-in for the fuzzing server (fake_autobahn.js).
#   autobahn.sh AUTOBAHN_CLIENT
set -u
CLIENT=$1
source "$(dirname "$0")/lib.sh"
need_node

AGENT="ws.h interop"
start_node fake "$INTEROP_DIR/fake_autobahn.js" "$AGENT"
timeout 120 "$CLIENT" "ws://127.0.0.1:$NODE_PORT/" "$AGENT"
client=$?
wait_exit "$NODE_PID" 30
fake=$EXIT_STATUS
cat "$WORK/fake.out" "$WORK/fake.out.err"
[ $client -eq 0 ] || echo "FAIL autobahn_client exited $client"
[ $client -eq 0 ] && [ $fake -eq 0 ]
