<?php
// The server configuration the benchmarks run against (bench/run.sh starts it with
// php/bin/webman-push-server). Fixed ports so the bench command lines are reproducible;
// override with BENCH_WS_PORT / BENCH_API_PORT.
return [
    'websocket'  => 'websocket://127.0.0.1:' . (getenv('BENCH_WS_PORT') ?: '39131'),
    'api'        => 'http://127.0.0.1:' . (getenv('BENCH_API_PORT') ?: '39232'),
    'app_key'    => 'bench-key',
    'app_secret' => 'bench-secret',
    'app_id'     => '1024',
    'threads'    => (int)(getenv('BENCH_SERVER_THREADS') ?: 2),
    // The HTTP API on a Unix socket too, for the php_unix step; '' (BENCH_API_SOCKET=) = none.
    'api_socket' => getenv('BENCH_API_SOCKET') !== false ? getenv('BENCH_API_SOCKET') : '/tmp/webman-push-bench.sock',
];
