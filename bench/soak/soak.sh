#!/usr/bin/env bash
# Soak: MINUTES (default 10) of mixed traffic on two gateway instances sharing Redis and
# PostgreSQL, WORKERS (default 8) client threads; fails unless every confirmed session was
# exchanged exactly once, no answer was an error, and each instance's live heap after a full GC
# ends within 10 % of where it was after the warm-up. Loopback only; stops by itself.
# The heap is first measured after WARMUP_MINUTES (default 11) of the same traffic: the gateway's
# verified-token cache keeps tokens 10 minutes, so before that the heap is still filling it.
# The load is paced at RATE scenarios a second (default 30), so that steady state does not move
# with whatever else the machine runs.
#   bench/soak/soak.sh                  # MINUTES=10 WORKERS=8 WARMUP_MINUTES=11 RATE=30
#   MINUTES=2 bench/soak/soak.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES="${MINUTES:-10}"
WORKERS="${WORKERS:-8}"
WARMUP_MINUTES="${WARMUP_MINUTES:-11}"
RATE="${RATE:-30}"   # scenarios (logins) a second, both instances together
[ -f target/scangate.jar ] || mvn -q -DskipTests package
export SCANGATE_REDIS_URL="${SCANGATE_REDIS_URL:-redis://127.0.0.1:6379}"
export SCANGATE_POSTGRES_URL="${SCANGATE_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/scangate_soak}"
dir="$(mktemp -d)"
start() {
  java -Xms256m -Xmx512m -Dscangate.http.log.level=WARN -jar target/scangate.jar start-dev --config bench/soak/soak.yaml --port 0 \
    >"$dir/$1.out" 2>"$dir/$1.err" &
  echo $!
}
a="$(start a)"
# The first instance migrates the schema; the second starts once it is up.
for _ in $(seq 1 120); do grep -q 'ready on' "$dir/a.out" && break; sleep 1; done
b="$(start b)"
trap 'kill $a $b 2>/dev/null || true; wait $a $b 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q 'ready on' "$dir/b.out" && break; sleep 1; done
base_a="$(grep -o 'http://[0-9.:]*' "$dir/a.out" | head -n 1)"
base_b="$(grep -o 'http://[0-9.:]*' "$dir/b.out" | head -n 1)"
[ -n "$base_a" ] && [ -n "$base_b" ] || { cat "$dir"/*.err; exit 1; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
limit=$(awk -v m="$MINUTES" -v w="$WARMUP_MINUTES" 'BEGIN { printf "%d", (m + w) * 60 * 1.3 + 600 }')
status=0
timeout "$limit" java -Xmx512m -cp target/scangate.jar bench/soak/SoakBench.java "$base_a" "$a" "$base_b" "$b" "$MINUTES" "$WORKERS" "$WARMUP_MINUTES" "$RATE" || status=$?
grep -h -E '"level":"(ERROR)"| ERROR ' "$dir"/a.err "$dir"/b.err | head -n 20 || true
exit $status
