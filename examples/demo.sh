#!/usr/bin/env bash
# Builds the echo server and runs it on ws://127.0.0.1:9001/ (Ctrl-C stops it).
#   examples/demo.sh [extra echo_server options]
set -e
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build --target echo_server wscat
cat <<'MSG'

Connect from another terminal:
    build/wscat ws://127.0.0.1:9001/        (type lines, Ctrl-D to close)
or from a browser console:
    ws = new WebSocket('ws://127.0.0.1:9001/'); ws.onmessage = e => console.log(e.data); ws.onopen = () => ws.send('hi')

MSG
exec build/echo_server --host 127.0.0.1 --port 9001 "$@"
