--TEST--
install() over a project that has the original PHP webman/push process.php (listen websocket://, api_listen/app_info) keeps it and warns that it must be replaced, and why
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$project = make_webman_project();
$mine = "$project/config/plugin/webman/push";
mkdir($mine, 0777, true);
// webman/push 1.x's config/plugin/webman/push/process.php, as its installer copied it.
$legacy = <<<'PHP'
<?php

use Webman\Push\Server;

return [
    'server' => [
        'handler'     => Server::class,
        'listen'      => config('plugin.webman.push.app.websocket'),
        'count'       => 1, // 必须是1
        'reloadable'  => false, // 执行reload不重启
        'constructor' => [
            'api_listen' => config('plugin.webman.push.app.api'),
            'app_info'   => [
                config('plugin.webman.push.app.app_key') => [
                    'channel_hook' => config('plugin.webman.push.app.channel_hook'),
                    'app_secret'   => config('plugin.webman.push.app.app_secret'),
                ],
            ]
        ]
    ]
];
PHP;
file_put_contents("$mine/process.php", $legacy);

$run = run_installer($project, 'install');
echo "exit {$run['exit']}\n", $run['output'];
var_dump(file_get_contents("$mine/process.php") === $legacy);
var_dump(is_file("$mine/app.php"), is_file("$mine/route.php"));
?>
--EXPECT--
exit 0
Create config/plugin/webman/push

WARNING: config/plugin/webman/push/process.php is the one of the old PHP webman/push and was kept as it is.
  It gives the push process a 'listen' address (websocket://...) and passes api_listen/app_info to
  Webman\Push\Server. The push server is now the webman_push extension, which binds the websocket and the
  api ports itself: with this file webman's Workerman listens on the websocket port first, and the server
  gets constructor arguments it does not understand, so the push process cannot start.
  Replace the file (your settings stay in app.php):
      cp vendor/webman/push/config/plugin/webman/push/process.php config/plugin/webman/push/process.php
bool(true)
bool(true)
bool(true)
