#!/usr/bin/env bash
# Counts what QR logins cost, for the capacity plan in docs/operations.md: Redis commands (INFO
# commandstats deltas) and bytes, pub/sub messages and their size, PostgreSQL writes, and memory
# per live session. Starts its own Redis on a free port (so nothing else is counted) and one
# start-dev gateway on bench/qr/bench.yaml; logs LOGINS users in through the sandbox, one after
# another (create, scan, confirm, read the ticket, exchange, verify); subtracts what the idle
# gateway sends in the same time (the expiry sweep). Loopback only; stops what it started.
#   bench/redis/per-login.sh          # LOGINS=100 SESSIONS=2000
set -euo pipefail
cd "$(dirname "$0")/../.."
LOGINS="${LOGINS:-100}"
SESSIONS="${SESSIONS:-2000}"
PG="${SCANGATE_POSTGRES_SERVER:-postgresql://postgres@127.0.0.1:5432}"
[ -f target/scangate.jar ] || mvn -q -DskipTests package
free_port() { while :; do p=$(shuf -i 20000-60000 -n 1); (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }; done; }
dir="$(mktemp -d)"
rport=$(free_port)
db="scangate_bench_login_$$"
psql -q "$PG/postgres" -c "CREATE DATABASE $db"
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
rpid=$!
cleanup() {
  kill "${gpid:-}" "${spid:-}" 2>/dev/null || true; wait "${gpid:-}" 2>/dev/null || true
  kill "$rpid" 2>/dev/null || true; wait "$rpid" 2>/dev/null || true
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db" || true
  rm -rf "$dir"
}
trap cleanup EXIT
cli() { redis-cli -p "$rport" "$@"; }
until cli PING >/dev/null 2>&1; do sleep 0.1; done
SCANGATE_REDIS_URL="redis://127.0.0.1:$rport" SCANGATE_POSTGRES_URL="$PG/$db" \
  java -Xmx512m -Dscangate.http.log.level=WARN -jar target/scangate.jar start-dev --config bench/qr/bench.yaml --port 0 \
  >"$dir/out" 2>"$dir/err" &
gpid=$!
for _ in $(seq 1 120); do grep -q 'ready on' "$dir/out" && break; sleep 1; done
base="$(grep -o 'http://[0-9.:]*' "$dir/out" | head -n 1)"
[ -n "$base" ] || { cat "$dir/err"; exit 1; }
prefix="scangate-bench:"

stats() { # calls per command, then net bytes in/out
  cli INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_\([a-z|]*\):calls=\([0-9]*\).*/\1 \2/p'
  cli INFO stats | tr -d '\r' | sed -n 's/^total_net_\(input\|output\)_bytes:\([0-9]*\)/net_\1 \2/p'
}
pgstats() {
  psql -At "$PG/$db" -c "SELECT coalesce(sum(n_tup_ins),0), coalesce(sum(n_tup_upd),0), coalesce(sum(n_tup_del),0) FROM pg_stat_user_tables" | tr '|' ' '
  psql -At "$PG/postgres" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'"
}
post() { curl -sf -X POST -H 'Content-Type: application/json' "$base$1" -d "$2"; }
login() {
  local s scene id codes scanned ticket tokens
  s=$(post /api/v1/qr/sessions '{"appId":"bench","connection":"wechat-mini-qr"}')
  id=$(jq -r .sessionId <<<"$s"); scene=$(jq -r .scene <<<"$s")
  codes=$(post /sandbox/control/miniprogram/code "{\"appId\":\"wxbenchmini000001\",\"openid\":\"o-bench-$1\",\"phone\":\"138001$(printf %05d "$1")\"}")
  scanned=$(post "/api/v1/miniprogram/qr/$scene/scan" "{\"connection\":\"wechat-mini-qr\",\"code\":\"$(jq -r .code <<<"$codes")\"}")
  post "/api/v1/miniprogram/qr/$scene/confirm" "{\"scanToken\":\"$(jq -r .scanToken <<<"$scanned")\",\"phoneCode\":\"$(jq -r .phoneCode <<<"$codes")\"}" >/dev/null
  ticket=$(curl -sf "$base/api/v1/qr/sessions/$id" | jq -r .ticket)
  tokens=$(post /api/v1/qr/exchange "{\"ticket\":\"$ticket\"}")
  curl -sf -o /dev/null -H "Authorization: Bearer $(jq -r .tokens.access_token <<<"$tokens")" "$base/auth/verify"
}
delta() { # before-file after-file seconds idle-file idle-seconds -> per-login lines
  awk -v n="$LOGINS" -v secs="$3" -v isecs="$5" '
    FILENAME==ARGV[1] {b[$1]=$2; next} FILENAME==ARGV[2] {a[$1]=$2; next} {idle[$1]=$2}
    END {for (k in a) { d = a[k]-b[k] - (k in idle ? idle[k]*secs/isecs : 0); if (d/n >= 0.05) printf "%-22s %8.2f\n", k, d/n }}' "$1" "$2" "$4" | sort
}

login 0 # warm-up: JIT, WeChat access token, pools
sleep 2
# Idle: what the gateway sends with nobody logging in (the sweep, once a second).
cli CONFIG RESETSTAT >/dev/null; stats >"$dir/idle0"; t0=$(date +%s.%N); sleep 10
stats >"$dir/idle1"; t1=$(date +%s.%N)
awk 'FILENAME==ARGV[1] {b[$1]=$2; next} {print $1, $2-b[$1]}' "$dir/idle0" "$dir/idle1" >"$dir/idle"
isecs=$(echo "$t1 - $t0" | bc)

# A subscriber of our own counts the pub/sub messages and their size.
redis-cli -p "$rport" SUBSCRIBE "${prefix}channel:qr" >"$dir/messages" &
spid=$!
sleep 0.5
pgstats >"$dir/pg0"
stats >"$dir/before"; t0=$(date +%s.%N)
for i in $(seq 1 "$LOGINS"); do login "$i"; done
stats >"$dir/after"; t1=$(date +%s.%N)
secs=$(echo "$t1 - $t0" | bc)
sleep 2 # PostgreSQL publishes table statistics within a second or so
pgstats >"$dir/pg1"
kill "$spid"; wait "$spid" 2>/dev/null || true; spid=

echo "== $LOGINS logins in $secs s; per login, idle traffic ($isecs s measured) subtracted =="
echo "-- Redis commands (calls per login, scripts' inner calls included) and bytes --"
delta "$dir/before" "$dir/after" "$secs" "$dir/idle" "$isecs"
echo "-- pub/sub messages on the QR channel --"
# redis-cli prints each message as three lines: "message", channel, payload.
awk -v n="$LOGINS" '$0=="message"{getline; getline; m++; bytes+=length($0)} END {printf "messages per login %.2f, mean payload %d bytes\n", m/n, bytes/m}' "$dir/messages"
echo "-- PostgreSQL per login (all tables) --"
paste -d' ' <(head -1 "$dir/pg0") <(head -1 "$dir/pg1") | awk -v n="$LOGINS" '{printf "rows inserted %.2f, updated %.2f, deleted %.2f\n", ($4-$1)/n, ($5-$2)/n, ($6-$3)/n}'
echo "commits per login $(echo "scale=2; ($(tail -1 "$dir/pg1") - $(tail -1 "$dir/pg0")) / $LOGINS" | bc) (includes the gateway's idle queries)"

echo "-- memory per live (PENDING) session --"
used0=$(cli INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)/\1/p')
for i in $(seq 1 "$SESSIONS"); do
  curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' "$base/api/v1/qr/sessions" \
    -d '{"appId":"bench","connection":"wechat-mini-qr"}'
done | sort | uniq -c >"$dir/created"
made=$(awk '$2=="201"{print $1}' "$dir/created")
used1=$(cli INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)/\1/p')
echo "used_memory delta per session: $(( (used1 - used0) / made )) bytes ($made sessions created; answers: $(tr '\n' ' ' <"$dir/created"))"
key=$(cli --scan --pattern "${prefix}{*}:qr:session:*" | head -1 || true)
scene=$(cli --scan --pattern "${prefix}{*}:qr:scene:*" | head -1 || true)
echo "MEMORY USAGE session hash $(cli MEMORY USAGE "$key"), scene key $(cli MEMORY USAGE "$scene") bytes"
