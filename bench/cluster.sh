#!/usr/bin/env bash
# Scale-out benchmark (issue 9): what Redis adds between two nodes.
#
# Starts its own redis-server and two server nodes (A and B) sharing it, then runs push-bench's fan-out
# scenario twice with the same load: subscribers and publishes on node A (same node), and subscribers on
# node B with publishes through node A's HTTP API (every event crosses Redis). The difference in
# publish->delivery latency is what the Redis hop costs; deliveries per server-CPU-second are the
# delivering node's. Writes bench/cluster-results.md. Needs redis-server (Debian's package).
#
# BENCH_REDIS_MODE picks the Redis setup (each started here on loopback, keys generated in a temporary
# directory): plain (default; one redis-server), tls (rediss:// with a generated CA), sentinel (a master
# found through one sentinel) or cluster (a 3-master Redis Cluster, sharded pub/sub). Modes other than
# plain write bench/cluster-results-<mode>.md.
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$root"
ext=$(php/bin/webman-push-build 2>/dev/null | tail -n 1)
[ -f "$ext" ] || { echo "bench/cluster.sh: the extension did not build" >&2; exit 1; }
cargo build --release --bin push-bench >/dev/null 2>&1
work=$(mktemp -d)
cp "$ext" "$work/ext.so"
cp target/release/push-bench "$work/push-bench"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf -- "$work"; }
trap cleanup EXIT

mode=${BENCH_REDIS_MODE:-plain}
redis_port=${BENCH_REDIS_PORT:-39379}
redis_up() { # port [redis-cli args]
    local port=$1; shift
    for _ in $(seq 50); do redis-cli -p "$port" "$@" ping >/dev/null 2>&1 && return; sleep 0.1; done
    echo "bench/cluster.sh: redis on port $port did not start" >&2; exit 1
}
redis() { redis-server "$@" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >/dev/null & pids+=($!); }
case "$mode" in
plain)
    redis --port "$redis_port"
    redis_up "$redis_port"
    redis_config="'redis' => 'redis://127.0.0.1:$redis_port'"
    ;;
tls)
    (cd "$work" && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=bench-ca \
        && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 \
        && echo 'subjectAltName=IP:127.0.0.1' > ext.cnf \
        && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 \
            -extfile ext.cnf) >/dev/null 2>&1
    redis --port 0 --tls-port "$redis_port" --tls-cert-file "$work/server.pem" --tls-key-file "$work/server.key" \
        --tls-ca-cert-file "$work/ca.pem" --tls-auth-clients no
    redis_up "$redis_port" --tls --cacert "$work/ca.pem"
    redis_config="'redis' => 'rediss://127.0.0.1:$redis_port', 'redis_tls_ca' => '$work/ca.pem'"
    ;;
sentinel)
    redis --port "$redis_port"
    redis_up "$redis_port"
    sentinel_port=$((redis_port + 1))
    printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor benchmaster 127.0.0.1 %s 1\n' \
        "$sentinel_port" "$work" "$redis_port" > "$work/sentinel.conf"
    redis-server "$work/sentinel.conf" --sentinel >/dev/null & pids+=($!)
    redis_up "$sentinel_port"
    redis_config="'redis_sentinels' => ['redis://127.0.0.1:$sentinel_port'], 'redis_master' => 'benchmaster'"
    ;;
cluster)
    seeds=()
    for i in 0 1 2; do
        port=$((redis_port + i))
        redis --port "$port" --cluster-enabled yes --cluster-config-file "$work/nodes-$port.conf" \
            --cluster-port $((redis_port + 10 + i))
        redis_up "$port"
        seeds+=("127.0.0.1:$port")
    done
    redis-cli --cluster create "${seeds[@]}" --cluster-yes >/dev/null
    for _ in $(seq 100); do redis-cli -p "$redis_port" cluster info | grep -q cluster_state:ok && break; sleep 0.1; done
    redis_config="'redis_cluster' => ['redis://${seeds[0]}', 'redis://${seeds[1]}', 'redis://${seeds[2]}']"
    ;;
*) echo "bench/cluster.sh: BENCH_REDIS_MODE must be plain, tls, sentinel or cluster" >&2; exit 2 ;;
esac
results=bench/cluster-results.md
[ "$mode" = plain ] || results=bench/cluster-results-$mode.md

node() { # name ws api
    cat > "$work/$1.php" <<PHP
<?php return ['websocket' => 'websocket://127.0.0.1:$2', 'api' => 'http://127.0.0.1:$3',
  'app_key' => 'bench-key', 'app_secret' => 'bench-secret', $redis_config,
  'redis_prefix' => 'bench-cluster'];
PHP
    php -d extension="$work/ext.so" php/bin/webman-push-server "$work/$1.php" >/dev/null 2>>"$work/$1.log" &
    pids+=($!)
}
node a 39141 39242
a=${pids[-1]}
node b 39151 39252
b=${pids[-1]}
sleep 1
ulimit -n 20000 || true

run() { # title ws api pid rate
    echo "### $1"
    echo
    echo '```'
    echo "push-bench fanout --ws $2 --api $3 --server-pid <$4> --subscribers ${SUBS:-1000} --rate $5 --duration ${DURATION:-8}"
    "$work/push-bench" fanout --ws "$2" --api "$3" --key bench-key --secret bench-secret --app-id 1024 \
        --server-pid "$4" --sources 127.0.0.2-127.0.0.9 --subscribers "${SUBS:-1000}" --rate "$5" \
        --duration "${DURATION:-8}" 2>&1 | grep -v '^{'
    echo '```'
    echo
}
{
    echo "# Scale-out benchmark (issue 9), Redis mode: $mode"
    echo
    echo "Generated by \`bench/cluster.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $(uptime | sed 's/.*load/load/')."
    echo "Two nodes share Redis ($mode) on loopback; the client shares the cores with both nodes and Redis."
    echo
    run "same node: subscribers and publishes on node A, 20 events/s" 127.0.0.1:39141 127.0.0.1:39242 "$a" 20
    run "cross node: subscribers on node B, publishes to node A, 20 events/s" 127.0.0.1:39151 127.0.0.1:39242 "$b" 20
    run "same node, maximum rate" 127.0.0.1:39141 127.0.0.1:39242 "$a" max
    run "cross node, maximum rate (server CPU is node B's)" 127.0.0.1:39151 127.0.0.1:39242 "$b" max
} | tee "$results"
