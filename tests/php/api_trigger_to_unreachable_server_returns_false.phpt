--TEST--
Api::trigger() returns false, without an exception, when nothing listens at the API address
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$port = free_port();
$api = new Webman\Push\Api("http://127.0.0.1:$port", TEST_APP_KEY, TEST_APP_SECRET);
$t = microtime(true);
var_dump($api->trigger('user-1', 'message', ['content' => 'hi']));
// Bound against hanging: a refused connection must not wait for anything (the Api's own timeout is 2 s).
$elapsed = microtime(true) - $t;
echo $elapsed < 3 ? "returned promptly\n" : "took $elapsed s\n";
?>
--EXPECT--
bool(false)
returned promptly
