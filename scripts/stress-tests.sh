#!/usr/bin/env bash
# The whole test suite, several times in a row, with two CPU hogs beside it: a test that fails
# here waits on time rather than on its event (issue 14). Randomised order (pytest-randomly, a new
# seed each run); the hogs are stopped at the end, whatever happened.
#
#   scripts/stress-tests.sh [RUNS] [pytest arguments...]     (RUNS defaults to 3)
#
# Prints each run's counts and wall time, then a summary; exits non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
shift || true
python="${PYTHON:-.venv/bin/python}"
logs="$(mktemp -d "${TMPDIR:-/tmp}/stress-tests.XXXXXX")"

hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${hogs[@]}"; do
    wait "$pid" 2>/dev/null
  done
  hogs=()
}
trap stop_hogs EXIT
trap 'stop_hogs; exit 130' INT TERM

if command -v stress-ng >/dev/null 2>&1; then
  stress-ng --cpu 2 --quiet &
  hogs+=("$!")
  what="stress-ng --cpu 2"
else
  for _ in 1 2; do
    python3 -c 'while 1: pass' &
    hogs+=("$!")
  done
  what="two python busy loops"
fi
echo "stress-tests: $runs runs beside $what (pids ${hogs[*]}); logs in $logs"

failed_runs=0
summary=()
for n in $(seq 1 "$runs"); do
  seed=$(( (RANDOM << 15) | RANDOM ))  # chosen here, so that a failing order can be replayed
  started=$(date +%s)
  "$python" -m pytest -q -p randomly --randomly-seed="$seed" "$@" >"$logs/run-$n.log" 2>&1
  code=$?
  took=$(( $(date +%s) - started ))
  # pytest's closing line: "1 failed, 1100 passed, 3 skipped in 612.34s (0:10:12)" (-q)
  closing=$(grep -E '(passed|failed|error).* in [0-9.]+s' "$logs/run-$n.log" | tail -1)
  count() { grep -oE "[0-9]+ $1" <<<"$closing" | grep -oE '^[0-9]+' || echo 0; }
  line="run $n: $(count passed) passed, $(count failed) failed, $(count error) errors, $(count skipped) skipped; wall ${took} s; exit $code; --randomly-seed=$seed"
  echo "$line"
  grep -E '^(FAILED|ERROR) ' "$logs/run-$n.log" | sed 's/^/    /'
  summary+=("$line")
  [ "$code" -eq 0 ] || failed_runs=$((failed_runs + 1))
done
stop_hogs

echo "stress-tests: $((runs - failed_runs)) of $runs runs green"
printf '  %s\n' "${summary[@]}"
[ "$failed_runs" -eq 0 ]
