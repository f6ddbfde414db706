--TEST--
A webhook received by `php -S` passes the official Pusher PHP SDK's check: getallheaders() and a case-sensitive lookup of X-Pusher-Key and X-Pusher-Signature, then the HMAC of the body
--SKIPIF--
<?php
if (!function_exists('proc_open')) die('skip proc_open not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';

$log = tempnam(sys_get_temp_dir(), 'webman-push-sdk-receiver-');
$port = free_port();
$env = getenv() + ['RECEIVER_KEY' => TEST_APP_KEY, 'RECEIVER_SECRET' => TEST_APP_SECRET, 'RECEIVER_LOG' => $log];
unset($env['PHP_CLI_SERVER_WORKERS']);
$receiver = proc_open(
    [PHP_BINARY, '-n', '-S', "127.0.0.1:$port", __DIR__ . '/lib/pusher_sdk_webhook_receiver.php'],
    [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
    $pipes, null, $env
);
register_shutdown_function(static function () use ($receiver, $log) {
    proc_terminate($receiver);
    proc_close($receiver);
    @unlink($log);
});
$deadline = microtime(true) + 10;
while (!port_accepts($port) && microtime(true) < $deadline) {
    usleep(20000);
}

$server = start_server(['channel_hook' => "http://127.0.0.1:$port/hook", 'webhook_names' => 'pusher']);
$ws = connect_client($server->websocketPort());
echo subscribe($ws, 'room-1'), "\n";
$deadline = microtime(true) + 10;
while (trim((string)file_get_contents($log)) === '' && microtime(true) < $deadline) {
    usleep(20000);
}
$line = trim((string)file_get_contents($log));
// The body's time_ms changes from run to run; the verdict and the events do not.
echo preg_replace('/"time_ms":\d+/', '"time_ms":T', $line), "\n";
$server->stop();
?>
--EXPECT--
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"room-1"}
valid {"time_ms":T,"events":[{"name":"channel_occupied","channel":"room-1"}]}
