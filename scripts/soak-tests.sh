#!/usr/bin/env bash
# Runs the README's test command (`npm test`) N times in a row while one core is kept busy, as
# on a loaded 2-core machine, then prints how many runs passed and every failure of every run.
# Each run's output and vitest reports are kept under .glint/soak/<start time>/run-<i>/.
#
# usage: scripts/soak-tests.sh N
#   SOAK_TEST_COMMAND  the command to repeat (default: npm test)
#   SOAK_RESULTS_DIR   where that command leaves vitest JSON reports (default: .glint/test-results)
#   SOAK_RUN_BOUND_S   seconds of CPU burning allowed per run (default 2400); the burner ends by
#                      itself after N times this, even if this script is killed
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-}
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/soak-tests.sh N   (N = how many times to run the tests, at least 1)" >&2
  exit 2
fi
command=${SOAK_TEST_COMMAND:-npm test}
run_bound_s=${SOAK_RUN_BOUND_S:-2400}
results=${SOAK_RESULTS_DIR:-.glint/test-results}
soak_dir=.glint/soak/$(date +%Y%m%d-%H%M%S)
mkdir -p "$soak_dir"

# One busy core for the whole soak. `timeout` bounds it in time, so it stops by itself even if
# this script dies without running its trap.
timeout "$((runs * run_bound_s))" sh -c 'while :; do :; done' &
burner=$!
stop_burner() { kill "$burner" 2>/dev/null || true; wait "$burner" 2>/dev/null || true; }
trap stop_burner EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
for ((i = 1; i <= runs; i++)); do
  run_dir=$soak_dir/run-$i
  mkdir -p "$run_dir"
  rm -f "$results"/*.json
  echo "== soak run $i of $runs: $command (output in $run_dir/output.log)" >&2
  started=$SECONDS
  bash -c "$command" >"$run_dir/output.log" 2>&1
  status=$?
  elapsed=$((SECONDS - started))
  cp "$results"/*.json "$run_dir"/ 2>/dev/null || true
  load="one core busy throughout"
  kill -0 "$burner" 2>/dev/null || load="the CPU burner had already ended (raise SOAK_RUN_BOUND_S)"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "   passed in ${elapsed}s; $load" >&2
    continue
  fi
  echo "   FAILED (exit $status) in ${elapsed}s; $load" >&2
  {
    echo "run $i failed (exit $status, ${elapsed}s):"
    failures=$(node scripts/list-failed-tests.mjs "$run_dir"/*.json 2>/dev/null || true)
    if [ -n "$failures" ]; then
      echo "$failures" | sed 's/^/  /'
    else
      echo "  no failed test in its reports; the output ends with:"
      tail -n 15 "$run_dir/output.log" | sed 's/^/    | /'
    fi
  } >>"$soak_dir/failures.txt"
done

echo
echo "soak: $passed of $runs runs of '$command' passed, one core kept busy"
[ -f "$soak_dir/failures.txt" ] && cat "$soak_dir/failures.txt"
echo "outputs and reports: $soak_dir"
[ "$passed" -eq "$runs" ]
