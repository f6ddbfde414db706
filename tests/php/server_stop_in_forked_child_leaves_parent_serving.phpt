--TEST--
Calling stop() on the inherited Server in a forked child returns without hanging and does not disturb the parent's server or its clients
--SKIPIF--
<?php
if (!function_exists('pcntl_fork')) die('skip pcntl not available');
if (!function_exists('posix_kill')) die('skip posix not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$ws = connect_client($server->websocketPort());
subscribe($ws, 'user-1');

$pid = pcntl_fork();
if ($pid === 0) {
    $server->stop();
    exit(0);
}
echo 'child: ', wait_child($pid, 10), "\n";

var_dump(api_for($server)->trigger('user-1', 'message', 'still here'));
echo $ws->readMessage(), "\n";
var_dump($server->stop());
var_dump($ws->readClose());
?>
--EXPECT--
child: exit 0
bool(true)
{"event":"message","data":"\"still here\"","channel":"user-1"}
bool(true)
int(4200)
