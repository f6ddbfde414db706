--TEST--
A client that subscribes to a private channel with the auth from Api::socketAuth() (as the auth route returns it) is accepted
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$api = api_for($server);
$ws = connect_client($server->websocketPort(), $socketId);
// What pusher-js does with the auth route's body.
$auth = json_decode($api->socketAuth('private-user-1', $socketId), true);
$ws->sendJson(['event' => 'pusher:subscribe', 'data' => ['channel' => 'private-user-1', 'auth' => $auth['auth']]]);
echo $ws->readMessage(), "\n";
var_dump($api->trigger('private-user-1', 'secret', ['n' => 1]));
echo $ws->readMessage(), "\n";
$server->stop();
?>
--EXPECT--
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"private-user-1"}
bool(true)
{"event":"secret","data":"{\"n\":1}","channel":"private-user-1"}
