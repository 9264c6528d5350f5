#!/bin/sh
# Starts the example fleet's targets (docs/ci/fleet/inventory.yaml) as
# reference-service instances on this host, each with its own embedded
# PostgreSQL and private CA under .secgate/fleet/<target>/, and waits until
# each answers. Usage: docs/ci/fleet/start-targets.sh eu,us,ap
# Stands in for your real deployments; the gate itself needs only their URLs.
set -eu
targets=$(echo "${1:-eu,us,ap}" | tr ',' ' ')
: "${SECGATE_JWT_SECRET:=$(node -e 'process.stdout.write(require("crypto").randomBytes(36).toString("base64url"))')}"
export SECGATE_JWT_SECRET
for target in $targets; do
  case "$target" in
    eu) https=9443 http=9080 ;;
    us) https=9444 http=9081 ;;
    ap) https=9445 http=9082 ;;
    *) echo "unknown example target: $target" >&2; exit 2 ;;
  esac
  mkdir -p ".secgate/fleet/$target"
  npx secgate service start --data-dir ".secgate/fleet/$target" --https-port "$https" --http-port "$http" \
    > ".secgate/fleet/$target/service.log" 2>&1 &
  echo $! > ".secgate/fleet/$target/service.pid"
done
for target in $targets; do
  for _ in $(seq 1 120); do
    [ -f ".secgate/fleet/$target/pki/ca.crt" ] && grep -q 'listening on' ".secgate/fleet/$target/service.log" && break
    sleep 1
  done
  grep -q 'listening on' ".secgate/fleet/$target/service.log" || { cat ".secgate/fleet/$target/service.log" >&2; exit 3; }
done
