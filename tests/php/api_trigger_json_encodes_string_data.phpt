--TEST--
Api::trigger() JSON-encodes string data too, as webman/push does: 'hi' arrives as "\"hi\""
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$ws = connect_client($server->websocketPort());
subscribe($ws, 'news');
$api = api_for($server);
var_dump($api->trigger('news', 'text', 'hi'));
echo $ws->readMessage(), "\n";
var_dump($api->trigger('news', 'number', 42));
echo $ws->readMessage(), "\n";
var_dump($api->trigger('news', 'list', [1, 'a/b', null]));
echo $ws->readMessage(), "\n";
$ws->close();
$server->stop();
?>
--EXPECT--
bool(true)
{"event":"text","data":"\"hi\"","channel":"news"}
bool(true)
{"event":"number","data":"42","channel":"news"}
bool(true)
{"event":"list","data":"[1,\"a/b\",null]","channel":"news"}
