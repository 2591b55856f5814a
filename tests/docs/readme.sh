#!/usr/bin/env bash
# docs.readme: the README's C examples compile and work. The Quick start
# client talks to the "server in a few lines" over loopback; the client must
# print the echo of its message and exit 0, and the server must exit 0 once
# the closing handshake is over.
#   readme.sh CC SOURCE_DIR WORK_DIR
# The server example leaves out its two include lines; they are put back.
# Port 9001 in both is replaced by a free one; processes are stopped by PID.
set -u
CC=$1
SRC=$2
WORK=$3
fail() {
    echo "FAIL: $*"
    [ -f "$WORK/server.out" ] && sed 's/^/server: /' "$WORK/server.out"
    echo "0 passed, 1 failed"
    exit 1
}
rm -rf "$WORK" && mkdir -p "$WORK" || fail "cannot make $WORK"
cd "$WORK" || fail "cannot enter $WORK"

awk '/^```c$/ { n++; f = sprintf("block%d.c", n); next } /^```/ { f = "" } f { print > f }' "$SRC/README.md"
client= server=
for f in block*.c; do
    [ -f "$f" ] || continue
    grep -q 'ws_connect_url' "$f" && grep -q 'int main' "$f" && [ -z "$client" ] && client=$f
    grep -q 'ws_tcp_listen' "$f" && grep -q 'int main' "$f" && [ -z "$server" ] && server=$f
done
[ -n "$client" ] || fail "no client example (a C block with main and ws_connect_url) in README.md"
[ -n "$server" ] || fail "no server example (a C block with main and ws_tcp_listen) in README.md"

# A free loopback port: bind port 0, read it back, let it go.
cat >port.c <<'C'
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &n)) return 1;
    printf("%u\n", (unsigned)ntohs(a.sin_port));
    close(fd);
    return 0;
}
C
"$CC" port.c -o port || fail "cannot build the port helper"
PORT=$(./port) || fail "no free port"
grep -q 9001 "$client" && grep -q 9001 "$server" || fail "the examples no longer use port 9001 (update this test)"
sed "s/9001/$PORT/g" "$client" >client.c
{ printf '#define WS_IMPLEMENTATION\n#include "ws.h"\n'; sed "s/9001/$PORT/g" "$server"; } >server.c
"$CC" -std=c99 -Wall -Werror -I"$SRC" client.c -o client || fail "the Quick start client does not compile"
"$CC" -std=c99 -Wall -Werror -I"$SRC" server.c -o server || fail "the server example does not compile"

./server >server.out 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null' EXIT
# The client exits 1 while the server is not listening yet: try again.
rc=1
for _ in $(seq 50); do
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited before a client came (port $PORT taken?)"
    timeout 20 ./client >client.out 2>client.err
    rc=$?
    [ $rc -ne 1 ] && break
    sleep 0.1
done
[ $rc -eq 0 ] || fail "the client exited $rc (124: it hung); stdout: $(head -c 200 client.out)"
[ "$(cat client.out)" = hello ] || fail "the client printed [$(head -c 200 client.out)], not the echo 'hello'"
for _ in $(seq 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null && fail "the server is still running 10 s after the client closed"
wait "$SERVER_PID"
src=$?
[ $src -eq 0 ] || fail "the server exited $src"
echo "ok   the Quick start client gets its echo from the README's server; both exit 0"
echo "1 passed, 0 failed"
