--TEST--
onWorkerStart($worker) starts the server and onWorkerStop($worker) stops it, as webman calls them on the process handler
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = new Webman\Push\Server(test_config());
$worker = new stdClass(); // webman passes its Workerman\Worker; the server does not need it
$server->onWorkerStart($worker);
var_dump($server->isRunning());
$port = $server->websocketPort();
$ws = connect_client($port);
echo subscribe($ws, 'user-1'), "\n";
var_dump($server->onWorkerStop($worker));
var_dump($server->isRunning());
var_dump($ws->readClose());
var_dump(port_accepts($port));
// Without an argument too.
$server->onWorkerStart();
var_dump($server->isRunning());
var_dump($server->onWorkerStop());
?>
--EXPECT--
bool(true)
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"user-1"}
bool(true)
bool(false)
int(4200)
bool(false)
bool(true)
bool(true)
