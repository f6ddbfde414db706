--TEST--
With the shipped $has_authority hook the auth route refuses a private channel to a guest (no push_user in the session) with 403
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
webman_boot(webman_app_config(['api' => 'http://0.0.0.0:3232', 'app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET]), webman_temp_dir());
$r = webman_request('POST', '/plugin/webman/push/auth', ['Content-Type' => 'application/x-www-form-urlencoded'],
    http_build_query(['socket_id' => '123.456', 'channel_name' => 'private-orders']));
echo $r['status'], ' ', $r['headers']['Content-Type'], ' ', $r['body'], "\n";
?>
--EXPECT--
403 application/json {"error":"Forbidden"}
