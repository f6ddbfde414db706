--TEST--
The webhook route accepts the original webman/push server's webhook (reference vector: float time_ms, signature 7b1ebefd…) and echoes its channel as online
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
// Vector from webman/push's Server.php webHookSend (see the compat reference, §3.13): what an app still
// running the old push server during a migration sends.
webman_boot(webman_app_config(['app_key' => 'app-key-123', 'app_secret' => 'app-secret-456']), webman_temp_dir());
$body = '{"time_ms":1700000000.1234,"events":[{"channel":"user-1","name":"channel_added"}]}';
$r = webman_request('POST', '/plugin/webman/push/hook', [
    'Connection' => 'close',
    'X-Pusher-Key' => 'app-key-123',
    'X-Pusher-Signature' => '7b1ebefdb9b25022c9529d3c05cbd2387ea8a08ec2dcc93793a75c993300a011',
    'Content-Type' => 'application/json',
], $body);
echo $r['status'], ' ', $r['body'], "\n";
echo json_encode($r['stdout']), "\n";
?>
--EXPECT--
200 OK
"online channels: user-1\noffline channels: \n"
