<?php
/**
 * The demo's push server config: the same array as webman's config/plugin/webman/push/app.php.
 * php/bin/webman-push-demo starts the server with it; the demo's PHP endpoints read the key, secret
 * and API address from it. The key and secret are fixed demo values: never use them in production.
 * Ports: env DEMO_WS_PORT (3131) and DEMO_API_PORT (3232).
 */
return [
    'websocket'  => 'websocket://127.0.0.1:' . (getenv('DEMO_WS_PORT') ?: 3131),
    'api'        => 'http://127.0.0.1:' . (getenv('DEMO_API_PORT') ?: 3232),
    'app_key'    => 'webman-push-demo-key',
    'app_secret' => 'webman-push-demo-secret',
];
