#!/usr/bin/env bash
# tests/stage-fuzz.sh - fuzz smoke stage (run by tests/run_all.sh after ctest).
#
# Builds every fuzz target (fuzz/fuzz_*.c) as a libFuzzer binary with clang
# (-fsanitize=fuzzer,address,undefined) into build-fuzz/, then for each one
# replays its committed corpus and regression inputs and fuzzes for
# WS_FUZZ_SECONDS (default 30) with the dictionary fuzz/ws.dict. New corpus
# entries go to build-fuzz/corpus-<target>/ (scratch, never committed).
# A crash, an invariant violation, a leak or a timeout fails the stage; the
# input is left as build-fuzz/crash-<target>-* (see fuzz/README.md to
# minimise it and add it to fuzz/regressions/).
#
#   bash tests/stage-fuzz.sh                    all targets, 30 s each
#   WS_FUZZ_SECONDS=300 bash tests/stage-fuzz.sh
#   WS_FUZZ_TARGETS="server client" bash tests/stage-fuzz.sh
#
# Prints the executions per target and a final result line.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export LC_ALL=C

secs=${WS_FUZZ_SECONDS:-30}
targets=${WS_FUZZ_TARGETS:-"frame utf8 base64 request response server client"}
cc=${WS_FUZZ_CC:-clang}
out=build-fuzz

fail() {
    echo "stage-fuzz: FAILED ($*)"
    exit 1
}

command -v "$cc" >/dev/null 2>&1 || fail "$cc not found: install clang and libclang-rt-14-dev (tests/apt-packages.txt)"
mkdir -p "$out"

# Does this compiler link libFuzzer at all?
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$out/probe.c"
"$cc" -fsanitize=fuzzer,address,undefined "$out/probe.c" -o "$out/probe" >"$out/probe.log" 2>&1 ||
    fail "$cc cannot link -fsanitize=fuzzer (libclang-rt-14-dev missing?): $(tail -1 "$out/probe.log")"

flags=(-std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror)
echo "stage-fuzz: building libFuzzer binaries ($cc) into $out/"
for t in $targets; do
    [ -f "fuzz/fuzz_$t.c" ] || fail "no target fuzz/fuzz_$t.c"
    "$cc" "${flags[@]}" "fuzz/fuzz_$t.c" -o "$out/fuzz_$t" || fail "build of fuzz_$t"
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
bad=0
total=0
printf '%-16s %12s %10s %8s %7s  %s\n' target executions exec/s corpus cov result
for t in $targets; do
    work="$out/corpus-fuzz_$t"
    log="$out/fuzz_$t.log"
    mkdir -p "$work"
    rm -f "$out"/crash-fuzz_"$t"-* "$out"/leak-fuzz_"$t"-* "$out"/timeout-fuzz_"$t"-* "$out"/oom-fuzz_"$t"-*
    # The first directory receives new inputs; the others are read: the
    # committed seeds and regressions are replayed before fuzzing starts.
    "./$out/fuzz_$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2560 -dict=fuzz/ws.dict \
        -print_final_stats=1 -artifact_prefix="$out/" \
        "$work" "fuzz/corpus/fuzz_$t" "fuzz/regressions/fuzz_$t" >"$log" 2>&1
    rc=$?
    # libFuzzer names artifacts crash-<sha1>; give them the target's name.
    for a in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
        [ -f "$a" ] || continue
        case "$(basename "$a")" in *fuzz_*) continue ;; esac
        kind=$(basename "$a" | cut -d- -f1)
        mv "$a" "$out/$kind-fuzz_$t-$(basename "$a" | cut -d- -f2-)"
    done
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    corp=$(find "$work" -type f | wc -l)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    if [ $rc -eq 0 ] && [ -n "$execs" ]; then
        res=ok
    else
        res="FAILED (exit $rc)"
        bad=$((bad + 1))
    fi
    total=$((total + ${execs:-0}))
    printf '%-16s %12s %10s %8s %7s  %s\n' "fuzz_$t" "${execs:-?}" "${rate:-?}" "$corp" "${cov:-?}" "$res"
    if [ "$res" != ok ]; then
        echo "---- fuzz_$t: last lines of $log"
        grep -v '^#\|^INFO\|^stat::' "$log" | tail -40
        ls -1 "$out"/*-fuzz_"$t"-* 2>/dev/null | sed 's/^/  input: /'
        echo "----"
    fi
done

n=$(echo $targets | wc -w)
if [ $bad -eq 0 ]; then
    echo "stage-fuzz: PASSED ($n targets, ${secs} s each, $total executions)"
    echo "$n passed, 0 failed"
    exit 0
fi
echo "stage-fuzz: FAILED ($bad of $n targets crashed or failed; inputs in $out/)"
echo "$((n - bad)) passed, $bad failed"
exit 1
