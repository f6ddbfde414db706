--TEST--
The webhook route, served over HTTP at the path of channel_hook, accepts the server's signed channel_added and channel_removed webhooks with "OK" and echoes the online and offline channels
--SKIPIF--
<?php
if (!function_exists('proc_open')) die('skip proc_open not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
// The webman app: route.php takes the receiver's path from channel_hook (only the path: webman listens on its own port).
$http = webman_http_start(webman_app_config([
    'app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET, 'channel_hook' => 'http://127.0.0.1:8787/webhooks/push?from=push',
]), webman_temp_dir());
$server = start_server(['channel_hook' => "http://127.0.0.1:{$http['port']}/webhooks/push?from=push", 'webhook_delay' => 0.2]);

$ws = connect_client($server->websocketPort());
echo subscribe($ws, 'room-1'), "\n";
webman_http_wait_log($http, fn($log) => count($log) >= 1);
$ws->sendJson(['event' => 'pusher:unsubscribe', 'data' => ['channel' => 'room-1']]);
$log = webman_http_wait_log($http, fn($log) => count($log) >= 2);
foreach ($log as $entry) {
    // What webman answered the push server, then what the route echoed to webman's console.
    echo $entry['method'], ' ', $entry['path'], ' -> ', $entry['status'], ' ', $entry['body'], "\n";
    echo json_encode($entry['stdout']), "\n";
}
$server->stop();
webman_http_stop($http);
?>
--EXPECT--
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"room-1"}
POST /webhooks/push -> 200 OK
"online channels: room-1\noffline channels: \n"
POST /webhooks/push -> 200 OK
"online channels: \noffline channels: room-1\n"
