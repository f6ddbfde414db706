--TEST--
Api methods can be called with webman/push's named arguments
--FILE--
<?php
$api = new Webman\Push\Api(api_address: 'http://127.0.0.1:3232', app_key: 'app-key-123', app_secret: 'app-secret-456');
echo $api->socketAuth(socket_id: '1.5', channel: 'private-user-1'), "\n";
echo $api->presenceAuth(channel: 'presence-room', socket_id: '1.5', user_info: ['name' => 'Tom'], user_id: 100), "\n";
?>
--EXPECT--
{"auth":"app-key-123:9595320f4e548deded08e106fbf62dc872a05b15e1f6f66aa9f504336c3219cf"}
{"auth":"app-key-123:dcee10907084e2ec31053829bbb0e75379ac284e47a4c72f1c87ffd001f95eea","channel_data":"{\"user_id\":100,\"user_info\":{\"name\":\"Tom\"}}"}
