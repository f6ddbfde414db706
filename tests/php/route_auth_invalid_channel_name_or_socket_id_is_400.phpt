--TEST--
The auth route answers 400 with Api's error message (not a 500 page) when the channel name or socket_id is not valid
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
webman_boot(webman_app_config(['api' => 'http://0.0.0.0:3232', 'app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET]), webman_temp_dir());
$cookie = webman_login(['id' => 7, 'info' => ['name' => 'Ann']]);
$headers = ['Content-Type' => 'application/x-www-form-urlencoded', 'Cookie' => $cookie];
foreach ([
    ['private-orders', 'abc'],
    ['private-orders', '1.2.3'],
    ['private orders', '123.456'],
    ['presence-lobby', 'abc'],
] as [$channel, $socketId]) {
    $r = webman_request('POST', '/plugin/webman/push/auth', $headers, http_build_query(['socket_id' => $socketId, 'channel_name' => $channel]));
    echo $r['status'], ' ', $r['headers']['Content-Type'], ' ', $r['body'], "\n";
}
?>
--EXPECT--
400 application/json {"error":"Invalid socket ID abc"}
400 application/json {"error":"Invalid socket ID 1.2.3"}
400 application/json {"error":"Invalid channel name private orders"}
400 application/json {"error":"Invalid socket ID abc"}
