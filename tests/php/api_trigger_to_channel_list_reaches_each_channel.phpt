--TEST--
Api::trigger() with an array of channels delivers the event once on each listed channel
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$port = $server->websocketPort();
$a = connect_client($port);
subscribe($a, 'room-a');
$b = connect_client($port);
subscribe($b, 'room-b');
$c = connect_client($port);
subscribe($c, 'room-c');
var_dump(api_for($server)->trigger(['room-a', 'room-b'], 'hello', ['n' => 1]));
echo 'a: ', $a->readMessage(), "\n";
echo 'b: ', $b->readMessage(), "\n";
// room-c was not listed: nothing arrives there.
echo 'c: ', var_export($c->readMessage(0.5), true), "\n";
// Nothing more arrives on a either.
echo 'a again: ', var_export($a->readMessage(0.3), true), "\n";
// The first thing room-c's subscriber ever receives is an event sent to room-c itself.
var_dump(api_for($server)->trigger('room-c', 'hello', ['n' => 2]));
echo 'c: ', $c->readMessage(), "\n";
$server->stop();
?>
--EXPECT--
bool(true)
a: {"event":"hello","data":"{\"n\":1}","channel":"room-a"}
b: {"event":"hello","data":"{\"n\":1}","channel":"room-b"}
c: NULL
a again: NULL
bool(true)
c: {"event":"hello","data":"{\"n\":2}","channel":"room-c"}
