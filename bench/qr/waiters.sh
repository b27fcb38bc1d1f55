#!/usr/bin/env bash
# Holds COUNT waiting browsers (half SSE, half long poll) on one gateway instance, measures the
# server's heap (after a full GC) and RSS per waiter, then measures confirm→SSE latency under
# that load. Loopback only; bounded in count and time; stops by itself.
#   bench/qr/waiters.sh            # COUNT=20000 SAMPLES=200
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT="${COUNT:-20000}"
SAMPLES="${SAMPLES:-200}"
ulimit -n 200000 || true
[ -f target/scangate.jar ] || mvn -q -DskipTests package
export SCANGATE_REDIS_URL="${SCANGATE_REDIS_URL:-redis://127.0.0.1:6379}"
export SCANGATE_POSTGRES_URL="${SCANGATE_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/scangate_bench}"
out="$(mktemp)"; err="$(mktemp)"
java -Xms256m -Xmx1g -Dscangate.http.log.level=WARN -jar target/scangate.jar start-dev --config bench/qr/bench.yaml --port 0 >"$out" 2>"$err" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q 'ready on' "$out" && break; sleep 1; done
base="$(grep -o 'http://[0-9.:]*' "$out" | head -n 1)"
[ -n "$base" ] || { cat "$err"; exit 1; }
timeout 900 java -Xmx2g -cp target/scangate.jar bench/qr/WaitersBench.java "$base" "$server" "$COUNT" "$SAMPLES"
