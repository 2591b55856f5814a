#!/bin/sh
# Compile checks for ws.h, run by CTest (tests/compile.cmake):
#   compile_check.sh COMPILER STD REPO OUTDIR
# STD is c99, c11, c++11, c++17 (C++ compiles the same .c files as C++), or
# "freestanding" (C99, -ffreestanding, compile only).
# For a language standard it builds, for each configuration variant (all of
# them for c99 and c++17, default and WS_STATIC for the others), the
# implementation unit and a declarations-only unit with every strict warning
# as an error, links them together (duplicate symbols would fail here) and
# runs the result. Prints one line per step and a summary; exits non-zero if
# any step failed.
set -u
if [ $# -ne 4 ]; then
    echo "usage: $0 COMPILER STD REPO OUTDIR" >&2
    exit 2
fi
cc=$1 std=$2 repo=$3 out=$4
mkdir -p "$out" || exit 2
warn="-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror"
passed=0 failed=0

step() { # step NAME COMMAND...: run a command, show its output on failure
    name=$1
    shift
    if "$@" >"$out/log" 2>&1; then
        passed=$((passed + 1))
        echo "ok    $name"
    else
        failed=$((failed + 1))
        echo "FAIL  $name"
        echo "      $*"
        sed 's/^/      /' "$out/log" | head -40
    fi
}

case $std in
freestanding)
    # As the issue states it: the implementation, sockets left out.
    step "freestanding -DWS_NO_SOCKETS -c" \
        "$cc" -std=c99 -O2 -ffreestanding -DWS_NO_SOCKETS $warn -I"$repo" \
        -c "$repo/tests/compile/impl.c" -o "$out/impl-freestanding.o"
    # With the libc macros pointed at builtins: nothing but mem*/strlen may
    # be left for the linker to find.
    step "freestanding, builtins for WS_MEM*" \
        "$cc" -std=c99 -O2 -ffreestanding $warn -I"$repo" \
        -c "$repo/tests/compile/freestanding.c" -o "$out/freestanding.o"
    if [ -f "$out/freestanding.o" ] && command -v nm >/dev/null 2>&1; then
        extra=$(nm -u "$out/freestanding.o" | awk '{print $NF}' |
            grep -Ev '^(memcpy|memmove|memset|memcmp|strlen|__stack_chk_fail|__stack_chk_guard|_GLOBAL_OFFSET_TABLE_)$')
        if [ -z "$extra" ]; then
            passed=$((passed + 1))
            echo "ok    freestanding object needs only mem*/strlen"
        else
            failed=$((failed + 1))
            echo "FAIL  freestanding object needs more than mem*/strlen:"
            echo "$extra" | sed 's/^/      /'
        fi
    fi
    ;;
*)
    case $std in
    c++*) lang="-x c++" ;;
    *) lang="" ;;
    esac
    # Every configuration variant under the oldest C and the newest C++;
    # the standards in between get the default and WS_STATIC (the two
    # linkage modes), which keeps the whole matrix to a minute or so.
    case $std in
    c99 | c++17) variants="default WS_NO_SOCKETS WS_NO_CLIENT WS_NO_SERVER WS_NO_SIMD WS_STATIC WS_SMALL" ;;
    *) variants="default WS_STATIC" ;;
    esac
    for variant in $variants; do
        if [ "$variant" = default ]; then def=""; else def="-D$variant"; fi
        base="$out/$variant"
        rm -f "$base-impl.o" "$base-use.o" "$base"
        # -O2: some warnings (uninitialised use, dangling pointers) need the
        # optimiser's analysis to show up.
        step "$std $variant: implementation unit" \
            "$cc" $lang -std="$std" -O2 $warn $def -I"$repo" -c "$repo/tests/compile/impl.c" -o "$base-impl.o"
        step "$std $variant: declarations-only unit" \
            "$cc" $lang -std="$std" -O2 $warn $def -I"$repo" -c "$repo/tests/compile/use.c" -o "$base-use.o"
        if [ -f "$base-impl.o" ] && [ -f "$base-use.o" ]; then
            step "$std $variant: link both units" "$cc" "$base-impl.o" "$base-use.o" -o "$base"
            [ -x "$base" ] && step "$std $variant: run" "$base"
        fi
    done
    ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
