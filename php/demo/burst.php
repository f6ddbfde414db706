<?php
/**
 * POST → pushes one "message" on channel "demo" every second for 5 seconds, from PHP, while the page
 * stays live (the demo's web server runs several workers, so other requests are not blocked).
 */
$config = require __DIR__ . '/config.php';
header('Content-Type: application/json');

$api = new Webman\Push\Api($config['api'], $config['app_key'], $config['app_secret']);
$sent = 0;
for ($i = 1; $i <= 5; $i++) {
    if ($i > 1) {
        sleep(1);
    }
    $sent += $api->trigger('demo', 'message', [
        'name' => 'PHP (burst.php)',
        'text' => "tick $i of 5",
        'time' => date('H:i:s'),
    ]) ? 1 : 0;
}

http_response_code($sent === 5 ? 200 : 502);
echo json_encode(['ok' => $sent === 5, 'sent' => $sent]);
