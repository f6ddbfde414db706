--TEST--
route.php loads under webman's error handler when app.php has no channel_hook key (webhooks off): the receiver falls back to /plugin/webman/push/hook
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
// The server treats a missing channel_hook as "no webhooks"; an app.php without the line must not stop webman.
$app = webman_app_config(['app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET]);
unset($app['channel_hook']);
try {
    webman_boot($app, webman_temp_dir());
} catch (Throwable $e) {
    echo 'webman fails to load route.php: ', get_class($e), ': ', $e->getMessage(), "\n";
}
foreach (Webman\Route::getRoutes() as $route) {
    echo implode(',', $route->getMethods()), ' ', $route->getPath(), "\n";
}
?>
--EXPECT--
GET /plugin/webman/push/push.js
POST /plugin/webman/push/auth
POST /plugin/webman/push/hook
