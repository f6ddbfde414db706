--TEST--
Server::stop() sends connected clients a close frame with code 4200 (reconnect) before the socket ends
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$ws = connect_client($server->websocketPort());
subscribe($ws, 'user-1');
$server->stop();
var_dump($ws->readClose());
// After the close frame the server ends the TCP connection.
var_dump($ws->readFrame(2.0), $ws->eof);
?>
--EXPECT--
int(4200)
NULL
bool(true)
