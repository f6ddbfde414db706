#!/usr/bin/env bash
# Restarts the bench server for `push-bench storm --restart-cmd`: stops the server $SERVER_PID
# (SIGTERM: it closes every connection with 4200 "reconnect now"), starts a fresh one with the same
# configuration (bench/app.php, BENCH_* environment) and prints its pid once it listens.
#
# Usage: SERVER_PID=PID bench/restart-server.sh EXTENSION.so LOG [PIDFILE]
#   LOG      the new server's stderr is appended here
#   PIDFILE  also gets the new pid (bench/run.sh stops the server it names)
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)
so=${1:?extension .so}
log=${2:?log file}
pidfile=${3:-}
old=${SERVER_PID:?SERVER_PID}

# Gone or a zombie (the old server is bench/run.sh's child, reaped only after the step): stopped.
running() { [ -e "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]; }

kill -TERM "$old" 2>/dev/null || true
for _ in $(seq 200); do running "$old" || break; sleep 0.05; done
if running "$old"; then
    kill -KILL "$old" 2>/dev/null || true
    for _ in $(seq 100); do running "$old" || break; sleep 0.05; done
fi

mark=$(wc -l <"$log" 2>/dev/null || echo 0)
php -d "extension=$so" "$root/php/bin/webman-push-server" "$root/bench/app.php" </dev/null >/dev/null 2>>"$log" &
new=$!
[ -z "$pidfile" ] || echo "$new" >"$pidfile"
for _ in $(seq 400); do
    tail -n +"$((mark + 1))" "$log" | grep -q 'webman-push: listening' && { echo "$new"; exit 0; }
    running "$new" || { echo "restart-server: the new server exited: $(tail -n +"$((mark + 1))" "$log")" >&2; exit 1; }
    sleep 0.025
done
echo "restart-server: the new server did not listen within 10 s" >&2
exit 1
