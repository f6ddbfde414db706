<?php
/**
 * POST text=... → pushes {"text":..., "time":...} as event "message" on channel "demo".
 * This is all a PHP app needs to push: Webman\Push\Api::trigger().
 */
$config = require __DIR__ . '/config.php';

$text = trim((string)($_POST['text'] ?? ''));
header('Content-Type: application/json');
if (!preg_match('/\A.{1,200}\z/us', $text)) { // 1 to 200 characters of valid UTF-8
    http_response_code(400);
    echo json_encode(['ok' => false, 'error' => 'text must be 1 to 200 characters']);
    return;
}

$api = new Webman\Push\Api($config['api'], $config['app_key'], $config['app_secret']);
$ok = $api->trigger('demo', 'message', ['text' => $text, 'time' => date('H:i:s'), 'from' => 'send.php']);

http_response_code($ok ? 200 : 502);
echo json_encode($ok ? ['ok' => true] : ['ok' => false, 'error' => 'the push server did not accept the event']);
