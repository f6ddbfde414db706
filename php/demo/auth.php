<?php
/**
 * Channel auth, called by push.js before it joins a private-* or presence-* channel: it POSTs
 * channel_name and socket_id (plus the demo's `name` param) and gets back {"auth":"key:signature"},
 * with channel_data for presence channels. The demo lets every visitor in; a real app checks here
 * that the signed-in user may join the channel.
 */
require __DIR__ . '/visitor.php';
$config = require __DIR__ . '/config.php';
header('Content-Type: application/json');

$channel = $_POST['channel_name'] ?? null;
$socket_id = $_POST['socket_id'] ?? null;
if (!is_string($channel) || !is_string($socket_id) || $channel === '' || $socket_id === '') {
    http_response_code(400);
    echo json_encode(['error' => 'channel_name and socket_id are required']);
    return;
}

$api = new Webman\Push\Api($config['api'], $config['app_key'], $config['app_secret']);
try {
    if (str_starts_with($channel, 'presence-')) {
        // user_id: who this is (one member per visitor, however many tabs); user_info: what the
        // other members see in their online list.
        $name = demo_name($_POST['name'] ?? null) ?? 'Guest';
        echo $api->presenceAuth($channel, $socket_id, demo_visitor_id($config), ['name' => $name]);
    } else {
        echo $api->socketAuth($channel, $socket_id);
    }
} catch (Webman\Push\PushException $e) {
    http_response_code(400);
    echo json_encode(['error' => $e->getMessage()]);
}
