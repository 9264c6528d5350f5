#!/usr/bin/env bash
# Bench (issue 19): auth.no-enumeration's fixtures hold on a loaded machine — the flawed wrong-password path
# (several times any bound) fails, equal classes pass, forced extra batches stay an error — in N consecutive
# runs of its test file with a busy loop on every core. Writes bench/results/no-enumeration-load.md.
#
#   bash bench/no-enumeration-load.sh [runs]      (default 5; needs DATABASE_URL or starts an embedded PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
OUT=bench/results/no-enumeration-load.md
CORES=$(nproc)
npm run build >/dev/null
HOGS=()
for _ in $(seq "$CORES"); do node -e 'for (;;) {}' & HOGS+=($!); done
trap 'kill "${HOGS[@]}" 2>/dev/null || true' EXIT
sleep 5
ROWS=()
for run in $(seq "$RUNS"); do
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  started=$(date +%s%N)
  log=$(mktemp)
  CI=true npx vitest run test/checks/auth/no-enumeration.test.ts >"$log" 2>&1 || true
  seconds=$(( ($(date +%s%N) - started) / 1000000000 ))
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +Tests ' | tail -1)
  passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
  failed=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
  ROWS+=("| $run | ${seconds} s | $passed | $failed | $load |")
  echo "run $run: ${seconds}s, $passed passed, $failed failed (load $load)" >&2
done
{
  echo "# auth.no-enumeration's fixtures on a loaded machine"
  echo
  echo "Command: \`bash bench/no-enumeration-load.sh $RUNS\` (commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d))."
  echo "Machine: $CORES cores, Node $(node --version); one \`node -e 'for (;;) {}'\` per core for the whole bench."
  echo "Each row is one \`vitest run test/checks/auth/no-enumeration.test.ts\`: the reference service and the auth fixture"
  echo "pass, the wrong-password path several times slower fails, the locked account's different answer fails, the sample"
  echo "tables judge as written, and forced extra batches come from the pool and end as an error."
  echo
  echo "| run | wall | passed | failed | load average at start (1, 5, 15 min) |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
} >"$OUT"
echo "wrote $OUT" >&2
