<?php
/**
 * The push server as a webman custom process: plugin.webman.push.server.
 *
 * webman does `new Webman\Push\Server(config('plugin.webman.push.app'))` in the process and calls its
 * onWorkerStart(), which starts the server (Rust threads inside the webman_push extension); onWorkerStop()
 * stops it. There is deliberately no 'listen': the server binds the websocket and api ports itself, and a
 * Workerman listener on the same port would take it first.
 *
 * This file is also read by the webman master and by CLI commands, where the extension may not be
 * loaded: it only names the class (a string) and never calls the extension.
 */
return [
    'server' => [
        'handler'     => Webman\Push\Server::class,
        'count'       => 1,      // must be 1: the server keeps all channel state in this process
        'reloadable'  => false,  // `php start.php reload` keeps connections open
        'constructor' => [
            'config' => config('plugin.webman.push.app'),
        ],
    ],
];
