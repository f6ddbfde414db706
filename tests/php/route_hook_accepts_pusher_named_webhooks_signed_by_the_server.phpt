--TEST--
With webhook_names 'pusher' the webhook route accepts the server's signed channel_occupied and channel_vacated webhooks with "OK" and echoes them as online and offline channels
--SKIPIF--
<?php
if (!function_exists('proc_open')) die('skip proc_open not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
$http = webman_http_start(webman_app_config(['app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET]), webman_temp_dir());
// The shipped app.php's channel_hook path: /plugin/webman/push/hook.
$server = start_server([
    'channel_hook' => "http://127.0.0.1:{$http['port']}/plugin/webman/push/hook",
    'webhook_names' => 'pusher',
    'webhook_delay' => 0.2,
]);

$ws = connect_client($server->websocketPort());
echo subscribe($ws, 'room-2'), "\n";
webman_http_wait_log($http, fn($log) => count($log) >= 1);
$ws->close();
$log = webman_http_wait_log($http, fn($log) => count($log) >= 2);
foreach ($log as $entry) {
    echo $entry['method'], ' ', $entry['path'], ' -> ', $entry['status'], ' ', $entry['body'], "\n";
    echo json_encode($entry['stdout']), "\n";
}
$server->stop();
webman_http_stop($http);
?>
--EXPECT--
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"room-2"}
POST /plugin/webman/push/hook -> 200 OK
"online channels: room-2\noffline channels: \n"
POST /plugin/webman/push/hook -> 200 OK
"online channels: \noffline channels: room-2\n"
