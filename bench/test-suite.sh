#!/usr/bin/env bash
# Bench: how long the README's test command (`npm test`, build included) takes on this machine,
# idle and loaded, and whether it stays green under load. Writes bench/results/test-suite.md.
#
#   bash bench/test-suite.sh [--loaded-runs N]      (default 5)
#
# Scenarios, one after another:
#   idle, embedded   without DATABASE_URL, so the suite starts its own embedded PostgreSQL (a fresh laptop)
#   idle, server     DATABASE_URL names the machine's PostgreSQL (CI)
#   cpu hog × N      two busy loops, one per core, for the whole run (a shared CI machine)
#   two suites       this checkout and a second clone of HEAD run `npm test` at the same time
# The goal (issue 13): ≤ 150 s idle, ≤ 300 s loaded, 0 failures in every loaded run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOADED_RUNS=5
if [[ "${1:-}" == "--loaded-runs" ]]; then LOADED_RUNS=$2; fi
SERVER_URL=${SECGATE_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=bench/results/test-suite.md
LOGS=$(mktemp -d)
ROWS=()

# One `npm test` in directory $1 with the environment after it; prints "seconds passed failed".
run_suite() {
  local dir=$1 log
  shift
  log=$(mktemp -p "$LOGS")
  local started ended
  started=$(date +%s%N)
  (cd "$dir" && env "$@" CI=true npm test >"$log" 2>&1) || true
  ended=$(date +%s%N)
  # vitest's summary line, without colours: "Tests  775 passed (775)" or "Tests  2 failed | 773 passed (775)".
  local summary passed failed
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +Tests ' | tail -1 || true)
  passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
  failed=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
  if [[ -z "$summary" ]]; then failed="no summary (see $log)"; fi
  if [[ "$failed" != 0 ]]; then
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ (FAIL|×)| × ' | head -20 >&2 || true
  fi
  printf '%s %s %s\n' "$(((ended - started + 500000000) / 1000000000))" "$passed" "$failed"
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

record() {
  local scenario=$1 result=$2 load=$3
  read -r seconds passed failed <<<"$result"
  ROWS+=("| $scenario | $seconds s | $passed | $failed | $load |")
  echo "$scenario: ${seconds}s, $passed passed, $failed failed (load at start $load)"
}

start_hogs() {
  HOGS=()
  for _ in 1 2; do
    node -e 'for (;;) {}' &
    HOGS+=($!)
  done
}
stop_hogs() { kill "${HOGS[@]}" 2>/dev/null || true; wait "${HOGS[@]}" 2>/dev/null || true; }
trap 'stop_hogs 2>/dev/null || true' EXIT

npm run build >/dev/null

load=$(load_average)
record "idle, embedded PostgreSQL" "$(run_suite "$ROOT" -u DATABASE_URL)" "$load"
load=$(load_average)
record "idle, PostgreSQL server" "$(run_suite "$ROOT" DATABASE_URL="$SERVER_URL")" "$load"

for run in $(seq 1 "$LOADED_RUNS"); do
  start_hogs
  sleep 5
  load=$(load_average)
  record "cpu hog on both cores, run $run" "$(run_suite "$ROOT" DATABASE_URL="$SERVER_URL")" "$load"
  stop_hogs
done

# A second checkout of the same commit, installed from scratch, for two suites at once.
SECOND=$(mktemp -d)
git clone --quiet --local "$ROOT" "$SECOND/secgate"
(cd "$SECOND/secgate" && npm ci --silent >/dev/null 2>&1)
load=$(load_average)
first_out=$(mktemp -p "$LOGS")
second_out=$(mktemp -p "$LOGS")
run_suite "$ROOT" DATABASE_URL="$SERVER_URL" >"$first_out" &
first=$!
run_suite "$SECOND/secgate" -u DATABASE_URL >"$second_out" &
second=$!
wait "$first" "$second"
record "two suites at once: this checkout (server)" "$(cat "$first_out")" "$load"
record "two suites at once: second clone (embedded)" "$(cat "$second_out")" "$load"
rm -rf "$SECOND"

{
  echo '# `npm test` wall time, idle and loaded'
  echo
  echo "Command: \`bash bench/test-suite.sh --loaded-runs $LOADED_RUNS\` (commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d))."
  echo "Machine: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), Node $(node --version)."
  echo "Each row is one \`npm test\` with \`CI=true\`, build included (incremental: \`npm ci\` has built once already)."
  echo "Goal: ≤ 150 s idle, ≤ 300 s loaded, 0 failures. 'cpu hog' = two \`node -e 'for (;;) {}'\` loops for the whole run."
  echo
  echo '| scenario | wall | passed | failed | load average at start (1, 5, 15 min) |'
  echo '| --- | --- | --- | --- | --- |'
  printf '%s\n' "${ROWS[@]}"
} >"$OUT"
echo "wrote $OUT"
