--TEST--
Server::start() when api_socket names a file that is not a socket throws PushException naming the path, leaves the file as it was and binds nothing
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/api_socket.php';
$socket = temp_socket_path();
file_put_contents($socket, 'keep me');
$wsPort = free_port();
$server = new Webman\Push\Server(test_config(['websocket' => "websocket://127.0.0.1:$wsPort", 'api_socket' => $socket]));
try {
    $server->start();
    echo "started\n";
} catch (Webman\Push\PushException $e) {
    echo str_replace($socket, 'PATH', $e->getMessage()), "\n";
}
var_dump($server->isRunning(), file_get_contents($socket), port_accepts($wsPort));
?>
--EXPECT--
cannot listen for the HTTP API on PATH: the path exists and is not a socket (remove it or choose another api_socket)
bool(false)
string(7) "keep me"
bool(false)
