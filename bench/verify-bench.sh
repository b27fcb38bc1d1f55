#!/usr/bin/env bash
# Requests per second of /auth/verify (valid access token) next to /health/live, same server, same run.
# Needs: wrk (apt-get install -y wrk), a built jar (mvn -q -DskipTests package), PostgreSQL and Redis:
#   SCANGATE_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/scangate_bench_tokens \
#   SCANGATE_REDIS_URL=redis://127.0.0.1:6379 bench/verify-bench.sh
# Options (env): DURATION (default 15s), CONNECTIONS (64), THREADS (2), ROUNDS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SCANGATE_POSTGRES_URL:=postgresql://postgres@127.0.0.1:5432/scangate_bench_tokens}"
: "${SCANGATE_REDIS_URL:=redis://127.0.0.1:6379}"
export SCANGATE_POSTGRES_URL SCANGATE_REDIS_URL
DURATION=${DURATION:-15s}; CONNECTIONS=${CONNECTIONS:-64}; THREADS=${THREADS:-2}; ROUNDS=${ROUNDS:-2}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 2; }
[ -f target/scangate.jar ] || { echo "build first: mvn -q -DskipTests package" >&2; exit 2; }

out=$(mktemp); log=$(mktemp)
java -Dlogback.configurationFile=bench/logback-bench.xml -cp target/scangate.jar bench/BenchServer.java >"$out" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$out" "$log"' EXIT
for _ in $(seq 1 120); do [ -s "$out" ] && break; sleep 1; done
[ -s "$out" ] || { echo "server did not start:" >&2; cat "$log" >&2; exit 1; }
read -r port token <"$out"
base="http://127.0.0.1:$port"
curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$base/auth/verify" || { echo "verify refused the token" >&2; exit 1; }

rps() { awk '/Requests\/sec/ {print $2}'; }
echo "cpus=$(nproc) threads=$THREADS connections=$CONNECTIONS duration=$DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "$base/health/live" >/dev/null        # warm-up (JIT)
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -H "Authorization: Bearer $token" "$base/auth/verify" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  health=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$base/health/live" | rps)
  verify=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $token" "$base/auth/verify" | rps)
  ratio=$(awk -v v="$verify" -v h="$health" 'BEGIN { printf "%.0f", 100 * v / h }')
  echo "round $round: /health/live ${health} req/s, /auth/verify ${verify} req/s, verify/health ${ratio}%"
done
