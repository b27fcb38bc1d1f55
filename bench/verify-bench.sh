#!/usr/bin/env bash
# Requests per second of /auth/verify next to /health/live, same server, same run:
#   cached   - one valid access token, every request (the verified-token cache answers);
#   distinct - a different valid token on every request (none cached: each pays a signature check).
# Needs: wrk (apt-get install -y wrk), a built jar (mvn -q -DskipTests package), PostgreSQL and Redis:
#   SCANGATE_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/scangate_bench_tokens \
#   SCANGATE_REDIS_URL=redis://127.0.0.1:6379 bench/verify-bench.sh
# Options (env): DURATION (default 10s), DISTINCT_DURATION (5s), CONNECTIONS (64), THREADS (2),
# ROUNDS (3), TOKENS (distinct tokens per round, 40000). The algorithm is conf/dev.yaml's (RS256);
# SCANGATE_TOKENS_SIGNINGALGORITHM is not read, edit the YAML to bench another.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SCANGATE_POSTGRES_URL:=postgresql://postgres@127.0.0.1:5432/scangate_bench_tokens}"
: "${SCANGATE_REDIS_URL:=redis://127.0.0.1:6379}"
export SCANGATE_POSTGRES_URL SCANGATE_REDIS_URL
DURATION=${DURATION:-10s}; DISTINCT_DURATION=${DISTINCT_DURATION:-5s}; CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}; ROUNDS=${ROUNDS:-3}; TOKENS=${TOKENS:-40000}
export THREADS
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 2; }
[ -f target/scangate.jar ] || { echo "build first: mvn -q -DskipTests package" >&2; exit 2; }

out=$(mktemp); log=$(mktemp); work=$(mktemp -d)
BENCH_TOKENS=$(( TOKENS * (ROUNDS + 1) )) BENCH_TOKENS_FILE="$work/tokens" \
  java -Dlogback.configurationFile=bench/logback-bench.xml -cp target/scangate.jar bench/BenchServer.java >"$out" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$out" "$log" "$work"' EXIT
for _ in $(seq 1 600); do [ -s "$out" ] && break; sleep 1; done
[ -s "$out" ] || { echo "server did not start:" >&2; cat "$log" >&2; exit 1; }
read -r port token <"$out"
base="http://127.0.0.1:$port"
curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$base/auth/verify" || { echo "verify refused the token" >&2; exit 1; }
# One slice of TOKENS per round, plus one for the warm-up.
split -d -l "$TOKENS" "$work/tokens" "$work/slice-"

rps() { awk '/Requests\/sec/ {print $2}'; }
echo "cpus=$(nproc) threads=$THREADS connections=$CONNECTIONS duration=$DURATION distinct=$DISTINCT_DURATION tokens/round=$TOKENS"
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "$base/health/live" >/dev/null        # warm-up (JIT)
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -H "Authorization: Bearer $token" "$base/auth/verify" >/dev/null
TOKENS_FILE="$work/slice-00" wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s bench/verify/distinct.lua "$base" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  health=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$base/health/live" | rps)
  cached=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $token" "$base/auth/verify" | rps)
  result=$(TOKENS_FILE="$work/slice-$(printf %02d "$round")" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DISTINCT_DURATION" \
    -s bench/verify/distinct.lua "$base")
  distinct=$(echo "$result" | rps)
  sent=$(echo "$result" | awk '/^tokens/ {print $4}')
  ratio() { awk -v v="$1" -v h="$health" 'BEGIN { printf "%.0f", 100 * v / h }'; }
  echo "round $round: /health/live ${health} req/s, /auth/verify cached ${cached} req/s ($(ratio "$cached")%)," \
    "distinct ${distinct} req/s ($(ratio "$distinct")%; ${sent} requests for ${TOKENS} tokens)"
done
