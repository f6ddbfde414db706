--TEST--
For a presence channel the auth route answers Api::presenceAuth() with the session's push_user id and info, and the server lets the client join as that member
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
$server = start_server();
webman_boot(webman_app_config([
    'api' => 'http://0.0.0.0:' . $server->apiPort(), 'app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET,
]), webman_temp_dir());
// What the app's login code stored: $request->session()->set('push_user', ['id' => ..., 'info' => [...]]).
$cookie = webman_login(['id' => 42, 'info' => ['name' => 'Zoë']]);
$ws = connect_client($server->websocketPort(), $socketId);

$r = webman_request('POST', '/plugin/webman/push/auth', ['Content-Type' => 'application/x-www-form-urlencoded', 'Cookie' => $cookie],
    http_build_query(['socket_id' => $socketId, 'channel_name' => 'presence-lobby']));
echo $r['status'], ' ', $r['headers']['Content-Type'], "\n";
var_dump($r['body'] === api_for($server)->presenceAuth('presence-lobby', $socketId, 42, ['name' => 'Zoë']));
$auth = json_decode($r['body'], true);
echo $auth['channel_data'], "\n";

$ws->sendJson(['event' => 'pusher:subscribe', 'data' => [
    'channel' => 'presence-lobby', 'auth' => $auth['auth'], 'channel_data' => $auth['channel_data'],
]]);
$reply = $ws->readJson();
echo $reply['event'], ' ', $reply['channel'], "\n";
echo json_encode(json_decode($reply['data'], true), JSON_UNESCAPED_UNICODE), "\n";
$server->stop();
?>
--EXPECT--
200 application/json
bool(true)
{"user_id":42,"user_info":{"name":"Zo\u00eb"}}
pusher_internal:subscription_succeeded presence-lobby
{"presence":{"ids":["42"],"hash":{"42":{"name":"Zoë"}},"count":1}}
