--TEST--
A Server constructed in the parent and started in a forked child (as webman's onWorkerStart does) serves the parent and stops on SIGTERM with exit status 0
--SKIPIF--
<?php
if (!function_exists('pcntl_fork')) die('skip pcntl not available');
if (!function_exists('posix_kill')) die('skip posix not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';
// webman builds the handler object, then calls onWorkerStart in the worker process after the fork.
$server = new Webman\Push\Server(test_config());
[$toParent, $fromChild] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
$pid = pcntl_fork();
if ($pid === 0) {
    fclose($fromChild);
    // Workerman has its signal handlers in place before onWorkerStart; without that, a SIGTERM
    // sent before wait() blocks it would kill the child by the default action.
    pcntl_sigprocmask(SIG_BLOCK, [SIGTERM]);
    try {
        $server->onWorkerStart(null);
        fwrite($toParent, $server->websocketPort() . ' ' . $server->apiPort() . "\n");
        $server->wait(); // returns after SIGTERM, having stopped the server
        fwrite($toParent, 'after wait running=' . var_export($server->isRunning(), true) . "\n");
        exit(0);
    } catch (Throwable $e) {
        fwrite($toParent, 'child error: ' . $e->getMessage() . "\n");
        exit(2);
    }
}
fclose($toParent);
stream_set_timeout($fromChild, 10);
$line = fgets($fromChild);
if (!preg_match('/^(\d+) (\d+)$/', trim((string)$line), $m)) {
    echo 'child did not report ports: ', var_export($line, true), "\n";
    echo wait_child($pid, 5), "\n";
    exit;
}
[, $wsPort, $apiPort] = $m;
var_dump($server->isRunning()); // the parent never started anything

$ws = WsClient::connect((int)$wsPort, '/app/' . TEST_APP_KEY . '?protocol=7');
echo preg_replace('/\d+\.\d+/', 'N.N', $ws->readMessage()), "\n";
subscribe($ws, 'user-1');
$api = new Webman\Push\Api("http://127.0.0.1:$apiPort", TEST_APP_KEY, TEST_APP_SECRET);
var_dump($api->trigger('user-1', 'message', ['from' => 'parent']));
echo $ws->readMessage(), "\n";

posix_kill($pid, SIGTERM);
var_dump($ws->readClose());
echo trim((string)fgets($fromChild)), "\n";
echo wait_child($pid, 10), "\n";
var_dump(port_accepts((int)$wsPort));
?>
--EXPECT--
bool(false)
{"event":"pusher:connection_established","data":"{\"socket_id\":\"N.N\",\"activity_timeout\":55}"}
bool(true)
{"event":"message","data":"{\"from\":\"parent\"}","channel":"user-1"}
int(4200)
after wait running=false
exit 0
bool(false)
