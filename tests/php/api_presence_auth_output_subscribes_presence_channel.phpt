--TEST--
A client that subscribes to a presence channel with Api::presenceAuth() output (escaped "/" and unicode in channel_data) joins with its user info
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$api = api_for($server);
$ws = connect_client($server->websocketPort(), $socketId);
$auth = json_decode($api->presenceAuth('presence-room', $socketId, 100, ['name' => 'Zoë', 'home' => 'https://example.com/zoe']), true);
// channel_data is signed exactly as sent: PHP's default escaping, kept verbatim.
echo $auth['channel_data'], "\n";
$ws->sendJson(['event' => 'pusher:subscribe', 'data' => [
    'channel' => 'presence-room', 'auth' => $auth['auth'], 'channel_data' => $auth['channel_data'],
]]);
$reply = $ws->readJson();
echo $reply['event'], ' ', $reply['channel'], "\n";
$presence = json_decode($reply['data'], true)['presence'];
// (Whether ids are JSON numbers or strings is the protocol tests' business; compare loosely.)
var_dump($presence['count'], $presence['ids'] == [100]);
echo json_encode($presence['hash']['100'], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
echo json_encode($server->stats()['presence_members']), "\n";
$server->stop();
?>
--EXPECT--
{"user_id":100,"user_info":{"name":"Zo\u00eb","home":"https:\/\/example.com\/zoe"}}
pusher_internal:subscription_succeeded presence-room
int(1)
bool(true)
{"name":"Zoë","home":"https://example.com/zoe"}
1
