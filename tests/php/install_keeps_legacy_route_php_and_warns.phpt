--TEST--
install() over a project that has the original PHP webman/push route.php (push.js from vendor/webman/push/src/) keeps it and warns that its push.js route answers 404
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$project = make_webman_project();
$mine = "$project/config/plugin/webman/push";
mkdir($mine, 0777, true);
// The start of webman/push 1.x's route.php.
$legacy = <<<'PHP'
<?php
use support\Request;
use Webman\Route;
use Webman\Push\Api;

/**
 * 推送js客户端文件
 */
Route::get('/plugin/webman/push/push.js', function (Request $request) {
    return response()->file(base_path().'/vendor/webman/push/src/push.js');
});
PHP;
file_put_contents("$mine/route.php", $legacy);

$run = run_installer($project, 'install');
echo "exit {$run['exit']}\n", $run['output'];
var_dump(file_get_contents("$mine/route.php") === $legacy);
?>
--EXPECT--
exit 0
Create config/plugin/webman/push

WARNING: config/plugin/webman/push/route.php is the one of the old PHP webman/push and was kept as it is.
  Its /plugin/webman/push/push.js route serves vendor/webman/push/src/push.js, which this package does not
  have (the browser client is vendor/webman/push/php/push.js), so that route answers 404.
  Replace the file and redo your changes to the auth route in the new one:
      cp vendor/webman/push/config/plugin/webman/push/route.php config/plugin/webman/push/route.php
bool(true)
