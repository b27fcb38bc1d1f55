#!/usr/bin/env bash
# A confirm's Redis work with and without WAIT 1, on a primary with one replica started here on
# free ports (loopback; stops them at the end).   bench/redis/wait.sh   # COUNT=5000 ROUNDS=4
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT="${COUNT:-5000}"
ROUNDS="${ROUNDS:-4}"
[ -f target/scangate.jar ] || mvn -q -DskipTests package
free_port() { while :; do p=$(shuf -i 20000-60000 -n 1); (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }; done; }
dir="$(mktemp -d)"
primary=$(free_port); replica=$(free_port)
redis-server --port "$primary" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" >"$dir/p.log" 2>&1 & p1=$!
redis-server --port "$replica" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --replicaof 127.0.0.1 "$primary" >"$dir/r.log" 2>&1 & p2=$!
trap 'kill $p1 $p2 2>/dev/null || true; wait $p1 $p2 2>/dev/null || true; rm -rf "$dir"' EXIT
until redis-cli -p "$replica" ROLE 2>/dev/null | grep -q connected; do sleep 0.2; done
java -Xmx256m -cp target/scangate.jar bench/redis/WaitBench.java "redis://127.0.0.1:$primary" "$COUNT" "$ROUNDS"
