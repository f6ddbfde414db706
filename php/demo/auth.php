<?php
/**
 * Channel auth for private-* and presence-* channels: the client POSTs channel_name and socket_id
 * (form fields or JSON) and gets back {"auth":"key:signature"} (plus channel_data for presence).
 * The demo authorises everybody; a real app checks here that the signed-in user may join the channel
 * (see config/plugin/webman/push/route.php).
 */
$config = require __DIR__ . '/config.php';
header('Content-Type: application/json');

$input = $_POST;
if (!isset($input['channel_name']) && str_contains($_SERVER['CONTENT_TYPE'] ?? '', 'json')) {
    $input = json_decode(file_get_contents('php://input'), true) ?: [];
}
$channel = $input['channel_name'] ?? null;
$socket_id = $input['socket_id'] ?? null;
if (!is_string($channel) || !is_string($socket_id) || $channel === '' || $socket_id === '') {
    http_response_code(400);
    echo json_encode(['error' => 'channel_name and socket_id are required']);
    return;
}

$api = new Webman\Push\Api($config['api'], $config['app_key'], $config['app_secret']);
try {
    if (str_starts_with($channel, 'presence-')) {
        // A made-up demo user; a real app takes the signed-in user from its session.
        $id = 'guest-' . substr(hash('sha256', $socket_id), 0, 6);
        echo $api->presenceAuth($channel, $socket_id, $id, ['name' => $id]);
    } else {
        echo $api->socketAuth($channel, $socket_id);
    }
} catch (Webman\Push\PushException $e) {
    http_response_code(400);
    echo json_encode(['error' => $e->getMessage()]);
}
