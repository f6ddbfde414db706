--TEST--
An Api whose pooled unix:// connection belongs to a server that was stopped reaches the restarted server on the next call, with no error
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/api_socket.php';
$socket = temp_socket_path();
$server = start_server(['api_socket' => $socket]);
$api = new Webman\Push\Api("unix://$socket", TEST_APP_KEY, TEST_APP_SECRET);
var_dump($api->trigger('news', 'before', 1));

// The kept-alive connection of that call is still pooled when its server goes away.
$server->stop();
$server = start_server(['api_socket' => $socket]);
$ws = connect_client($server->websocketPort());
subscribe($ws, 'news');
var_dump($api->trigger('news', 'after', 2));
echo $ws->readMessage(), "\n";
$server->stop();
?>
--EXPECT--
bool(true)
bool(true)
{"event":"after","data":"2","channel":"news"}
