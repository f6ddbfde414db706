--TEST--
The auth route refuses a presence channel with 403 when the session has no push_user (a guest, or a push_user without id)
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
webman_boot(webman_app_config(['api' => 'http://0.0.0.0:3232', 'app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET]), webman_temp_dir());
$form = http_build_query(['socket_id' => '123.456', 'channel_name' => 'presence-lobby']);
// No session cookie at all.
$r = webman_request('POST', '/plugin/webman/push/auth', ['Content-Type' => 'application/x-www-form-urlencoded'], $form);
echo $r['status'], ' ', $r['headers']['Content-Type'], ' ', $r['body'], "\n";
// A session without push_user.
$cookie = webman_login([]);
$r = webman_request('POST', '/plugin/webman/push/auth', ['Content-Type' => 'application/x-www-form-urlencoded', 'Cookie' => $cookie], $form);
echo $r['status'], ' ', $r['body'], "\n";
// A push_user whose id is empty.
$cookie = webman_login(['id' => '', 'info' => ['name' => 'nobody']]);
$r = webman_request('POST', '/plugin/webman/push/auth', ['Content-Type' => 'application/x-www-form-urlencoded', 'Cookie' => $cookie], $form);
echo $r['status'], ' ', $r['body'], "\n";
?>
--EXPECT--
403 application/json {"error":"Forbidden"}
403 {"error":"Forbidden"}
403 {"error":"Forbidden"}
