--TEST--
socketAuth coerces non-string scalars like webman/push's untyped PHP method (float socket id, int channel)
--FILE--
<?php
require __DIR__ . '/lib/reference_auth.php';
$api = new Webman\Push\Api('http://127.0.0.1:3232', 'app-key-123', 'app-secret-456');
// (string)1.5 === "1.5": a float socket id is accepted and signs exactly like the string.
var_dump($api->socketAuth('private-user-1', 1.5) === $api->socketAuth('private-user-1', '1.5'));
// A channel named "123" given as an int.
var_dump($api->socketAuth(123, '1.5') === reference_socket_auth('app-key-123', 'app-secret-456', '123', '1.5'));
// An int socket id becomes "15", which is not "<digits>.<digits>": rejected like the original.
try {
    $api->socketAuth('private-user-1', 15);
    echo "accepted\n";
} catch (Webman\Push\PushException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECT--
bool(true)
bool(true)
Webman\Push\PushException: Invalid socket ID 15
