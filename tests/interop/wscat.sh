#!/usr/bin/env bash
# interop.wscat: the wscat example against Node's ws server and our echo_server.
#   wscat.sh WSCAT ECHO_SERVER
set -u
WSCAT=$1
ECHO_SERVER=$2
source "$(dirname "$0")/lib.sh"
need_node

start_node node "$INTEROP_DIR/node_server.js"
N="ws://127.0.0.1:$NODE_PORT"
start_echo echo "$ECHO_SERVER"
E="ws://127.0.0.1:$ECHO_PORT"

passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
# expect NAME STATUS: checks the status of the last run ($rc)
expect() { [ "$rc" -eq "$2" ] && ok "$1 (exit $rc)" || { bad "$1: exit $rc, wanted $2"; cat "$WORK/err" >&2; }; }

# run ARGS... with stdin from $WORK/in; output in $WORK/out and $WORK/err
run() { timeout 60 "$WSCAT" "$@" <"$WORK/in" >"$WORK/out" 2>"$WORK/err"; rc=$?; }

printf 'hello\nw\303\266rld \360\237\216\211\n\nno newline at the end' >"$WORK/in"
printf 'hello\nw\303\266rld \360\237\216\211\n\nno newline at the end\n' >"$WORK/want"
run "$N/echo"
expect "text lines echoed by Node, clean close" 0
cmp -s "$WORK/out" "$WORK/want" && ok "Node echo: output matches line for line" || bad "Node echo output differs"
grep -q "closed with code 1000" "$WORK/err" && ok "stderr reports the 1000 close" || bad "no close line on stderr"

run --binary "$E/"
expect "binary lines echoed by echo_server" 0
cmp -s "$WORK/out" "$WORK/want" && ok "echo_server echo: output matches" || bad "echo_server output differs"

head -c 1048576 /dev/zero | tr '\0' 'z' >"$WORK/in"
run "$E/"
expect "one 1 MiB line through echo_server" 0
[ "$(wc -c <"$WORK/out")" -eq 1048577 ] && [ "$(tr -d 'z\n' <"$WORK/out" | wc -c)" -eq 0 ] &&
    ok "1 MiB line comes back whole" || bad "1 MiB line came back as $(wc -c <"$WORK/out") bytes"

: >"$WORK/in"
run "$N/echo"
expect "empty stdin: connect, close 1000, exit 0" 0

printf 'x\n' >"$WORK/in"
run --subprotocol foo --subprotocol superchat "$N/echo"
expect "subprotocols offered" 0
grep -q "subprotocol: superchat" "$WORK/err" && ok "Node picked superchat" || bad "no 'subprotocol: superchat' on stderr"
run --subprotocol "foo, chat" "$E/"
expect "comma list offered to echo_server without subprotocols" 0
grep -q "subprotocol" "$WORK/err" && bad "echo_server should pick none" || ok "echo_server picked none"

run --header "X-Interop: yes" --header "X-Other: 2" "$N/headers"
expect "custom headers" 0
head -n 1 "$WORK/out" | grep -q '"x-interop":"yes","x-other":"2"' && ok "headers arrive at Node" ||
    { bad "headers missing"; head -c 300 "$WORK/out" >&2; }

printf '{"cmd":"close","code":4001,"reason":"bye now"}\n' >"$WORK/in"
run --keep-open "$N/ctl"
expect "server closes with 4001: exit 2" 2
grep -q "closed with code 4001: bye now" "$WORK/err" && ok "4001 and its reason on stderr" || bad "close line missing"

printf '{"cmd":"terminate"}\n' >"$WORK/in"
run --keep-open "$N/ctl"
expect "server drops TCP: exit 2" 2

: >"$WORK/in"
run "$N/status404"
expect "HTTP 404: exit 1" 1
grep -q "handshake failed: server answered with an HTTP status other than 101 (HTTP status 404)" "$WORK/err" &&
    ok "404 reason on stderr" || { bad "404 reason missing"; cat "$WORK/err" >&2; }

run "$N/bad-accept"
expect "bad accept: exit 1" 1
grep -q "Sec-WebSocket-Accept does not match" "$WORK/err" && ok "accept reason on stderr" || bad "accept reason missing"

start=$(date +%s)
run --handshake-timeout 300 "$N/hang"
expect "hanging server: exit 1" 1
grep -q "timed out" "$WORK/err" && [ $(($(date +%s) - start)) -lt 20 ] && ok "times out quickly" || bad "no timeout"

run "ws://127.0.0.1:1/"
expect "refused: exit 1" 1
grep -q "cannot connect" "$WORK/err" && ok "refusal on stderr" || bad "refusal message missing"

printf '\377\n' >"$WORK/in"
run "$E/"
expect "invalid UTF-8 line is not sent as text" 0
grep -q "not valid UTF-8" "$WORK/err" && ok "warns about the invalid line" || bad "no UTF-8 warning"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
