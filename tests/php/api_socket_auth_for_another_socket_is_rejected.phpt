--TEST--
An auth signed by Api::socketAuth() for another socket id does not subscribe the private channel, and the error does not reveal the right signature
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$api = api_for($server);
$ws = connect_client($server->websocketPort(), $socketId);
[$a, $b] = explode('.', $socketId);
$otherId = $a . '.' . ((int)$b + 1000);
$stolen = json_decode($api->socketAuth('private-user-1', $otherId), true)['auth'];
$ws->sendJson(['event' => 'pusher:subscribe', 'data' => ['channel' => 'private-user-1', 'auth' => $stolen]]);
$reply = $ws->readJson();
echo $reply['event'], "\n";
echo str_starts_with($reply['data']['message'], 'Received invalid Auth') ? "invalid auth\n" : $reply['data']['message'] . "\n";
$right = json_decode($api->socketAuth('private-user-1', $socketId), true)['auth'];
$sig = substr($right, strpos($right, ':') + 1);
var_dump(str_contains(json_encode($reply), $sig));
// Nothing triggered on the channel reaches this client.
var_dump($api->trigger('private-user-1', 'secret', 1));
subscribe($ws, 'public-probe');
var_dump($api->trigger('public-probe', 'probe', 1));
echo $ws->readMessage(), "\n";
$server->stop();
?>
--EXPECT--
pusher:error
invalid auth
bool(false)
bool(true)
bool(true)
{"event":"probe","data":"1","channel":"public-probe"}
