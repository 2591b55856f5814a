#!/usr/bin/env bash
# build.cmake_consumer: ws::ws as a consumer sees it. `cmake --install` puts
# ws.h under include/ and a package config under lib/cmake/ws; a project
# then builds against it with find_package(ws), and another with
# add_subdirectory(ws.h's source), which must not build ws.h's own tests.
#   cmake_consumer.sh CMAKE BUILD_DIR REPO
set -u
CMAKE=$1
BUILD=$2
REPO=$3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ws-consumer.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
die() {
    echo "FAIL: $*" >&2
    exit 1
}
quiet() { "$@" >"$WORK/log" 2>&1 || { cat "$WORK/log" >&2; return 1; }; }

quiet "$CMAKE" --install "$BUILD" --prefix "$WORK/prefix" || die "cmake --install"
[ -f "$WORK/prefix/include/ws.h" ] || die "ws.h is not under include/"
cmp -s "$WORK/prefix/include/ws.h" "$REPO/ws.h" || die "the installed ws.h differs from the repository's"
echo "ok   cmake --install: include/ws.h"

cat >"$WORK/app.c" <<'C'
#define WS_IMPLEMENTATION
#include "ws.h"
#include <stdio.h>
int main(void) {
    char out[WS_ACCEPT_LEN + 1];
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    puts(out);
    return 0;
}
C
for mode in find_package add_subdirectory; do
    dir=$WORK/$mode
    mkdir -p "$dir"
    cp "$WORK/app.c" "$dir/app.c"
    {
        echo 'cmake_minimum_required(VERSION 3.16)'
        echo 'project(consumer C)'
        if [ $mode = find_package ]; then
            echo 'find_package(ws REQUIRED)'
        else
            echo "add_subdirectory(\"$REPO\" ws)"
        fi
        echo 'add_executable(app app.c)'
        echo 'target_link_libraries(app PRIVATE ws::ws)'
    } >"$dir/CMakeLists.txt"
    quiet "$CMAKE" -S "$dir" -B "$dir/b" -DCMAKE_PREFIX_PATH="$WORK/prefix" || die "$mode: configure"
    quiet "$CMAKE" --build "$dir/b" || die "$mode: build"
    [ "$("$dir/b/app")" = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ] || die "$mode: the program gives the wrong answer"
    echo "ok   $mode + ws::ws: builds and runs"
done
# As a subproject, ws.h builds nothing of its own.
[ -z "$(find "$WORK/add_subdirectory/b/ws" -type f -perm -u+x)" ] || die "add_subdirectory built ws.h's own programs"
"$CMAKE" --build "$WORK/add_subdirectory/b" --target help | grep -q unit_sha1 && die "add_subdirectory defines ws.h's tests"
echo "ok   add_subdirectory: no tests, examples or benchmarks of ws.h"
