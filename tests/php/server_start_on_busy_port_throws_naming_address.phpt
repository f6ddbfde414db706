--TEST--
Server::start() on a port another socket listens on throws PushException naming the address, and nothing is left bound
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$busy = stream_socket_server('tcp://127.0.0.1:0');
$name = stream_socket_get_name($busy, false);
$busyPort = (int)substr($name, strrpos($name, ':') + 1);

// WebSocket port taken.
$server = new Webman\Push\Server(test_config(['websocket' => "websocket://127.0.0.1:$busyPort"]));
try {
    $server->start();
    echo "started\n";
} catch (Webman\Push\PushException $e) {
    echo str_replace((string)$busyPort, 'PORT', $e->getMessage()), "\n";
}
var_dump($server->isRunning());

// API port taken: the WebSocket port asked for must not stay bound after the failure.
$wsPort = free_port();
$server = new Webman\Push\Server(test_config(['websocket' => "websocket://127.0.0.1:$wsPort", 'api' => "http://127.0.0.1:$busyPort"]));
try {
    $server->start();
    echo "started\n";
} catch (Webman\Push\PushException $e) {
    echo str_replace((string)$busyPort, 'PORT', $e->getMessage()), "\n";
}
var_dump($server->isRunning(), port_accepts($wsPort));
?>
--EXPECTF--
%S127.0.0.1:PORT%S
bool(false)
%S127.0.0.1:PORT%S
bool(false)
bool(false)
