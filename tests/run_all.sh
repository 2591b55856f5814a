#!/usr/bin/env bash
# tests/run_all.sh - the one command that runs every test (README names it,
# .ci/run calls it). On a fresh Debian 12 machine:
#
#   1. tests/setup.sh          installs what the tests need (apt, npm)
#   2. build/                  plain build (RelWithDebInfo), then ctest
#   3. build-asan/             -DWS_SANITIZE=ON (ASan + UBSan, clang when it
#                              can link sanitizers, else gcc), then ctest
#   4. tests/stage-*.sh        extra stages (fuzz smoke runs, coverage, ...),
#                              in sorted order, each run as `bash FILE` from
#                              the repository root with WS_BUILD_DIR and
#                              WS_ASAN_BUILD_DIR exported
#
# Every step runs even when an earlier one failed (except the build and
# tests of a directory whose configure failed), then a summary is printed. Exit
# status: 0 when everything passed, 1 otherwise.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export LC_ALL=C

start=$(date +%s)
results=()
failed=0

# step NAME COMMAND...: run, time and record one step.
step() {
    local name=$1 t0 rc
    shift
    echo
    echo "=== $name"
    t0=$(date +%s)
    "$@"
    rc=$?
    if [ $rc -eq 0 ]; then
        results+=("PASS  $name ($(($(date +%s) - t0)) s)")
    else
        results+=("FAIL  $name (exit $rc, $(($(date +%s) - t0)) s)")
        failed=1
    fi
    return $rc
}

jobs=$(nproc 2>/dev/null || echo 2)
export WS_BUILD_DIR=$root/build WS_ASAN_BUILD_DIR=$root/build-asan
# Sanitizer reports must fail the test that triggers them, with a stack.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=1}

step "setup (tests/setup.sh)" bash tests/setup.sh

# build_and_test DIR LABEL CMAKE-ARGS...
build_and_test() {
    local dir=$1 label=$2
    shift 2
    step "configure $label" cmake -S . -B "$dir" "$@" || return
    # Keep going past a target that fails to build (MAKEFLAGS=-k), and run
    # the tests anyway: the ones that built still report, the others show
    # up as "Not Run".
    step "build $label" env MAKEFLAGS=-k cmake --build "$dir" -j "$jobs"
    step "ctest $label" ctest --test-dir "$dir" --output-on-failure -j2
}

build_and_test build "build/ (RelWithDebInfo)" -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Sanitizers: clang if it can link an ASan+UBSan program here, else gcc.
probe=$(mktemp -d)
printf 'int main(void) { return 0; }\n' >"$probe/p.c"
if command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1 &&
    clang -fsanitize=address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1 && "$probe/p"; then
    san_cc=clang san_cxx=clang++
else
    san_cc=gcc san_cxx=g++
fi
rm -rf "$probe"
build_and_test build-asan "build-asan/ (ASan+UBSan, $san_cc)" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DWS_SANITIZE=ON -DCMAKE_C_COMPILER="$san_cc" -DCMAKE_CXX_COMPILER="$san_cxx"

shopt -s nullglob
stages=(tests/stage-*.sh)
shopt -u nullglob
if [ ${#stages[@]} -eq 0 ]; then
    echo
    echo "=== no extra stages (tests/stage-*.sh)"
fi
for s in "${stages[@]}"; do
    step "stage ${s#tests/}" bash "$s"
done

echo
echo "=== summary ($(($(date +%s) - start)) s)"
for r in "${results[@]}"; do echo "  $r"; done
if [ $failed -eq 0 ]; then
    echo "ALL PASSED"
else
    echo "SOME STEPS FAILED"
fi
exit $failed
