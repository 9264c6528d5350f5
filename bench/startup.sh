#!/usr/bin/env bash
# Bench: how long secgate takes to start, as a ratio to a bare `node -e 0` measured in the same loop
# (the ratio holds on a loaded machine; the absolute times do not). Writes bench/results/startup.md.
#
#   bash bench/startup.sh [--rounds N]      (default 21; run after `npm run build`)
#
# Each round runs, alternately: node -e 0, secgate --version, secgate keygen --help, secgate list --json,
# secgate verify --help. Medians over the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=21
if [[ "${1:-}" == "--rounds" ]]; then ROUNDS=$2; fi
OUT=bench/results/startup.md
declare -A SAMPLES
NAMES=("node -e 0" "secgate --version" "secgate keygen --help" "secgate list --json" "secgate verify --help")
COMMANDS=("node -e 0" "node bin/secgate --version" "node bin/secgate keygen --help" "node bin/secgate list --json" "node bin/secgate verify --help")

millis() {
  local started ended
  started=$(date +%s%N)
  bash -c "$1" >/dev/null 2>&1
  ended=$(date +%s%N)
  echo $(((ended - started) / 1000000))
}
median() { tr ' ' '\n' | sort -n | awk '{ values[NR] = $1 } END { print values[int((NR + 1) / 2)] }'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq 1 "$ROUNDS"); do
  for index in "${!COMMANDS[@]}"; do
    SAMPLES[$index]+="$(millis "${COMMANDS[$index]}") "
  done
done
baseline=$(echo "${SAMPLES[0]}" | median)
{
  echo '# secgate start-up'
  echo
  echo "Command: \`bash bench/startup.sh --rounds $ROUNDS\` (commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d))."
  echo "Machine: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), Node $(node --version), load average at start $load_before."
  echo "Medians of $ROUNDS alternating rounds (wall time of the whole process). Goal (issue 16): \`secgate --version\` ≤ 0.15 s on an idle machine; the ratio to \`node -e 0\` is what a loaded machine cannot move."
  echo
  echo '| command | median ms | × node -e 0 |'
  echo '| --- | ---: | ---: |'
  for index in "${!COMMANDS[@]}"; do
    value=$(echo "${SAMPLES[$index]}" | median)
    printf '| `%s` | %s | %s |\n' "${NAMES[$index]}" "$value" "$(awk -v a="$value" -v b="$baseline" 'BEGIN { printf "%.2f", a / b }')"
  done
} >"$OUT"
cat "$OUT"
