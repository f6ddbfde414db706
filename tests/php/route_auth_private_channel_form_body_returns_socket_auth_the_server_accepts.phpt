--TEST--
The auth route, over HTTP with a form body from a signed-in user, answers the JSON of Api::socketAuth() for a private channel, and the server accepts that auth
--SKIPIF--
<?php
if (!function_exists('proc_open')) die('skip proc_open not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
$server = start_server();
// As in the shipped app.php: the api address with 0.0.0.0, which route.php turns into 127.0.0.1.
$http = webman_http_start(webman_app_config([
    'api' => 'http://0.0.0.0:' . $server->apiPort(), 'app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET,
]), webman_temp_dir());
$cookie = webman_login(['id' => 7, 'info' => ['name' => 'Ann']]);
$ws = connect_client($server->websocketPort(), $socketId);

// What push.js posts: application/x-www-form-urlencoded channel_name and socket_id, with the session cookie.
$r = webman_http_request($http, 'POST', '/plugin/webman/push/auth', [
    'Content-Type' => 'application/x-www-form-urlencoded', 'Cookie' => $cookie,
], http_build_query(['socket_id' => $socketId, 'channel_name' => 'private-orders']));
echo $r['status'], ' ', $r['headers']['content-type'], "\n";
echo preg_replace('/:[0-9a-f]{64}"/', ':<64 hex>"', $r['body']), "\n";
var_dump($r['body'] === api_for($server)->socketAuth('private-orders', $socketId));

$auth = json_decode($r['body'], true);
$ws->sendJson(['event' => 'pusher:subscribe', 'data' => ['channel' => 'private-orders', 'auth' => $auth['auth']]]);
echo $ws->readMessage(), "\n";
$server->stop();
webman_http_stop($http);
?>
--EXPECT--
200 application/json
{"auth":"test-app-key:<64 hex>"}
bool(true)
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"private-orders"}
