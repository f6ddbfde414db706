--TEST--
Api::lastError() after a refused connection names the address and the reason
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$port = free_port();
$api = new Webman\Push\Api("http://127.0.0.1:$port", TEST_APP_KEY, TEST_APP_SECRET);
var_dump($api->trigger('user-1', 'message', ['content' => 'hi']));
echo str_replace((string)$port, 'PORT', $api->lastError()), "\n";
?>
--EXPECTF--
bool(false)
connect to 127.0.0.1:PORT failed: Connection refused%A
