#!/usr/bin/env bash
# run_e2e.sh - loopback echo benchmark: ws.h's examples/echo_server against
# a wslay-based and a libwebsockets-based echo server (bench/peers/) and
# Node's ws, driven by bench/loadgen, interleaved (A B C D A B C D ...),
# with bench/peers/floor_echo as a control: a server that makes the same
# system calls per message as echo_server and does no WebSocket work.
#
#   bench/run_e2e.sh [BUILD_DIR]        (default: build)
#   env: REPS (3), SECS (3, seconds per load run), CPU_SECS (2 x SECS, the
#        length of the 20-byte run whose CPU time is read), IDLE (1000
#        connections), SERVERS ("wsh wslay lws node floor"), PIN (1: server
#        on CPU 0, loadgen on CPU 1 with taskset; best on a quiet machine,
#        0 by default), CALLGRIND (1: also count user-space instructions per
#        message of the C servers under valgrind, which no other load on the
#        machine disturbs; needs valgrind), OUT (bench/results)
#
# Per server and round, on a freshly started server:
#   idle      RSS growth per idle connection with IDLE connections open
#   small     messages/s, 100 connections x 20-byte text messages, and the
#             server's user / user+system CPU per message (/proc/PID/stat),
#             over CPU_SECS
#   syscalls  system calls per echoed message (perf stat -e
#             raw_syscalls:sys_enter -p PID; strace -c -f when perf cannot)
#   big       MB/s of payload echoed, 1 connection x 64 KiB binary messages
# and once per C server with CALLGRIND=1: instructions per echoed message
# (20 B x 100 connections, 64 KiB x 1), startup and handshakes subtracted.
# Prints medians with min-max, the targets next to the measured ratios, and
# writes $OUT/e2e.txt (the table), $OUT/e2e-raw.tsv and $OUT/e2e.svg.
#
# What "user CPU" measures. The kernel knows a process's total run time
# exactly (schedstat; utime + stime add up to it), but splits it into user
# and system time by sampling, at each timer tick, which mode it interrupted.
# A tick that falls while the kernel is returning to user space with
# interrupts masked is taken at the first user instruction and counted as
# user time. Where that return is slow (a virtual machine that switches
# through the hypervisor on every system call, as the machine these results
# come from does), each system call is charged a fixed slice of user time
# that no user code spends (about 0.5 us here, more than echo_server's own
# work for a 20-byte echo). So the user row is split in two: the
# floor's user CPU per system call times the server's system calls per
# message ("system-call floor"), and what is left ("above the floor"), the
# user CPU the server's own code costs. The floor is measured in the same
# rounds, the same way as every server; the split assumes every system
# call is charged alike, which a floor making two and four extra getppid
# calls per message bore out (each added about as much as a read).
# Sampling also makes the user row noisy (a few hundred ticks per run at
# this kernel's 250 Hz), hence the longer CPU_SECS run.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
REPS=${REPS:-3}
SECS=${SECS:-3}
CPU_SECS=${CPU_SECS:-$(awk -v s="$SECS" 'BEGIN {print (2 * s > 60 ? 60 : 2 * s)}')} # loadgen runs 60 s at most
IDLE=${IDLE:-1000}
SERVERS=${SERVERS:-"wsh wslay lws node floor"}
PIN=${PIN:-0}
CALLGRIND=${CALLGRIND:-1}
OUT=${OUT:-bench/results}
mkdir -p "$OUT"
RAW=$OUT/e2e-raw.tsv
TMP=$(mktemp -d)
trap 'stop_server; rm -rf "$TMP"' EXIT

LOADGEN=$BUILD/loadgen
[ -x "$LOADGEN" ] || { echo "run_e2e: $LOADGEN missing (build first: cmake --build $BUILD)"; exit 1; }
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true

SRV_PID=
PIN_SRV=() PIN_GEN=()
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_SRV=(taskset -c 0) PIN_GEN=(taskset -c 1)
fi

server_cmd() {
  case $1 in
    wsh) echo "$BUILD/echo_server --port 0" ;;
    wslay) echo "$BUILD/bench_peer_wslay --port 0" ;;
    lws) echo "$BUILD/bench_peer_lws --port 0" ;;
    node) echo "node bench/peers/node_echo.js --port 0" ;;
    floor) echo "$BUILD/bench_peer_floor --port 0" ;;
  esac
}
label() {
  case $1 in wsh) echo "ws.h echo_server" ;; wslay) echo "wslay" ;; lws) echo "libwebsockets" ;; node) echo "Node ws" ;; floor) echo "system-call floor" ;; esac
}

available=""
for s in $SERVERS; do
  cmd=$(server_cmd "$s")
  bin=${cmd%% *}
  if [ "$s" = node ]; then
    command -v node >/dev/null && [ -d tests/node/node_modules/ws ] && available="$available $s" ||
      echo "run_e2e: skipping Node ws (node or tests/node/node_modules missing: cd tests/node && npm ci)"
  elif [ -x "$bin" ]; then
    available="$available $s"
  else
    echo "run_e2e: skipping $(label "$s") ($bin not built)"
  fi
done
case " $available " in *" wsh "*) ;; *) echo "run_e2e: $BUILD/echo_server missing"; exit 1 ;; esac

start_server() { # $1 server; sets SRV_PID and PORT
  local log=$TMP/$1.log i
  : >"$log"
  # shellcheck disable=SC2046
  "${PIN_SRV[@]}" ${SRV_WRAP:-} $(server_cmd "$1") >"$log" 2>&1 &
  SRV_PID=$!
  PORT=
  for i in $(seq 300); do
    PORT=$(sed -n 's/.*listening on.*[^0-9]\([0-9][0-9]*\)\/\{0,1\}$/\1/p' "$log" | head -1)
    [ -n "$PORT" ] && return 0
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "run_e2e: $(label "$1") did not start:"; cat "$log"
  return 1
}
stop_server() {
  if [ -n "${SRV_PID:-}" ]; then
    kill "$SRV_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=
  fi
}
field() { # $1 key, stdin: key=value line
  tr ' ' '\n' | sed -n "s/^$1=//p" | head -1
}
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"; }

HAVE_PERF=0
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -x, -- true >/dev/null 2>&1; then HAVE_PERF=1; fi

count_syscalls() { # $1 pid, $2 seconds: prints the system calls the process made meanwhile
  if [ $HAVE_PERF = 1 ]; then
    perf stat -e raw_syscalls:sys_enter -x, -p "$1" -o "$TMP/perf.txt" -- sleep "$2" >/dev/null 2>&1
    awk -F, '/raw_syscalls:sys_enter/ {print $1; exit}' "$TMP/perf.txt"
  else
    timeout -s INT "$2" strace -c -f -q -p "$1" -o "$TMP/strace.txt" >/dev/null 2>&1
    awk '/ total$/ {print $4 + 0; exit}' "$TMP/strace.txt"
  fi
}

: >"$RAW"
echo "run_e2e: servers:$available; $REPS rounds, $SECS s per load run ($CPU_SECS s for CPU time), $IDLE idle connections; $(nproc) CPUs${PIN_SRV:+, server pinned to CPU 0 and loadgen to CPU 1}; syscalls via $([ $HAVE_PERF = 1 ] && echo perf || echo strace)"
for rep in $(seq "$REPS"); do
  for s in $available; do
    start_server "$s" || exit 1
    line=$("${PIN_GEN[@]}" "$LOADGEN" --port "$PORT" --idle "$IDLE" --server-pid "$SRV_PID")
    record "$rep" "$s" idle_kib_per_conn "$(echo "$line" | field rss_kib_per_conn)"
    sleep 0.5
    line=$("${PIN_GEN[@]}" "$LOADGEN" --port "$PORT" --conns 100 --size 20 --seconds "$CPU_SECS" --server-pid "$SRV_PID")
    record "$rep" "$s" msgs_per_s "$(echo "$line" | field msgs_per_s)"
    record "$rep" "$s" user_us_per_msg "$(echo "$line" | field user_us_per_msg)"
    record "$rep" "$s" cpu_us_per_msg "$(echo "$line" | field cpu_us_per_msg)"
    # The count spans the whole load run (and its 100 handshakes, a few
    # hundred calls against 10^4-10^5 messages), so both counts see the
    # same slowdown from the counting itself.
    count_syscalls "$SRV_PID" "$(awk -v s="$SECS" 'BEGIN {print s + 1.5}')" >"$TMP/calls.txt" &
    cnt=$!
    sleep 0.5
    msgs=$("${PIN_GEN[@]}" "$LOADGEN" --port "$PORT" --conns 100 --size 20 --seconds "$SECS" | field msgs)
    wait $cnt
    calls=$(cat "$TMP/calls.txt")
    record "$rep" "$s" syscalls_per_msg "$(awk -v c="${calls:-0}" -v m="${msgs:-0}" 'BEGIN {if (m > 0 && c > 0) printf "%.3f", c / m; else print "nan"}')"
    line=$("${PIN_GEN[@]}" "$LOADGEN" --port "$PORT" --conns 1 --size 65536 --binary --seconds "$SECS" --server-pid "$SRV_PID")
    record "$rep" "$s" big_MB_per_s "$(echo "$line" | field MB_per_s)"
    record "$rep" "$s" big_cpu_us_per_msg "$(echo "$line" | field cpu_us_per_msg)"
    stop_server
    echo "  round $rep: $(label "$s") done"
  done
done

# ---- instructions per message (callgrind) ----
cg_total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}'; }
cg_ir() { # $1 server, $2 connections, then loadgen arguments: prints instructions per message
  local s=$1 n=$2 base tot msgs
  shift 2
  SRV_WRAP="valgrind --tool=callgrind --callgrind-out-file=$TMP/cg.base"
  start_server "$s" || return 1
  "$LOADGEN" --port "$PORT" --idle "$n" --server-pid "$SRV_PID" --settle-ms 200 >/dev/null
  stop_server
  SRV_WRAP="valgrind --tool=callgrind --callgrind-out-file=$TMP/cg.load"
  start_server "$s" || return 1
  msgs=$("$LOADGEN" --port "$PORT" --conns "$n" "$@" | field msgs)
  stop_server
  SRV_WRAP=
  base=$(cg_total "$TMP/cg.base") tot=$(cg_total "$TMP/cg.load")
  awk -v b="$base" -v t="$tot" -v m="$msgs" 'BEGIN {if (m > 0 && t > b) printf "%.0f", (t - b) / m; else print "nan"}'
}
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
  for s in $available; do
    [ "$s" = node ] && continue # a JIT under valgrind measures valgrind
    for size in 20 65536; do
      n=100 args=(--size 20)
      [ $size = 65536 ] && n=1 args=(--size 65536 --binary)
      v=$(cg_ir "$s" $n "${args[@]}" --seconds "$SECS")
      [ "$v" = nan ] && v=$(cg_ir "$s" $n "${args[@]}" --seconds "$SECS") # one retry: valgrind is slow to start
      record 1 "$s" "$([ $size = 20 ] && echo ir_per_msg_small || echo ir_per_msg_big)" "$v"
    done
    echo "  callgrind: $(label "$s") done"
  done
fi

# ---- summary ----
SUMMARY=$OUT/e2e.txt
awk -F'\t' -v servers="$available" -v svg="$OUT/e2e.svg" -v reps="$REPS" -v secs="$SECS" -v cpusecs="$CPU_SECS" -v idle="$IDLE" '
function med(key,   n, i, j, t, v) {
  n = cnt[key]; if (!n) return "nan"
  for (i = 1; i <= n; i++) v[i] = val[key, i]
  for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
  lo[key] = v[1]; hi[key] = v[n]
  return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function fmt(v) { return v >= 100 ? sprintf("%.0f", v) : v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v) }
function name(s) { return s == "wsh" ? "ws.h echo_server" : s == "wslay" ? "wslay" : s == "lws" ? "libwebsockets" : s == "node" ? "Node ws" : "system-call floor" }
function add(k, x) { cnt[k]++; val[k, cnt[k]] = x }
{ if ($4 != "nan" && $4 != "") { add($2 SUBSEP $3, $4 + 0); byrep[$1, $2, $3] = $4 + 0; rounds[$1] = 1 } }
END {
  ns = split(servers, S, " ")
  # The user CPU the floor is charged per system call, times the calls a
  # server makes per message, taken round by round (the same conditions).
  for (r in rounds) {
    if (!((r, "floor", "user_us_per_msg") in byrep) || !byrep[r, "floor", "syscalls_per_msg"]) continue
    per = byrep[r, "floor", "user_us_per_msg"] / byrep[r, "floor", "syscalls_per_msg"]
    for (i = 1; i <= ns; i++) if ((r, S[i], "user_us_per_msg") in byrep && (r, S[i], "syscalls_per_msg") in byrep) {
      f = per * byrep[r, S[i], "syscalls_per_msg"]
      add(S[i] SUBSEP "user_floor", f)
      add(S[i] SUBSEP "user_above", byrep[r, S[i], "user_us_per_msg"] - f)
    }
  }
  nm = split("msgs_per_s user_us_per_msg user_floor user_above cpu_us_per_msg syscalls_per_msg big_MB_per_s big_cpu_us_per_msg idle_kib_per_conn ir_per_msg_small ir_per_msg_big", M, " ")
  split("messages/s (100 conns x 20 B)|server user CPU us/message (20 B)|  of which the system-call floor|  above the floor (own code)|server user+sys CPU us/message (20 B)|system calls/message (20 B)|MB/s (1 conn x 64 KiB)|server CPU us/message (64 KiB)|RSS KiB per idle connection|user instructions/message (20 B, callgrind)|user instructions/message (64 KiB, callgrind)", T, "|")
  printf "Loopback echo, %d rounds interleaved, %s s per load run (%s s for the 20 B CPU times), %d idle connections: median (min-max)\n\n", reps, secs, cpusecs, idle
  printf "%-40s", "metric"; for (i = 1; i <= ns; i++) printf " %24s", name(S[i]); printf "\n"
  for (m = 1; m <= nm; m++) {
    printf "%-40s", T[m]
    for (i = 1; i <= ns; i++) {
      k = S[i] SUBSEP M[m]; x = med(k); R[S[i], M[m]] = x
      if (x == "nan") cell = "-"
      else cell = sprintf("%s (%s-%s)", fmt(x), fmt(lo[k]), fmt(hi[k]))
      printf " %24s", cell
    }
    printf "\n"
  }
  # best peer per metric
  bm = 0; bc = 1e99; bb = 0
  ba = 0
  for (i = 1; i <= ns; i++) if (S[i] != "wsh" && S[i] != "floor") {
    if (R[S[i], "user_above"] != "nan" && R[S[i], "user_above"] > 0 && (!ba || R[S[i], "user_above"] < ba)) { ba = R[S[i], "user_above"]; ban = name(S[i]) }
    if (R[S[i], "msgs_per_s"] != "nan" && R[S[i], "msgs_per_s"] > bm) { bm = R[S[i], "msgs_per_s"]; bmn = name(S[i]) }
    if (R[S[i], "user_us_per_msg"] != "nan" && R[S[i], "user_us_per_msg"] > 0 && R[S[i], "user_us_per_msg"] < bc) { bc = R[S[i], "user_us_per_msg"]; bcn = name(S[i]) }
    if (R[S[i], "big_MB_per_s"] != "nan" && R[S[i], "big_MB_per_s"] > bb) { bb = R[S[i], "big_MB_per_s"]; bbn = name(S[i]) }
    if (R[S[i], "ir_per_msg_small"] != "nan" && R[S[i], "ir_per_msg_small"] > 0 && (!bi || R[S[i], "ir_per_msg_small"] < bi)) { bi = R[S[i], "ir_per_msg_small"]; bin = name(S[i]) }
  }
  if (R["floor", "user_us_per_msg"] != "nan")
    printf "\nUser CPU is charged by timer-tick sampling, which bills part of every system call to user time: the\nsystem-call floor row is floor_echo'"'"'s user CPU per call (the same calls, no WebSocket work) times the\nserver'"'"'s calls per message, taken round by round; see bench/run_e2e.sh.\n"
  printf "\nTargets\n"
  if (bm > 0) { r = R["wsh", "msgs_per_s"] / bm; printf "  %-52s %7.2fx  target >= 1.00x  %s  (best peer: %s)\n", "messages/s vs the best peer", r, (r >= 1 ? "MET" : "MISSED"), bmn }
  if (bc < 1e99) { r = R["wsh", "user_us_per_msg"] / bc; printf "  %-52s %7.2fx  target <= 0.50x  %s  (best peer: %s)\n", "user CPU per small message vs the best peer", r, (r <= 0.5 ? "MET" : "MISSED"), bcn }
  if (ba > 0 && R["wsh", "user_above"] != "nan") { r = R["wsh", "user_above"] / ba; printf "  %-52s %7.2fx  target <= 0.50x  %s  (best peer: %s)\n", "  the same above the system-call floor", r, (r <= 0.5 ? "MET" : "MISSED"), ban }
  if (bi > 0 && R["wsh", "ir_per_msg_small"] != "nan") { r = R["wsh", "ir_per_msg_small"] / bi; printf "  %-52s %7.2fx  target <= 0.50x  %s  (best C peer: %s)\n", "  the same in instructions (callgrind)", r, (r <= 0.5 ? "MET" : "MISSED"), bin }
  x = R["wsh", "syscalls_per_msg"]; printf "  %-52s %7.2f   target <= 2     %s\n", "system calls per echoed message", x, (x != "nan" && x <= 2 ? "MET" : "MISSED")
  if (bb > 0) { r = R["wsh", "big_MB_per_s"] / bb; printf "  %-52s %7.2fx  target >= 1.20x  %s  (best peer: %s)\n", "64 KiB MB/s vs the best peer", r, (r >= 1.2 ? "MET" : "MISSED"), bbn }
  x = R["wsh", "idle_kib_per_conn"]; printf "  %-52s %7.2f   target <= 0.50  %s\n", "idle memory, KiB per connection", x, (x != "nan" && x <= 0.5 ? "MET" : "MISSED")

  # ---- SVG: one panel per metric, a bar per server ----
  W = 900; PH = 30 + 22 * ns; H = 50 + 5 * PH
  split("msgs_per_s big_MB_per_s user_us_per_msg syscalls_per_msg idle_kib_per_conn", P, " ")
  split("messages/s, 100 connections x 20 B (higher is better)|MB/s, 1 connection x 64 KiB (higher is better)|server user CPU us per 20-byte message (lower is better; grey: the system-call floor)|system calls per echoed message (lower is better)|RSS KiB per idle connection (lower is better)", PT, "|")
  C["wsh"] = "#2b6cb0"; C["wslay"] = "#c05621"; C["lws"] = "#2f855a"; C["node"] = "#805ad5"; C["floor"] = "#a0aec0"
  printf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H) > svg
  printf("<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"10\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Loopback echo: ws.h vs wslay, libwebsockets, Node ws, and the system-call floor (median of %d rounds)</text>\n", reps) > svg
  for (p = 1; p <= 5; p++) {
    y0 = 40 + (p - 1) * PH; mx = 0
    for (i = 1; i <= ns; i++) { x = R[S[i], P[p]]; if (x != "nan" && x > mx) mx = x }
    printf("<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s</text>\n", y0 + 14, PT[p]) > svg
    for (i = 1; i <= ns; i++) {
      x = R[S[i], P[p]]; y = y0 + 22 + (i - 1) * 22
      bw = (x != "nan" && mx > 0) ? 560 * x / mx : 0
      printf("<text x=\"10\" y=\"%d\">%s</text><rect x=\"150\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"/><text x=\"%.1f\" y=\"%d\">%s</text>\n", y + 12, name(S[i]), y, bw, C[S[i]], 156 + bw, y + 12, (x == "nan" ? "n/a" : fmt(x))) > svg
      f = R[S[i], "user_floor"]
      if (P[p] == "user_us_per_msg" && S[i] != "floor" && bw > 0 && f != "nan" && f > 0)
        printf("<rect x=\"150\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\" fill-opacity=\"0.8\"/>\n", y, (f < x ? f : x) * 560 / mx, C["floor"]) > svg
    }
  }
  printf("</svg>\n") > svg
}' "$RAW" | tee "$SUMMARY"
echo "run_e2e: wrote $SUMMARY, $RAW and $OUT/e2e.svg"
