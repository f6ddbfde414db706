--TEST--
GET /plugin/webman/push/push.js answers 404 "Not Found" when base_path()/vendor/webman/push/php/push.js does not exist
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
webman_boot(webman_app_config(['app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET]), webman_temp_dir());
$r = webman_request('GET', '/plugin/webman/push/push.js');
echo $r['status'], ' ', $r['body'], "\n";
?>
--EXPECT--
404 Not Found
