#!/usr/bin/env bash
# Bench: what the GitHub Action installs before the gate runs, before (npm ci: the whole dev
# toolchain, then tsc through `prepare`) and now (the built package with production dependencies
# only: npm ci --omit=dev --omit=optional --ignore-scripts, as action.yml runs it in a release
# tree that ships dist/). Both start from the same npm cache and a copy of this checkout, as
# GitHub's runner starts from the action's checkout. Writes bench/results/action-setup.md.
#
#   bash bench/action-setup.sh [--reps N]      (default 3)
#
# A release tree is the source tree plus dist/ (npm run build); the npm pack tarball is measured too,
# since that is what docs/ci/gitlab-ci.yml installs (npm install --global --omit=optional <tgz>).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPS=3
if [[ "${1:-}" == "--reps" ]]; then REPS=$2; fi
OUT=bench/results/action-setup.md
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

npm run build >/dev/null
# The tree GitHub checks out for the action: tracked files (as they are in this work tree) and, on a release ref, dist/.
source_tree() {
  local dir=$1
  mkdir -p "$dir"
  git ls-files -z | xargs -0 -I{} cp --parents {} "$dir"
}

# Prints "seconds packages megabytes" for one install command run in $1.
measure() {
  local dir=$1
  shift
  local started ended
  started=$(date +%s%N)
  (cd "$dir" && "$@" >/dev/null 2>&1)
  ended=$(date +%s%N)
  local packages megabytes
  # npm's record of what it installed (node_modules/.package-lock.json): one entry per package directory.
  packages=$(node -e 'const l = require(process.argv[1]); console.log(Object.keys(l.packages).length)' \
    "$dir/node_modules/.package-lock.json")
  megabytes=$(du -sm "$dir/node_modules" | cut -f1)
  echo "$(awk "BEGIN { printf \"%.1f\", ($ended - $started) / 1e9 }") $packages $megabytes"
}

ROWS=()
for rep in $(seq 1 "$REPS"); do
  before="$WORK/before-$rep"
  source_tree "$before"
  read -r seconds packages megabytes < <(measure "$before" npm ci --no-audit --no-fund)
  ROWS+=("| before: \`npm ci\` (dev toolchain + \`tsc\` via prepare) | $rep | $seconds s | $packages | $megabytes MB |")

  after="$WORK/after-$rep"
  source_tree "$after"
  cp -r "$ROOT/dist" "$after/dist"
  read -r seconds packages megabytes < <(measure "$after" npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund)
  ROWS+=("| now: \`npm ci --omit=dev --omit=optional --ignore-scripts\` (release tree with dist/) | $rep | $seconds s | $packages | $megabytes MB |")
  # It runs: the catalogue, and a gate of a remote target (nothing listens on port 9: exit 3, not a crash).
  (cd "$after" && node bin/secgate list >/dev/null)
  printf 'version: 1\ntarget: { url: "https://127.0.0.1:9" }\nchecks:\n  - check: tls.protocols\n' >"$after/remote.yaml"
  code=0
  (cd "$after" && node bin/secgate verify -c remote.yaml >/dev/null 2>&1) || code=$?
  if [[ $code != 3 ]]; then echo "the production-only install did not run the gate (exit $code)" >&2; exit 1; fi
done

TARBALL=$(cd "$WORK" && npm pack --ignore-scripts "$ROOT" 2>/dev/null | tail -1)
for rep in $(seq 1 "$REPS"); do
  prefix="$WORK/tarball-$rep"
  mkdir -p "$prefix"
  read -r seconds packages megabytes < <(measure "$prefix" npm install --prefix "$prefix" --omit=optional --no-audit --no-fund "$WORK/$TARBALL")
  ROWS+=("| now: \`npm install --omit=optional secgate-*.tgz\` (the npm pack tarball, GitLab example) | $rep | $seconds s | $packages | $megabytes MB |")
done
TARBALL_KB=$(du -k "$WORK/$TARBALL" | cut -f1)

{
  echo '# What the GitHub Action installs before the gate runs'
  echo
  echo "Command: \`bash bench/action-setup.sh --reps $REPS\` (commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d))."
  echo "Machine: $(nproc) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg), Node $(node --version), npm $(npm --version)."
  echo 'Each install starts from a fresh copy of the tracked files and a warm npm cache (~/.npm), so the times are'
  echo 'install work, not download; a cold GitHub runner adds the download of what is counted here.'
  echo "Packages: entries of node_modules/.package-lock.json; size: \`du -sm node_modules\`. npm pack tarball: $TARBALL_KB KB."
  echo
  echo '| install | run | wall | packages | node_modules |'
  echo '| --- | --- | --- | --- | --- |'
  printf '%s\n' "${ROWS[@]}"
  echo
  echo 'After each production-only install, `secgate list` runs and `secgate verify` of a remote target exits 3'
  echo '(nothing listens there: could not verify), so the gate runs without the compiler or PostgreSQL binaries.'
} >"$OUT"
cat "$OUT"
