#!/usr/bin/env bash
# tests/stage-coverage.sh - coverage stage (run by tests/run_all.sh after
# ctest): measures the line coverage of ws.h from the tests and the fuzz
# corpora with tests/coverage.sh (build-cov/) and prints the figure, the
# per-section breakdown and the uncovered lines. The target is 95 %; the
# stage does not fail on the percentage, only when coverage cannot be
# measured at all.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mkdir -p build-cov
bash tests/coverage.sh build-cov | tee build-cov/coverage-stage.log
rc=${PIPESTATUS[0]}
line=$(grep -E '^coverage: ws\.h lines covered' build-cov/coverage-stage.log | tail -1)
if [ $rc -ne 0 ] || [ -z "$line" ]; then
    echo "stage-coverage: FAILED (could not measure coverage, exit $rc)"
    exit 1
fi
pct=$(echo "$line" | sed -n 's/.*= \([0-9.]*\) %.*/\1/p')
if awk "BEGIN { exit !($pct >= 95) }"; then
    echo "stage-coverage: PASSED (ws.h line coverage $pct %, target 95 %)"
else
    echo "stage-coverage: PASSED (ws.h line coverage $pct %, below the 95 % target; not a failure)"
fi
exit 0
