--TEST--
Api::trigger() returns true and a subscribed WebSocket client receives the event with its data JSON-encoded
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$ws = connect_client($server->websocketPort());
echo subscribe($ws, 'user-1'), "\n";
var_dump(api_for($server)->trigger('user-1', 'message', ['content' => 'hi/é']));
echo $ws->readMessage(), "\n";
$ws->close();
$server->stop();
?>
--EXPECT--
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"user-1"}
bool(true)
{"event":"message","data":"{\"content\":\"hi/é\"}","channel":"user-1"}
