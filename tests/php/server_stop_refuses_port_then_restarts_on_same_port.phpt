--TEST--
Server::stop() returns true and frees the ports (connections are refused); start() again binds the same fixed ports
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$wsPort = free_port();
$apiPort = free_port();
$server = new Webman\Push\Server(test_config([
    'websocket' => "websocket://127.0.0.1:$wsPort",
    'api' => "http://127.0.0.1:$apiPort",
]));
var_dump($server->stop()); // not running yet
$server->start();
var_dump($server->websocketPort() === $wsPort, $server->apiPort() === $apiPort);
connect_client($wsPort)->close();

var_dump($server->stop());
var_dump($server->isRunning());
var_dump(port_accepts($wsPort), port_accepts($apiPort));
var_dump($server->stop()); // already stopped

$server->start();
var_dump($server->isRunning(), $server->websocketPort() === $wsPort);
$ws = connect_client($wsPort);
subscribe($ws, 'again');
var_dump(api_for($server)->trigger('again', 'back', 'up'));
echo $ws->readMessage(), "\n";
var_dump($server->stop());
?>
--EXPECT--
bool(false)
bool(true)
bool(true)
bool(true)
bool(false)
bool(false)
bool(false)
bool(false)
bool(true)
bool(true)
bool(true)
{"event":"back","data":"\"up\"","channel":"again"}
bool(true)
