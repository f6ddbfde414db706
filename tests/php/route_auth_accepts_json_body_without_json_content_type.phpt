--TEST--
The auth route also reads a JSON body sent with a non-JSON Content-Type (text/plain), which webman's post() does not parse
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
$server = start_server();
webman_boot(webman_app_config([
    'api' => 'http://0.0.0.0:' . $server->apiPort(), 'app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET,
]), webman_temp_dir());
$cookie = webman_login(['id' => 7]);
$ws = connect_client($server->websocketPort(), $socketId);

$r = webman_request('POST', '/plugin/webman/push/auth', ['Content-Type' => 'text/plain;charset=UTF-8', 'Cookie' => $cookie],
    json_encode(['channel_name' => 'private-orders', 'socket_id' => $socketId]));
echo $r['status'], "\n";
var_dump($r['body'] === api_for($server)->socketAuth('private-orders', $socketId));

$auth = json_decode($r['body'], true);
$ws->sendJson(['event' => 'pusher:subscribe', 'data' => ['channel' => 'private-orders', 'auth' => $auth['auth']]]);
echo $ws->readMessage(), "\n";
$server->stop();
?>
--EXPECT--
200
bool(true)
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"private-orders"}
