--TEST--
The auth route takes channel_name and socket_id from a JSON body (Content-Type application/json) and answers the same auth as for a form body, which the server accepts
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
$server = start_server();
webman_boot(webman_app_config([
    'api' => 'http://0.0.0.0:' . $server->apiPort(), 'app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET,
]), webman_temp_dir());
$cookie = webman_login(['id' => 7, 'info' => ['name' => 'Ann']]);
$ws = connect_client($server->websocketPort(), $socketId);

$r = webman_request('POST', '/plugin/webman/push/auth', ['Content-Type' => 'application/json', 'Cookie' => $cookie],
    json_encode(['channel_name' => 'private-orders', 'socket_id' => $socketId]));
echo $r['status'], ' ', $r['headers']['Content-Type'], "\n";
var_dump($r['body'] === api_for($server)->socketAuth('private-orders', $socketId));

$auth = json_decode($r['body'], true);
$ws->sendJson(['event' => 'pusher:subscribe', 'data' => ['channel' => 'private-orders', 'auth' => $auth['auth']]]);
echo $ws->readMessage(), "\n";
$server->stop();
?>
--EXPECT--
200 application/json
bool(true)
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"private-orders"}
