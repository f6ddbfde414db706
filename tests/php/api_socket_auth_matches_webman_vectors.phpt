--TEST--
socketAuth and presenceAuth reproduce webman/push's outputs for its reference vectors
--FILE--
<?php
$api = new Webman\Push\Api('http://127.0.0.1:3232', 'app-key-123', 'app-secret-456');
echo $api->socketAuth('private-user-1', '1.5'), "\n";
echo $api->presenceAuth('presence-room', '1.5', 100, ['name' => 'Tom']), "\n";
// The same presence auth, given as custom data to socketAuth.
echo $api->socketAuth('presence-room', '1.5', '{"user_id":100,"user_info":{"name":"Tom"}}'), "\n";
?>
--EXPECT--
{"auth":"app-key-123:9595320f4e548deded08e106fbf62dc872a05b15e1f6f66aa9f504336c3219cf"}
{"auth":"app-key-123:dcee10907084e2ec31053829bbb0e75379ac284e47a4c72f1c87ffd001f95eea","channel_data":"{\"user_id\":100,\"user_info\":{\"name\":\"Tom\"}}"}
{"auth":"app-key-123:dcee10907084e2ec31053829bbb0e75379ac284e47a4c72f1c87ffd001f95eea","channel_data":"{\"user_id\":100,\"user_info\":{\"name\":\"Tom\"}}"}
