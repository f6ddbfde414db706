--TEST--
Api::trigger() to a server that accepts but never answers returns false after the timeout, and lastError() names the wait
--FILE--
<?php
require __DIR__ . '/lib/push.php';
// Listening but never accepting: the kernel completes the connection, nobody reads the request.
$silent = stream_socket_server('tcp://127.0.0.1:0');
$name = stream_socket_get_name($silent, false);
$port = (int)substr($name, strrpos($name, ':') + 1);
$api = new Webman\Push\Api("http://127.0.0.1:$port", TEST_APP_KEY, TEST_APP_SECRET, ['timeout' => 0.2]);
$t = microtime(true);
var_dump($api->trigger('user-1', 'message', ['content' => 'hi']));
$elapsed = microtime(true) - $t;
echo $elapsed >= 0.2 && $elapsed < 1.5 ? "waited the timeout\n" : "waited $elapsed s\n";
echo str_replace((string)$port, 'PORT', $api->lastError()), "\n";
?>
--EXPECT--
bool(false)
waited the timeout
no answer from 127.0.0.1:PORT within 0.2 s
