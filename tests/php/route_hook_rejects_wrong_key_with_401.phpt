--TEST--
The webhook route answers 401 "Not authenticated" to a correctly signed body whose X-Pusher-Key is not the app key (or is missing)
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
webman_boot(webman_app_config(['app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET]), webman_temp_dir());
$body = '{"time_ms":1700000000000,"events":[{"channel":"room-1","name":"channel_added"}]}';
$signature = hash_hmac('sha256', $body, TEST_APP_SECRET);
$r = webman_request('POST', '/plugin/webman/push/hook', [
    'Content-Type' => 'application/json', 'X-Pusher-Key' => 'another-app-key', 'X-Pusher-Signature' => $signature,
], $body);
echo $r['status'], ' ', $r['body'], "\n";
var_dump($r['stdout']);
$r = webman_request('POST', '/plugin/webman/push/hook', [
    'Content-Type' => 'application/json', 'X-Pusher-Signature' => $signature,
], $body);
echo $r['status'], ' ', $r['body'], "\n";
var_dump($r['stdout']);
?>
--EXPECT--
401 401 Not authenticated
string(0) ""
401 401 Not authenticated
string(0) ""
