--TEST--
A Server started before pcntl_fork(): the child exits cleanly without hanging on the inherited server, and the parent keeps serving
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
    // The child holds a copy of the running Server object; PHP destroys it at exit.
    exit(0);
}
echo 'child: ', wait_child($pid, 10), "\n";

// The parent's server and its client are untouched.
var_dump($server->isRunning());
var_dump(api_for($server)->trigger('user-1', 'message', ['after' => 'fork']));
echo $ws->readMessage(), "\n";
$late = connect_client($server->websocketPort());
echo subscribe($late, 'user-2'), "\n";
var_dump($server->stop());
?>
--EXPECT--
child: exit 0
bool(true)
bool(true)
{"event":"message","data":"{\"after\":\"fork\"}","channel":"user-1"}
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"user-2"}
bool(true)
