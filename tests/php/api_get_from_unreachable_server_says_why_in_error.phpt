--TEST--
Api::get() that reaches no server returns status 0, body false and 'error' saying why
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$port = free_port();
$api = new Webman\Push\Api("http://127.0.0.1:$port", TEST_APP_KEY, TEST_APP_SECRET);
$reply = $api->get('/channels');
var_dump($reply['status'], $reply['body'], array_key_exists('result', $reply));
echo str_replace((string)$port, 'PORT', $reply['error']), "\n";
?>
--EXPECTF--
int(0)
bool(false)
bool(false)
connect to 127.0.0.1:PORT failed: Connection refused%A
