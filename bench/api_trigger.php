<?php
// Api::trigger calls per second from one PHP process (issue 8, scenario 4).
// Usage: php -d extension=target/release/libwebman_push.so bench/api_trigger.php \
//            http://127.0.0.1:39232 KEY SECRET [CALLS]      (or unix:///path/to/api_socket)
// Publishes CALLS small events to a channel nobody subscribes to, one at a time, as an app would;
// prints one JSON line: calls, ok (returned true), seconds, calls_per_sec, php_cpu_seconds.

if (!extension_loaded('webman_push')) {
    fwrite(STDERR, "api_trigger.php: load the extension: php -d extension=/path/to/libwebman_push.so\n");
    exit(1);
}
if ($argc < 4) {
    fwrite(STDERR, "usage: api_trigger.php API_URL KEY SECRET [CALLS]\n");
    exit(2);
}
[, $url, $key, $secret] = $argv;
$calls = max(1, (int)($argv[4] ?? 20000));

$api = new Webman\Push\Api($url, $key, $secret);
$data = ['message' => 'hello', 'n' => 1];

// Warm up: the first call opens the keep-alive connection.
for ($i = 0; $i < 200; $i++) {
    $api->trigger('bench-php-empty', 'bench', $data);
}

$cpu = static function (): float {
    $u = getrusage();
    return $u['ru_utime.tv_sec'] + $u['ru_utime.tv_usec'] / 1e6 + $u['ru_stime.tv_sec'] + $u['ru_stime.tv_usec'] / 1e6;
};
$ok = 0;
$cpu0 = $cpu();
$t0 = hrtime(true);
for ($i = 0; $i < $calls; $i++) {
    if ($api->trigger('bench-php-empty', 'bench', $data)) {
        $ok++;
    }
}
$seconds = (hrtime(true) - $t0) / 1e9;
$phpCpu = $cpu() - $cpu0;

echo json_encode([
    'calls' => $calls,
    'ok' => $ok,
    'seconds' => round($seconds, 4),
    'calls_per_sec' => round($calls / $seconds),
    'php_cpu_seconds' => round($phpCpu, 3),
]), "\n";
exit($ok === $calls ? 0 : 3);
