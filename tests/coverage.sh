#!/usr/bin/env bash
# tests/coverage.sh - line coverage of ws.h from the test suite plus the
# fuzz corpora (gcc --coverage and gcov; no other tool).
#
#   bash tests/coverage.sh [BUILD_DIR]          (default build-cov/)
#
# 1. configures and builds the whole project with gcc --coverage -O0 into
#    BUILD_DIR (targets that fail to build are skipped, not fatal);
# 2. runs the CTest tests that need no long-running peers: the unit, codec,
#    engine, fuzz-corpus replay (fuzz.*), interop and TLS tests, except the
#    load, Autobahn and browser ones, the full 4-byte UTF-8 enumerations and
#    the simd.* cross-checks (minutes each when instrumented at -O0; the
#    primitives.*.{portable,ssse3,avx2} tests run the same code paths).
#    Change the selection with
#    WS_COV_TESTS (a ctest -R regex) and WS_COV_EXCLUDE (-E regex);
# 3. merges the line counts of ws.h over every object (tests/coverage_report.py)
#    and prints the percentage, a per-section breakdown and the uncovered
#    line numbers; BUILD_DIR/coverage-ws.h.txt is the annotated source.
#
# Failing tests do not stop the measurement (they are reported). Exit status:
# 0 when coverage was measured, 2 when it could not be (tools missing,
# configure failed, nothing instrumented).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export LC_ALL=C

build=${1:-build-cov}
tests_re=${WS_COV_TESTS:-'^(primitives|codec|engine|fuzz|interop|tls|embedded\.native|adapter)\.'}
exclude_re=${WS_COV_EXCLUDE:-'^(interop\.load_1000|interop\.autobahn_client|tls\.browser|tls\.compile|primitives\.utf8|primitives\.utf8\.(portable|ssse3|avx2))$'}
jobs=${WS_COV_JOBS:-2}

for tool in gcc g++ gcov cmake ctest python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "coverage: $tool not found: cannot measure"
        exit 2
    fi
done

echo "coverage: configuring $build/ (gcc --coverage -O0)"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_C_FLAGS="--coverage -O0" -DCMAKE_CXX_FLAGS="--coverage -O0" \
    -DCMAKE_EXE_LINKER_FLAGS="--coverage" -DCMAKE_SHARED_LINKER_FLAGS="--coverage" \
    >"$build/coverage-configure.log" 2>&1 || {
    tail -20 "$build/coverage-configure.log"
    echo "coverage: configure failed: cannot measure"
    exit 2
}

echo "coverage: building"
# The report names lines of the ws.h that was compiled: keep that text.
cp ws.h "$build/ws.h.measured"
# Keep going past targets that cannot build here: coverage is measured on
# whatever did.
keep=(-k)
[ -f "$build/build.ninja" ] && keep=(-k 0)
if ! cmake --build "$build" -j "$jobs" -- "${keep[@]}" >"$build/coverage-build.log" 2>&1; then
    echo "coverage: some targets failed to build (see $build/coverage-build.log):"
    grep -E '^(make|gmake).*Error|error:' "$build/coverage-build.log" | head -10
fi

# Fresh counts for this run.
find "$build" -name '*.gcda' -delete

echo "coverage: running ctest -R '$tests_re' -E '$exclude_re'"
ctest --test-dir "$build" -R "$tests_re" -E "$exclude_re" -j "$jobs" --timeout 900 \
    --output-on-failure >"$build/coverage-ctest.log" 2>&1
ctest_rc=$?
grep -E 'tests passed|tests failed' "$build/coverage-ctest.log" | sed 's/^/coverage: ctest: /'
if [ $ctest_rc -ne 0 ]; then
    echo "coverage: some tests failed (still measured; see $build/coverage-ctest.log):"
    sed -n '/The following tests FAILED/,$p' "$build/coverage-ctest.log" | sed -n '2,12p'
fi

python3 tests/coverage_report.py "$build" ws.h "$build/ws.h.measured"
rc=$?
cmp -s ws.h "$build/ws.h.measured" ||
    echo "coverage: note: ws.h changed while this ran; line numbers refer to $build/ws.h.measured"
exit $rc
