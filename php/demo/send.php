<?php
/**
 * POST name=...&text=... → pushes {"name","text","time","user_id"} as event "message" on the public
 * channel "demo". This is all a PHP app needs to push: Webman\Push\Api::trigger().
 */
require __DIR__ . '/visitor.php';
$config = require __DIR__ . '/config.php';
header('Content-Type: application/json');

$text = trim((string)($_POST['text'] ?? ''));
if (!preg_match('/\A.{1,200}\z/us', $text)) { // 1 to 200 characters of valid UTF-8
    http_response_code(400);
    echo json_encode(['ok' => false, 'error' => 'text must be 1 to 200 characters']);
    return;
}

$api = new Webman\Push\Api($config['api'], $config['app_key'], $config['app_secret']);
$ok = $api->trigger('demo', 'message', [
    'name'    => demo_name($_POST['name'] ?? null) ?? 'Guest',
    'text'    => $text,
    'time'    => date('H:i:s'),
    'user_id' => demo_visitor_id($config), // the same id as in presence-demo: pages mark their own messages
]);

http_response_code($ok ? 200 : 502);
echo json_encode($ok ? ['ok' => true] : ['ok' => false, 'error' => 'the push server did not accept the event']);
