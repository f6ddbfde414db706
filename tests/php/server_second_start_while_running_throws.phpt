--TEST--
Server::start() on a server that is already running throws PushException and leaves it running
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$port = $server->websocketPort();
try {
    $server->start();
    echo "started twice\n";
} catch (Webman\Push\PushException $e) {
    echo str_replace((string)$port, 'PORT', $e->getMessage()), "\n";
}
var_dump($server->isRunning(), $server->websocketPort() === $port);
connect_client($port)->close();
echo "still serving\n";
$server->stop();
?>
--EXPECTF--
%Salready running%S127.0.0.1:PORT%S
bool(true)
bool(true)
still serving
