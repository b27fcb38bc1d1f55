#!/usr/bin/env bash
# Scan-to-browser latency of Official Account follow-to-login (issue 13): from the webhook POST of a
# safe-mode SCAN push (signed and encrypted as WeChat does) to the CONFIRMED event on the waiting
# browser's SSE stream, at several login rates, with WAITING other browsers held open (SSE).
# One start-dev gateway (bench/officialaccount/bench.yaml), the load client in a second JVM.
#   bench/officialaccount/scan-latency.sh   # RATES="100 300 1000" SECONDS_PER_RATE=10 WAITING=10000 WARMUP_LOGINS=3000
# Open files: the client and the server each hold WAITING + RATE x SECONDS connections (ulimit -n).
set -euo pipefail
cd "$(dirname "$0")/../.."
RATES="${RATES:-100 300 1000}"
SECONDS_PER_RATE="${SECONDS_PER_RATE:-10}"
WAITING="${WAITING:-10000}"
ulimit -n 200000 || true
JAR="${JAR:-target/scangate.jar}"
[ -f "$JAR" ] || mvn -q -DskipTests package
export SCANGATE_REDIS_URL="${SCANGATE_REDIS_URL:-redis://127.0.0.1:6379}"
own_database="${SCANGATE_POSTGRES_URL:+no}"
export SCANGATE_POSTGRES_URL="${SCANGATE_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/scangate_bench_oa}"
# Every run starts from nothing. A previous run's sessions (RATE x SECONDS each, 30 minutes to
# live) would otherwise expire, and be swept and published, in the middle of this one; and an
# empty database each time keeps runs comparable (only the benchmark's own: a database named by
# SCANGATE_POSTGRES_URL is left as it is).
prefix="$(sed -n 's/^redis: { keyPrefix: "\(.*\)" }$/\1/p' bench/officialaccount/bench.yaml)"
if command -v redis-cli >/dev/null && [ -n "$prefix" ]; then
  redis-cli -u "$SCANGATE_REDIS_URL" --scan --pattern "${prefix}*" \
    | xargs -r -n 5000 redis-cli -u "$SCANGATE_REDIS_URL" unlink >/dev/null
fi
if [ -z "$own_database" ] && command -v psql >/dev/null; then
  db="${SCANGATE_POSTGRES_URL##*/}"
  psql -q "${SCANGATE_POSTGRES_URL%/*}/postgres" -c "drop database if exists \"$db\"" -c "create database \"$db\"" >/dev/null
fi
out="$(mktemp)"; err="$(mktemp)"
java -Xms512m -Xmx2g ${SERVER_JAVA_OPTS:--XX:+UseZGC} -Dscangate.http.log.level=WARN -Dlogback.configurationFile=bench/logback-bench.xml \
  -jar "$JAR" start-dev --config bench/officialaccount/bench.yaml --port 0 >"$out" 2>"$err" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$out" "$err"' EXIT
for _ in $(seq 1 120); do grep -q 'ready on' "$out" && break; sleep 1; done
base="$(grep -o 'http://[0-9.:]*' "$out" | head -n 1)"
[ -n "$base" ] || { cat "$err"; exit 1; }
WARMUP_LOGINS="${WARMUP_LOGINS:-3000}" timeout 1800 java ${CLIENT_JAVA_OPTS:--XX:+UseParallelGC -Xms8g -Xmx8g -Xmn6g} -cp "$JAR" bench/officialaccount/ScanLatencyBench.java \
  "$base" bench/officialaccount/bench.yaml "$WAITING" "$SECONDS_PER_RATE" $RATES
