#!/usr/bin/env bash
# tests/setup.sh - install what the tests need on a fresh Debian 12 machine.
#
# 1. Debian packages: every name in tests/apt-packages.txt (one per line,
#    '#' starts a comment). Those already installed (dpkg-query) are
#    skipped; if any are missing: `apt-get update` once, then
#    `apt-get install -y` the missing ones. Needs root (or sudo).
# 2. Node packages: `npm ci` in tests/node when its package-lock.json exists.
#    npm itself is checked by command rather than listed above, because a
#    machine may have Node from another source whose package conflicts with
#    Debian's npm; without any npm, Debian's nodejs and npm are installed.
#
# Safe to run again: with everything present it installs nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

updated=0
apt_install() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "setup: not root and no sudo; install these packages: $*" >&2
            exit 1
        fi
    fi
    echo "setup: installing $*"
    export DEBIAN_FRONTEND=noninteractive
    if [ $updated -eq 0 ]; then
        "${sudo[@]}" apt-get update
        updated=1
    fi
    "${sudo[@]}" apt-get install -y "$@"
}

list=tests/apt-packages.txt
packages=()
while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    for word in $line; do packages+=("$word"); done
done <"$list"

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} Debian packages from $list are installed"
else
    apt_install "${missing[@]}"
fi

if [ -f tests/node/package-lock.json ]; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    echo "setup: npm ci in tests/node"
    (cd tests/node && npm ci --no-audit --no-fund)
fi
echo "setup: done"
