--TEST--
Api::trigger() signed with a wrong secret returns false and nothing is delivered
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$ws = connect_client($server->websocketPort());
subscribe($ws, 'user-1');
var_dump(api_for($server, 'not-the-secret')->trigger('user-1', 'message', ['content' => 'forged']));
echo var_export($ws->readMessage(0.5), true), "\n";
// The right secret still works on the same server.
var_dump(api_for($server)->trigger('user-1', 'message', ['content' => 'real']));
echo $ws->readMessage(), "\n";
$server->stop();
?>
--EXPECT--
bool(false)
NULL
bool(true)
{"event":"message","data":"{\"content\":\"real\"}","channel":"user-1"}
