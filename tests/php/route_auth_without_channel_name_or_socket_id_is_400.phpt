--TEST--
The auth route answers 400 with a JSON error when channel_name or socket_id is missing or empty, in a form or a JSON body
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
webman_boot(webman_app_config(['api' => 'http://0.0.0.0:3232', 'app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET]), webman_temp_dir());
$cookie = webman_login(['id' => 7]);
$form = ['Content-Type' => 'application/x-www-form-urlencoded', 'Cookie' => $cookie];
$json = ['Content-Type' => 'application/json', 'Cookie' => $cookie];
foreach ([
    'form without channel_name' => [$form, 'socket_id=123.456'],
    'form without socket_id' => [$form, 'channel_name=private-orders'],
    'form with empty socket_id' => [$form, 'channel_name=private-orders&socket_id='],
    'empty body' => [$form, ''],
    'JSON without socket_id' => [$json, '{"channel_name":"private-orders"}'],
    'JSON with a number socket_id' => [$json, '{"channel_name":"private-orders","socket_id":123.456}'],
] as $case => [$headers, $body]) {
    $r = webman_request('POST', '/plugin/webman/push/auth', $headers, $body);
    echo "$case: ", $r['status'], ' ', $r['headers']['Content-Type'], ' ', $r['body'], "\n";
}
?>
--EXPECT--
form without channel_name: 400 application/json {"error":"channel_name and socket_id are required"}
form without socket_id: 400 application/json {"error":"channel_name and socket_id are required"}
form with empty socket_id: 400 application/json {"error":"channel_name and socket_id are required"}
empty body: 400 application/json {"error":"channel_name and socket_id are required"}
JSON without socket_id: 400 application/json {"error":"channel_name and socket_id are required"}
JSON with a number socket_id: 400 application/json {"error":"channel_name and socket_id are required"}
