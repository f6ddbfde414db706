#!/usr/bin/env bash
# Runs the issue-8 benchmarks against a real server process and writes bench/results.md.
#
# Usage: bench/run.sh [step ...]
#   steps: connections fanout20 fanoutmax fanoutmax1 fanoutmax16 fanout10k fanout10k1 api api64 php
#          php_unix churn storm floor profile (the default: all of these; fanoutmax1/fanoutmax16/fanout10k1
#          are max rate with 1 or 16 events in flight instead of 4; api64 publishes over 64 connections
#          instead of 4; php_unix is php over the server's api_socket instead of TCP),
#          and soak (30 minutes, so only when named: bench/run.sh soak)
#   api8 and api_original (only when named): signed publishes over 8 keep-alive connections to
#          webman-push, and the same push-bench run against the original webman/push server (PHP,
#          Workerman) started from local checkouts: ORIGINAL_PUSH=/path/to/webman-push-checkout
#          ORIGINAL_WORKERMAN=/path/to/workerman-checkout bench/run.sh api8 api_original
#   api8_floor, php_floor, php_unix_floor (only when named): api8, php and php_unix against
#          `push-bench floor-server` instead of webman-push: a one-thread answerer that does no work
#          (the kernel's and the clients' share alone; php_* with it polling without sleeping)
# Each step starts a fresh server (php/bin/webman-push-server bench/app.php, fixed ports), runs
# target/release/push-bench against it, stops it, and saves the output in bench/results/<step>.txt;
# bench/results.md is then regenerated from every bench/results/*.txt (bench/summarize.php).
#
# Environment:
#   BENCH_QUICK=1        small sizes and short durations (a smoke test, not a measurement)
#   BENCH_WAIT_LOAD=0.5  before each step, wait until the 1-minute load average is below this
#   BENCH_WAIT_MAX=600   ... but at most this many seconds (then run anyway and record the load)
#   BENCH_WS_PORT=39131 BENCH_API_PORT=39232 BENCH_SERVER_THREADS=2
#   BENCH_API_SOCKET=/tmp/webman-push-bench.sock  the server's api_socket (the php_unix step)
#   BENCH_SKIP_BUILD=1   use the binaries already in target/release
#   BENCH_SOAK_SECONDS=1800 BENCH_SOAK_RATE=1000   the soak step's length and cycles per second
#   ORIGINAL_PUSH, ORIGINAL_WORKERMAN  checkouts (each with its src/) of webman/push and
#                        workerman/workerman for api_original; never copied into this repository
set -euo pipefail

root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$root"
export BENCH_WS_PORT=${BENCH_WS_PORT:-39131}
export BENCH_API_PORT=${BENCH_API_PORT:-39232}
export BENCH_SERVER_THREADS=${BENCH_SERVER_THREADS:-2}
export BENCH_API_SOCKET=${BENCH_API_SOCKET:-/tmp/webman-push-bench.sock}
quick=${BENCH_QUICK:-0}
wait_load=${BENCH_WAIT_LOAD:-0.5}
wait_max=${BENCH_WAIT_MAX:-600}
results=bench/results
mkdir -p "$results"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

all_steps=(connections fanout20 fanoutmax fanoutmax1 fanoutmax16 fanout10k fanout10k1 api api64 php php_unix churn storm floor profile)
named_steps="api8 api_original api8_floor php_floor php_unix_floor"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=("${all_steps[@]}")
for s in "${steps[@]}"; do
    case " ${all_steps[*]} soak $named_steps " in *" $s "*) ;; *) die "unknown step $s (steps: ${all_steps[*]} soak $named_steps)" ;; esac
done

# --- build: the bench program and the extension (webman-push-build installs missing packages) ---
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    say "building push-bench and the extension"
    cargo build --release --bin push-bench >&2
    so=$(php/bin/webman-push-build)
else
    so=$(readlink -f target/release/libwebman_push.so)
fi
[ -x target/release/push-bench ] && [ -f "$so" ] || die "missing target/release/push-bench or $so"
# Private copies: a build started elsewhere while the steps run must not swap the binaries between steps.
snap=$(mktemp -d /tmp/webman-push-bench.XXXXXX)
cp target/release/push-bench "$snap/push-bench"
cp "$so" "$snap/libwebman_push.so"
bench_bin=$snap/push-bench
so=$snap/libwebman_push.so

# Connection scale is capped by the open-file limit (20,000 on the reference machine).
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard"
if [ "$hard" -ge 20000 ]; then conn_n=19000; else conn_n=$((hard - 1000)); fi

# --- machine description (for results.md) ---
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc: $(nproc)"
    echo "cpu: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
    echo "kernel: $(uname -sr)"
    echo "memory: $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
    echo "open files (hard): $hard"
    echo "php: $(php -r 'echo PHP_VERSION;')"
    echo "rustc: $(rustc --version)"
} >"$results/machine.txt"
# The code measured: recorded in every step's output (a step run later may measure newer code).
commit="$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo ' with uncommitted changes under src/')"

# --- the server ---
server_pid=
stop_server() {
    [ -n "$server_pid" ] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$server_pid" 2>/dev/null && kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}
# The storm step's server restarts mid-step: bench/restart-server.sh writes the new pid here
# (outside $snap, whose path the recorded command lines show as target/release).
restarted=/tmp/webman-push-bench-restarted.$$.pid
stop_restarted() {
    [ -s "$restarted" ] || return 0
    stop_server
    server_pid=$(cat "$restarted")
    rm -f "$restarted"
    stop_server 2>/dev/null
}
trap 'stop_server; stop_restarted; rm -rf "$snap" "$restarted"' EXIT

# With floor=epoll or floor=spin set, the "server" is push-bench's do-nothing HTTP answerer on the
# same API address and socket (the *_floor steps), sleeping in epoll or polling without sleep.
start_server() {
    local log=$results/server.log ready='webman-push: listening'
    : >"$log"
    if [ -n "${floor:-}" ]; then
        local spin=0
        [ "$floor" = spin ] && spin=1
        "$bench_bin" floor-server --api "127.0.0.1:$BENCH_API_PORT" --unix "$BENCH_API_SOCKET" --spin "$spin" >>"$log" 2>&1 &
        ready='floor-server: pid'
    else
        php -d "extension=$so" php/bin/webman-push-server bench/app.php 2>>"$log" &
    fi
    server_pid=$!
    for _ in $(seq 100); do
        grep -q "$ready" "$log" && return 0
        kill -0 "$server_pid" 2>/dev/null || die "the server exited: $(cat "$log")"
        sleep 0.1
    done
    die "the server did not start in 10 s: $(cat "$log")"
}

wait_for_quiet() {
    local waited=0 load
    while :; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        awk -v l="$load" -v w="$wait_load" 'BEGIN { exit !(l < w) }' && return 0
        [ "$waited" -ge "$wait_max" ] && { say "load still $load after ${waited}s; running anyway"; return 0; }
        [ $((waited % 60)) -eq 0 ] && say "load $load >= $wait_load; waiting (at most ${wait_max}s)"
        sleep 5
        waited=$((waited + 5))
    done
}

bench_cmd() {
    # The common arguments; the server pid is filled in when the step runs.
    echo "$bench_bin $1 --ws 127.0.0.1:$BENCH_WS_PORT --api 127.0.0.1:$BENCH_API_PORT --key bench-key --secret bench-secret --app-id 1024 --server-pid \$SERVER_PID --sources 127.0.0.2-127.0.0.9"
}

# run_step NAME SCENARIO ARGS... : fresh server, one push-bench run, output in $results/NAME.txt
run_step() {
    local name=$1 scenario=$2; shift 2
    wait_for_quiet
    start_server
    local out=$results/$name.txt cmd
    cmd="$(bench_cmd "$scenario") $*"
    say "$name: ${cmd//\$SERVER_PID/$server_pid}"
    {
        echo "# step: $name"
        echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        echo "# uptime: $(uptime)"
        echo "# command: ${cmd//$snap\//target/release/}"
        if [ -n "${floor:-}" ]; then
            echo "# server: target/release/push-bench floor-server --spin $([ "$floor" = spin ] && echo 1 || echo 0) (pid $server_pid): answers every request with 200 {}, no checks"
        else
            echo "# server: php -d extension=target/release/libwebman_push.so php/bin/webman-push-server bench/app.php (pid $server_pid, threads $BENCH_SERVER_THREADS)"
        fi
        echo "# commit: $commit"
    } >"$out"
    local rc=0
    SERVER_PID=$server_pid timeout "${step_timeout:-1800}" bash -c "${cmd//\$SERVER_PID/$server_pid}" >>"$out" 2>&1 || rc=$?
    echo "# uptime after: $(uptime)" >>"$out"
    [ $rc -eq 0 ] || say "$name: push-bench exited with $rc (see $out)"
    stop_server
    stop_restarted
    grep -v '^{' "$out" | sed -n '/^push-bench/,$p' >&2 || true
}

# profile_one LABEL SCENARIO BENCH-ARGS... : fresh server, perf samples it while push-bench runs.
profile_one() {
    local label=$1 scenario=$2; shift 2
    local out=$results/profile.txt data=$results/perf.data rep=$results/perf.report secs=$d_prof cmd
    wait_for_quiet
    start_server
    cmd="$(bench_cmd "$scenario") $* --duration $secs"
    {
        echo
        echo "### $label"
        echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(uptime | sed 's/.*load/load/')"
        echo "# perf record -e cpu-clock -F 499 --call-graph dwarf -p <server pid>, while:"
        echo "# ${cmd//$snap\//target/release/}"
    } >>"$out"
    # A software clock: works where hardware counters are not exposed (VMs). DWARF unwinding, since
    # release builds keep no frame pointers (unwind tables are enough).
    perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$server_pid" -o "$data" -- sleep $((secs + 3)) 2>/dev/null &
    local perf_pid=$!
    sleep 1
    timeout 600 bash -c "${cmd//\$SERVER_PID/$server_pid}" 2>&1 | grep -v '^{' | sed 's/^/# /' >>"$out" || true
    wait "$perf_pid" || true
    stop_server
    echo "#### where the samples are (self time, by shared object)" >>"$out"
    perf report -i "$data" --stdio --no-children --sort dso -g none >"$rep" 2>/dev/null || true
    grep -v -e '^#' -e '^$' "$rep" | sed -n 1,8p >>"$out" || true
    echo "#### self time, top 40 symbols" >>"$out"
    perf report -i "$data" --stdio --no-children --sort dso,sym -g none >"$rep" 2>/dev/null || true
    grep -v -e '^#' -e '^$' "$rep" | sed -n 1,40p >>"$out" || true
    echo "#### inclusive time (children), top 70 symbols" >>"$out"
    perf report -i "$data" --stdio --children --sort sym -g none >"$rep" 2>/dev/null || true
    grep -v -e '^#' -e '^$' "$rep" | sed -n 1,70p >>"$out" || true
    rm -f "$data" "$data.old" "$rep"
}

# Fallback without perf: the server under callgrind (about 50x slower, so a small, slow run).
profile_callgrind() {
    local out=$results/profile.txt log=$results/server.log cg=$results/callgrind.out cmd
    command -v valgrind >/dev/null 2>&1 || { echo "# neither perf nor valgrind is available" >>"$out"; return 0; }
    : >"$log"
    valgrind --tool=callgrind --callgrind-out-file="$cg" php -d "extension=$so" php/bin/webman-push-server bench/app.php 2>>"$log" &
    server_pid=$!
    for _ in $(seq 600); do grep -q 'webman-push: listening' "$log" && break; sleep 0.1; done
    cmd="$(bench_cmd fanout) --subscribers 200 --rate 20 --duration 10"
    echo "# valgrind --tool=callgrind on the server, while: ${cmd//$snap\//target/release/}" >>"$out"
    timeout 600 bash -c "${cmd//\$SERVER_PID/$server_pid}" 2>&1 | grep -v '^{' | sed 's/^/# /' >>"$out" || true
    stop_server
    callgrind_annotate "$cg" 2>/dev/null | sed -n 1,60p >>"$out" || true
    rm -f "$cg"
}

# The kernel's cost of one loopback send, without any server (bench/send_floor.py).
floor_step() {
    local out=$results/floor.txt
    wait_for_quiet
    {
        echo "# step: floor"
        echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        echo "# uptime: $(uptime)"
        echo "# command: python3 bench/send_floor.py --gap-ms 10; python3 bench/send_floor.py --gap-ms 0"
    } >"$out"
    timeout 300 python3 bench/send_floor.py --gap-ms 10 >>"$out" 2>&1 || true
    timeout 300 python3 bench/send_floor.py --gap-ms 0 >>"$out" 2>&1 || true
    echo "# uptime after: $(uptime)" >>"$out"
    sed -n '/^1000/p' "$out" >&2
}

profile_step() {
    local out=$results/profile.txt
    if ! command -v perf >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq linux-perf >&2 || true
    fi
    { echo "# step: profile"; echo "# commit: $commit"; } >"$out"
    if command -v perf >/dev/null 2>&1 && perf record -e cpu-clock -o /dev/null -- true >/dev/null 2>&1; then
        profile_one "fan-out, 1,000 subscribers, max rate" fanout --subscribers 1000 --rate max
        profile_one "fan-out, 1,000 subscribers, 20 events/s" fanout --subscribers 1000 --rate 20
        profile_one "HTTP API ingestion, 4 keep-alive connections" api --publishers 4
    else
        profile_callgrind
    fi
}

# The original webman/push Server under Workerman, as webman's process.php starts it (one
# process), from the checkouts in ORIGINAL_PUSH / ORIGINAL_WORKERMAN; the bootstrap is written to
# a tmp dir at run time. Same push-bench api run as the api8 step; the server CPU is the worker's.
original_step() {
    local push=${ORIGINAL_PUSH:-} wm=${ORIGINAL_WORKERMAN:-}
    [ -f "$push/src/Server.php" ] || die "api_original: set ORIGINAL_PUSH to a checkout of webman/push (with src/Server.php)"
    [ -f "$wm/src/Worker.php" ] || die "api_original: set ORIGINAL_WORKERMAN to a checkout of workerman/workerman (with src/Worker.php)"
    local dir out=$results/api_original.txt log ws api master pid="" cmd rc=0
    dir=$(mktemp -d /tmp/webman-push-original.XXXXXX)
    log=$dir/server.log
    cat >"$dir/boot.php" <<'PHP'
<?php
// Written by webman-push's bench/run.sh (api_original): the original webman/push Server under
// Workerman, bound the way webman binds a process handler, from the checkouts given at run time.
namespace Workerman\Coroutine {
    // workerman/coroutine is a separate package; without coroutines Worker only calls this.
    if (!class_exists(Context::class, false)) {
        class Context { public static function destroy(): void {} }
    }
}
namespace {
    spl_autoload_register(function (string $class): void {
        $roots = ['Webman\\Push\\' => getenv('ORIG_PUSH') . '/src/', 'Workerman\\' => getenv('ORIG_WM') . '/src/'];
        foreach ($roots as $prefix => $base) {
            if (str_starts_with($class, $prefix)) {
                $file = $base . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                }
                return;
            }
        }
    });
    $dir = getenv('ORIG_DIR');
    \Workerman\Worker::$pidFile = "$dir/workerman.pid";
    \Workerman\Worker::$logFile = "$dir/workerman.log";
    \Workerman\Worker::$statusFile = "$dir/workerman.status";
    $server = new \Webman\Push\Server('http://127.0.0.1:' . getenv('ORIG_API_PORT'), [
        'bench-key' => ['channel_hook' => '', 'app_secret' => 'bench-secret'],
    ]);
    $worker = new \Workerman\Worker('websocket://127.0.0.1:' . getenv('ORIG_WS_PORT'));
    $worker->name = 'webman-push-original';
    $worker->count = 1;
    foreach (['onConnect', 'onMessage', 'onClose', 'onWebSocketConnect', 'onWorkerStop'] as $cb) {
        if (method_exists($server, $cb)) {
            $worker->$cb = [$server, $cb];
        }
    }
    $worker->onWorkerStart = function ($w) use ($server, $dir) {
        $server->onWorkerStart($w);
        file_put_contents("$dir/worker.pid", getmypid());
    };
    \Workerman\Worker::runAll();
}
PHP
    free_port() { php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);'; }
    ws=$(free_port); api=$(free_port)
    wait_for_quiet
    ORIG_PUSH=$push ORIG_WM=$wm ORIG_DIR=$dir ORIG_WS_PORT=$ws ORIG_API_PORT=$api php "$dir/boot.php" start >"$log" 2>&1 &
    master=$!
    for _ in $(seq 100); do
        [ -s "$dir/worker.pid" ] && { pid=$(cat "$dir/worker.pid"); break; }
        kill -0 "$master" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$pid" ]; then
        kill -TERM "$master" 2>/dev/null || true; wait "$master" 2>/dev/null || true
        die "the original server did not start: $(cat "$log")"
    fi
    cmd="$bench_bin api --ws 127.0.0.1:$ws --api 127.0.0.1:$api --key bench-key --secret bench-secret --app-id 1024 --server-pid $pid --sources 127.0.0.2-127.0.0.9 --publishers 8 --duration $d_api"
    say "api_original: $cmd"
    {
        echo "# step: api_original"
        echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        echo "# uptime: $(uptime)"
        echo "# command: ${cmd//$snap\//target/release/}"
        echo "# server: the original webman/push Server (Workerman, 1 worker process, pid $pid) from $push ($(git -C "$push" rev-parse --short HEAD 2>/dev/null || echo '?')) and $wm ($(git -C "$wm" rev-parse --short HEAD 2>/dev/null || echo '?')), php $(php -r 'echo PHP_VERSION;')"
    } >"$out"
    # Workerman's master only watches its worker; its CPU is recorded to show it is not left out.
    ticks_of() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
    local master_ticks
    master_ticks=$(ticks_of "$master")
    timeout 600 bash -c "$cmd" >>"$out" 2>&1 || rc=$?
    echo "# master cpu: $(( $(ticks_of "$master") - master_ticks )) ticks of $(getconf CLK_TCK)/s during the run (not counted; the worker, pid $pid, serves the API)" >>"$out"
    echo "# uptime after: $(uptime)" >>"$out"
    [ $rc -eq 0 ] || say "api_original: push-bench exited with $rc (see $out)"
    kill -TERM "$master" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$master" "$pid" 2>/dev/null || true
    wait "$master" 2>/dev/null || true
    rm -rf "$dir"
    grep -v '^{' "$out" | sed -n '/^push-bench/,$p' >&2 || true
}

if [ "$quick" = 1 ]; then
    conn_n=2000; hold=3; d_fixed=5; d_max=3; d_prof=3; subs10k=2000; churn_n=2000; churn_r=3; calls=5000; d_api=3
    soak_s=${BENCH_SOAK_SECONDS:-60}
else
    hold=30; d_fixed=30; d_max=10; d_prof=10; subs10k=10000; churn_n=10000; churn_r=10; calls=20000; d_api=10
    soak_s=${BENCH_SOAK_SECONDS:-1800}
fi
soak_rate=${BENCH_SOAK_RATE:-1000}

for s in "${steps[@]}"; do
    case "$s" in
        connections) run_step connections connections --connections "$conn_n" --duration "$hold" ;;
        fanout20)    run_step fanout20 fanout --subscribers 1000 --rate 20 --duration "$d_fixed" ;;
        fanoutmax)   run_step fanoutmax fanout --subscribers 1000 --rate max --window 4 --duration "$d_max" ;;
        fanoutmax1)  run_step fanoutmax1 fanout --subscribers 1000 --rate max --window 1 --duration "$d_max" ;;
        fanoutmax16) run_step fanoutmax16 fanout --subscribers 1000 --rate max --window 16 --duration "$d_max" ;;
        fanout10k)   run_step fanout10k fanout --subscribers "$subs10k" --rate max --window 4 --duration "$d_max" ;;
        fanout10k1)  run_step fanout10k1 fanout --subscribers "$subs10k" --rate max --window 1 --duration "$d_max" ;;
        api)         run_step api api --publishers 4 --duration "$d_api" ;;
        api64)       run_step api64 api --publishers 64 --duration "$d_api" ;;
        api8)        run_step api8 api --publishers 8 --duration "$d_api" ;;
        api_original) original_step ;;
        api8_floor)  floor=epoll run_step api8_floor api --publishers 8 --duration "$d_api" ;;
        php_floor)   floor=spin run_step php_floor php --calls "$calls" --php php --php-ext "$so" --php-script bench/api_trigger.php ;;
        php_unix_floor) floor=spin run_step php_unix_floor php --calls "$calls" --php php --php-ext "$so" --php-script bench/api_trigger.php --unix "$BENCH_API_SOCKET" ;;
        php)         run_step php php --calls "$calls" --php php --php-ext "$so" --php-script bench/api_trigger.php ;;
        php_unix)    run_step php_unix php --calls "$calls" --php php --php-ext "$so" --php-script bench/api_trigger.php --unix "$BENCH_API_SOCKET" ;;
        churn)       run_step churn churn --rounds "$churn_r" --connections "$churn_n" ;;
        storm)       run_step storm storm --connections "$conn_n" \
                         --restart-cmd "'bench/restart-server.sh $so $results/server.log $restarted'" ;;
        soak)        step_timeout=$((soak_s + 300)) run_step soak soak --duration "$soak_s" --rate "$soak_rate" ;;
        floor)       floor_step ;;
        profile)     profile_step ;;
    esac
done

php bench/summarize.php "$results" >bench/results.md
say "wrote bench/results.md"
