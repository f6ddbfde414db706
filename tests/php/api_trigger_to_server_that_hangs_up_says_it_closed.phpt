--TEST--
Api::trigger() to a server that closes the connection without answering returns false, and lastError() says the server closed it
--FILE--
<?php
require __DIR__ . '/lib/push.php';
// A child process accepts one connection, reads the request and hangs up without a word.
$listener = stream_socket_server('tcp://127.0.0.1:0');
$name = stream_socket_get_name($listener, false);
$port = (int)substr($name, strrpos($name, ':') + 1);
$child = pcntl_fork();
if ($child === 0) {
    $conn = stream_socket_accept($listener, 5);
    if ($conn) {
        fread($conn, 65536);
        fclose($conn);
    }
    exit(0);
}
fclose($listener);
$api = new Webman\Push\Api("http://127.0.0.1:$port", TEST_APP_KEY, TEST_APP_SECRET);
var_dump($api->trigger('user-1', 'message', ['content' => 'hi']));
echo str_replace((string)$port, 'PORT', $api->lastError()), "\n";
pcntl_waitpid($child, $status);
?>
--EXPECT--
bool(false)
127.0.0.1:PORT closed the connection before answering
