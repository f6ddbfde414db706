--TEST--
Server::start() on port 0 binds both listeners and reports the ports the kernel chose
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = new Webman\Push\Server(test_config());
var_dump($server->isRunning(), $server->websocketPort(), $server->apiPort());
var_dump($server->start());
var_dump($server->isRunning());
$ws = $server->websocketPort();
$api = $server->apiPort();
var_dump($ws > 0, $api > 0, $ws !== $api);
var_dump(port_accepts($ws), port_accepts($api));
$server->stop();
?>
--EXPECT--
bool(false)
int(0)
int(0)
NULL
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
