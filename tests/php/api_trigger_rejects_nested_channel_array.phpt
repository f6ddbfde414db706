--TEST--
trigger() throws PushException when the channel list holds an array instead of a name
--FILE--
<?php
$api = new Webman\Push\Api('http://127.0.0.1:9', 'key', 'secret');
try {
    $api->trigger(['user-1', ['user-2']], 'message', ['a' => 1]);
    echo "accepted\n";
} catch (Webman\Push\PushException $e) {
    echo 'PushException: ', $e->getMessage(), "\n";
}
?>
--EXPECTF--
PushException: %schannel%s
