#!/usr/bin/env bash
# Bench: how long secgate takes to start, as a ratio to a bare `node -e 0` measured in the same loop
# (the ratio holds on a loaded machine; the absolute times do not). Writes bench/results/startup.md.
#
#   bash bench/startup.sh [--rounds N]      (default 21; builds first)
#
# Each round runs, alternately: node -e 0, secgate --version, secgate keygen --help, secgate list --json,
# secgate verify --help, and — against one local `openssl s_server` — a TLS-only `secgate verify`
# (tls.protocols and tls.certificate) and the peer `sslscan --no-ciphersuites`. Medians over the rounds.
# Then the time from spawning `secgate verify` to its first probe (bench/first-probe.ts: a TCP forwarder in front
# of the same server notes the first connection), beside `node -e 0` in the same rounds.
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

# A TLS-only gate and a real peer on the same local server (a self-signed certificate with CBC suites: the
# gate fails it, as it should; what is measured is the time).
TLS_DIR=$(mktemp -d)
TLS_PORT=$((20000 + RANDOM % 20000))
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS_DIR/key.pem" \
  -out "$TLS_DIR/cert.pem" -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$TLS_DIR/cert.pem" -key "$TLS_DIR/key.pem" -www -quiet \
  >/dev/null 2>&1 &
TLS_SERVER=$!
trap 'kill $TLS_SERVER 2>/dev/null || true; rm -rf "$TLS_DIR"' EXIT
printf 'version: 1\ntarget:\n  url: https://127.0.0.1:%s\n  ca_file: cert.pem\nchecks:\n  - check: tls.protocols\n  - check: tls.certificate\n' \
  "$TLS_PORT" >"$TLS_DIR/checklist.yaml"
sleep 1
NAMES+=("secgate verify (TLS-only checklist)" "sslscan --no-ciphersuites (same server)")
COMMANDS+=("cd $TLS_DIR && node $PWD/bin/secgate verify" "sslscan --no-ciphersuites --no-colour --xml=- 127.0.0.1:$TLS_PORT")

# Read before building: the bench's own compile must not count as the machine's load.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# bin/secgate runs the bundle (dist/cli): a bench of stale code would be stamped with this commit.
npm run build >/dev/null
npx tsc -p tsconfig.bench.json
for _ in $(seq 1 "$ROUNDS"); do
  for index in "${!COMMANDS[@]}"; do
    SAMPLES[$index]+="$(millis "${COMMANDS[$index]}") "
  done
done
first_probe=$(node dist/bench/first-probe.js --server "127.0.0.1:$TLS_PORT" --dir "$TLS_DIR" --rounds "$ROUNDS" --json)
field() { node -e "process.stdout.write(String(JSON.parse(process.argv[1]).$1))" "$first_probe"; }
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
  gate=$(echo "${SAMPLES[5]}" | median)
  peer=$(echo "${SAMPLES[6]}" | median)
  echo
  echo "TLS-only gate ÷ sslscan (same server, same rounds): $(awk -v a="$gate" -v b="$peer" 'BEGIN { printf "%.2f", a / b }')× (goal: ≤ 1)."
  echo
  echo "Time to first probe (bench/first-probe.ts, $ROUNDS further rounds, goal ≤ 300 ms): spawn of the TLS-only \`secgate verify\` to its first connection $(field firstProbeMs) ms ($(awk -v a="$(field firstProbeMs)" -v b="$(field bareNodeMs)" 'BEGIN { printf "%.2f", a / b }')× \`node -e 0\` in the same rounds: $(field bareNodeMs) ms); the whole run $(field totalMs) ms."

} >"$OUT"
cat "$OUT"
