<?php
/**
 * Router for PHP's built-in web server: php -S 127.0.0.1:8080 php/demo/router.php
 * Serves only the demo's page, its assets, its three endpoints and the browser client php/push.js.
 */
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

$static = [
    '/demo.js'        => [__DIR__ . '/demo.js', 'application/javascript; charset=utf-8'],
    '/demo.css'       => [__DIR__ . '/demo.css', 'text/css; charset=utf-8'],
    // The browser client, the same file webman apps serve at /plugin/webman/push/push.js.
    '/push.js'        => [dirname(__DIR__) . '/push.js', 'application/javascript; charset=utf-8'],
];
$endpoints = ['/send.php' => 'send.php', '/burst.php' => 'burst.php', '/auth.php' => 'auth.php'];

if ($path === '/' || $path === '/index.php') {
    require __DIR__ . '/index.php';
} elseif (isset($static[$path]) && is_file($static[$path][0])) {
    header('Content-Type: ' . $static[$path][1]);
    header('Cache-Control: no-cache');
    readfile($static[$path][0]);
} elseif (isset($endpoints[$path])) {
    if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
        http_response_code(405);
        header('Allow: POST');
        echo "Method Not Allowed\n";
        return true;
    }
    require __DIR__ . '/' . $endpoints[$path];
} else {
    http_response_code(404);
    header('Content-Type: text/plain');
    echo "Not Found\n";
}
return true;
