--TEST--
GET /plugin/webman/push/push.js serves the package's push.js from base_path()/vendor/webman/push/php/ with a JavaScript Content-Type
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/webman_standins.php';
$base = webman_temp_dir();
// The project as Composer installs the package: vendor/webman/push/php/push.js.
mkdir("$base/vendor/webman/push/php", 0777, true);
copy(webman_package_root() . '/php/push.js', "$base/vendor/webman/push/php/push.js");
webman_boot(webman_app_config(['app_key' => TEST_APP_KEY, 'app_secret' => TEST_APP_SECRET]), $base);

$r = webman_request('GET', '/plugin/webman/push/push.js');
echo $r['status'], "\n";
// What the browser is told it loads: JavaScript (webman's mime type for .js, or the type the route sets).
var_dump((bool)preg_match('#^(application|text)/javascript\b#', $r['headers']['Content-Type']));
var_dump($r['body'] === file_get_contents(webman_package_root() . '/php/push.js'));
// Only GET is routed.
echo webman_request('POST', '/plugin/webman/push/push.js')['status'], "\n";
?>
--EXPECT--
200
bool(true)
bool(true)
404
