--TEST--
Server::run() in a child process serves until SIGTERM, then stops the server (clients get 4200) and returns so the process exits 0
--SKIPIF--
<?php
if (!function_exists('pcntl_fork')) die('skip pcntl not available');
if (!function_exists('posix_kill')) die('skip posix not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$wsPort = free_port();
$apiPort = free_port();
$server = new Webman\Push\Server(test_config([
    'websocket' => "websocket://127.0.0.1:$wsPort",
    'api' => "http://127.0.0.1:$apiPort",
]));
$pid = pcntl_fork();
if ($pid === 0) {
    try {
        $server->run();
        exit($server->isRunning() ? 3 : 0);
    } catch (Throwable $e) {
        fwrite(STDERR, 'child error: ' . $e->getMessage() . "\n");
        exit(2);
    }
}
// Wait (bounded) until the child has bound the port.
$deadline = microtime(true) + 10;
while (!port_accepts($wsPort) && microtime(true) < $deadline) {
    usleep(20000);
}
$ws = connect_client($wsPort);
subscribe($ws, 'user-1');
$api = new Webman\Push\Api("http://127.0.0.1:$apiPort", TEST_APP_KEY, TEST_APP_SECRET);
var_dump($api->trigger('user-1', 'message', 'running'));
echo $ws->readMessage(), "\n";

posix_kill($pid, SIGTERM);
var_dump($ws->readClose());
echo wait_child($pid, 10), "\n";
var_dump(port_accepts($wsPort), port_accepts($apiPort));
?>
--EXPECT--
bool(true)
{"event":"message","data":"\"running\"","channel":"user-1"}
int(4200)
exit 0
bool(false)
bool(false)
