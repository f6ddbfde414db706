--TEST--
php/bin/webman-push-server prints its listening line, serves, and stops on SIGTERM within 2 s with exit status 0
--SKIPIF--
<?php
if (!function_exists('proc_open')) die('skip proc_open not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$dir = sys_get_temp_dir() . '/webman-push-launcher-' . getmypid();
@mkdir($dir);
$config = "$dir/app.php";
file_put_contents($config, '<?php return ' . var_export(test_config(), true) . ';');

$proc = proc_open(
    [PHP_BINARY, '-d', 'extension=' . extension_path(), launcher_path(), $config],
    [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
    $pipes
);
stream_set_blocking($pipes[2], false);

// Read stderr until the listening line, at most 10 s.
$err = '';
$deadline = microtime(true) + 10;
while (!preg_match('/^webman-push: listening ws=(\d+) api=(\d+) .*\n/m', $err, $m) && microtime(true) < $deadline) {
    $r = [$pipes[2]];
    $w = $e = null;
    if (stream_select($r, $w, $e, 0, 100000) > 0) {
        $chunk = fread($pipes[2], 8192);
        if ($chunk === '' || $chunk === false) {
            break;
        }
        $err .= $chunk;
    }
}
if (!$m) {
    echo "no listening line; stderr was:\n$err";
    proc_terminate($proc, SIGKILL);
    exit;
}
echo preg_replace('/(ws|api)=\d+/', '$1=N', $m[0]);
[, $wsPort, $apiPort] = $m;

// It really serves on the ports it printed.
$ws = connect_client((int)$wsPort);
subscribe($ws, 'user-1');
$api = new Webman\Push\Api("http://127.0.0.1:$apiPort", TEST_APP_KEY, TEST_APP_SECRET);
var_dump($api->trigger('user-1', 'message', 'from the launcher'));
echo $ws->readMessage(), "\n";

$t = microtime(true);
proc_terminate($proc, SIGTERM);
$exit = null;
while (microtime(true) - $t < 5) {
    $status = proc_get_status($proc);
    if (!$status['running']) {
        $exit = $status['signaled'] ? 'signal ' . $status['termsig'] : 'exit ' . $status['exitcode'];
        break;
    }
    usleep(10000);
}
$elapsed = microtime(true) - $t;
if ($exit === null) {
    proc_terminate($proc, SIGKILL);
    $exit = 'still running after 5 s';
}
echo $exit, "\n";
echo $elapsed < 2 ? "stopped within 2 s\n" : sprintf("took %.2f s\n", $elapsed);
var_dump($ws->readClose(1.0));
stream_set_blocking($pipes[2], true);
echo stream_get_contents($pipes[2]);
echo 'stdout: ', var_export(stream_get_contents($pipes[1]), true), "\n";
proc_close($proc);
unlink($config);
rmdir($dir);
?>
--EXPECT--
webman-push: listening ws=N api=N (WebSocket websocket://127.0.0.1:0, HTTP API http://127.0.0.1:0); Ctrl-C stops
bool(true)
{"event":"message","data":"\"from the launcher\"","channel":"user-1"}
exit 0
stopped within 2 s
int(4200)
webman-push: stopped
stdout: ''
