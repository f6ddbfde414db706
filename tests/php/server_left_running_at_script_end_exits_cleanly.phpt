--TEST--
A PHP script that ends while its server is still running exits with status 0 and its client gets 4200
--SKIPIF--
<?php
if (!function_exists('proc_open')) die('skip proc_open not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$script = '
$s = new Webman\Push\Server(["websocket" => "websocket://127.0.0.1:0", "api" => "http://127.0.0.1:0",
    "app_key" => "' . TEST_APP_KEY . '", "app_secret" => "' . TEST_APP_SECRET . '", "log_level" => "warn"]);
$s->start();
echo $s->websocketPort(), "\n";
fgets(STDIN); // ends when the test closes stdin, with the server still running
';
$proc = proc_open([PHP_BINARY, '-d', 'extension=' . extension_path(), '-r', $script],
    [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
stream_set_timeout($pipes[1], 10);
$port = (int)fgets($pipes[1]);
$ws = connect_client($port);
echo subscribe($ws, 'user-1'), "\n";
fclose($pipes[0]);
var_dump($ws->readClose());
$t = microtime(true);
$exit = null;
while (microtime(true) - $t < 10) {
    $status = proc_get_status($proc);
    if (!$status['running']) {
        $exit = $status['signaled'] ? 'signal ' . $status['termsig'] : 'exit ' . $status['exitcode'];
        break;
    }
    usleep(10000);
}
if ($exit === null) {
    proc_terminate($proc, SIGKILL);
    $exit = 'still running after 10 s';
}
echo $exit, "\n";
echo 'stderr: ', var_export(stream_get_contents($pipes[2]), true), "\n";
proc_close($proc);
?>
--EXPECT--
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"user-1"}
int(4200)
exit 0
stderr: ''
