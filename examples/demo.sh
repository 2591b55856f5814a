#!/usr/bin/env bash
# Builds the browser chat demo (examples/chat) and serves it on
# http://127.0.0.1:8080/ - open that URL in a browser, in two tabs to chat
# with yourself. Ctrl-C stops it.
#   examples/demo.sh [chat options: --port N, --redis HOST:PORT, --help, ...]
set -e
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build --target chat
cat <<'MSG'

Open http://127.0.0.1:8080/ in a browser (or the URL printed below if you
chose another port). Every tab is a user: what one types, all see, and the
server pushes the time every 2 seconds.

MSG
exec build/chat --host 127.0.0.1 --port 8080 "$@"
