#!/usr/bin/env bash
# docs.readme: the README's C examples compile and work, each against the
# "server in a few lines" over loopback:
#   - the Quick start client must print the echo of its message, exit 0;
#   - the Threads example (post() from a worker thread, loop() on the
#     connection's thread), wrapped in a small program here, must get three
#     messages posted by another thread echoed back;
# and the server must exit 0 once the closing handshake is over.
#   readme.sh CC SOURCE_DIR WORK_DIR
# The server example leaves out its two include lines; they are put back.
# Port 9001 is replaced by a free one; processes are stopped by PID.
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
client= server= threads=
for f in block*.c; do
    [ -f "$f" ] || continue
    grep -q 'ws_connect_url' "$f" && grep -q 'int main' "$f" && [ -z "$client" ] && client=$f
    grep -q 'ws_tcp_listen' "$f" && grep -q 'int main' "$f" && [ -z "$server" ] && server=$f
    grep -q 'pthread_mutex_lock' "$f" && [ -z "$threads" ] && threads=$f
done
[ -n "$client" ] || fail "no client example (a C block with main and ws_connect_url) in README.md"
[ -n "$server" ] || fail "no server example (a C block with main and ws_tcp_listen) in README.md"
[ -n "$threads" ] || fail "no Threads example (a C block with pthread_mutex_lock) in README.md"

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
{
    printf '#define WS_IMPLEMENTATION\n#include "ws.h"\n'
    printf '#include <fcntl.h>\n#include <pthread.h>\n#include <stdio.h>\n#include <stdlib.h>\n'
    printf '#include <string.h>\n#include <time.h>\n#include <unistd.h>\n'
    cat "$threads"
    cat <<C
static struct outbox box = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, {-1, -1}};
static int got;
static void on_message(ws_conn *c, int op, const void *p, size_t n) {
    (void)op;
    printf("%.*s\\n", (int)n, (const char *)p);
    if (++got == 3) ws_close(c, 1000, "");
}
static void nap(long ms) {
    struct timespec ts = {0, 0};
    ts.tv_nsec = ms * 1000000L;
    nanosleep(&ts, NULL);
}
static void *worker(void *arg) {
    (void)arg;
    nap(200);
    post(&box, "one");
    post(&box, "two");
    nap(100);
    post(&box, "three");
    return NULL;
}
int main(void) {
    ws_config cfg = {0};
    ws_conn c;
    pthread_t t;
    cfg.on_message = on_message;
    if (pipe(box.wake) || fcntl(box.wake[0], F_SETFL, O_NONBLOCK) || fcntl(box.wake[1], F_SETFL, O_NONBLOCK)) return 2;
    if (ws_connect_url(&c, &cfg, "ws://127.0.0.1:$PORT/", NULL) < 0) return 1;
    if (pthread_create(&t, NULL, worker, NULL)) return 2;
    loop(&c, &box);
    pthread_join(t, NULL);
    ws_disconnect(&c);
    return got == 3 ? 0 : 3;
}
C
} >threads.c
"$CC" -std=c99 -Wall -Werror -D_POSIX_C_SOURCE=200809L -I"$SRC" threads.c -o threads -lpthread ||
    fail "the Threads example does not compile"

SERVER_PID=
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null' EXIT
# serve_one NAME PROGRAM WANT: runs the server example and PROGRAM against
# it; PROGRAM must exit 0 printing WANT, the server must exit 0 after it.
serve_one() {
    local name=$1 prog=$2 want=$3 rc=1 src
    ./server >server.out 2>&1 &
    SERVER_PID=$!
    # PROGRAM exits 1 while the server is not listening yet: try again.
    for _ in $(seq 50); do
        kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited before $name came (port $PORT taken?)"
        timeout 20 "$prog" >"$name.out" 2>"$name.err"
        rc=$?
        [ $rc -ne 1 ] && break
        sleep 0.1
    done
    [ $rc -eq 0 ] || fail "$name exited $rc (124: it hung); stdout: $(head -c 200 "$name.out")"
    [ "$(cat "$name.out")" = "$want" ] || fail "$name printed [$(head -c 200 "$name.out")], not [$want]"
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$SERVER_PID" 2>/dev/null && fail "the server is still running 10 s after $name closed"
    wait "$SERVER_PID"
    src=$?
    SERVER_PID=
    [ $src -eq 0 ] || fail "the server exited $src after $name"
}

serve_one client ./client hello
echo "ok   the Quick start client gets its echo from the README's server; both exit 0"
serve_one threads ./threads "$(printf 'one\ntwo\nthree')"
echo "ok   the Threads example sends what another thread posts; all three come back in order"
echo "2 passed, 0 failed"
