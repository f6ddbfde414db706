--TEST--
Api::trigger() with a socket_id delivers to every subscriber except that connection
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$port = $server->websocketPort();
$sender = connect_client($port, $senderId);
subscribe($sender, 'chat');
$other = connect_client($port);
subscribe($other, 'chat');
var_dump(api_for($server)->trigger('chat', 'said', ['text' => 'x'], $senderId));
echo 'other: ', $other->readMessage(), "\n";
echo 'sender: ', var_export($sender->readMessage(0.5), true), "\n";
// Without socket_id both receive the next event; the sender's first frame proves nothing was queued before.
var_dump(api_for($server)->trigger('chat', 'said', ['text' => 'y']));
echo 'sender: ', $sender->readMessage(), "\n";
echo 'other: ', $other->readMessage(), "\n";
$server->stop();
?>
--EXPECT--
bool(true)
other: {"event":"said","data":"{\"text\":\"x\"}","channel":"chat"}
sender: NULL
bool(true)
sender: {"event":"said","data":"{\"text\":\"y\"}","channel":"chat"}
other: {"event":"said","data":"{\"text\":\"y\"}","channel":"chat"}
