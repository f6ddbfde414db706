--TEST--
install() again (a Composer update or reinstall) keeps the project's edited files and its keys, and only restores files that are missing
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$project = make_webman_project();
$mine = "$project/config/plugin/webman/push";
run_installer($project, 'install');
$keys = app_php_keys("$mine/app.php");

// The user edits app.php and process.php, and deletes route.php.
$app = str_replace("'websocket://0.0.0.0:3131'", "'websocket://0.0.0.0:4141'", file_get_contents("$mine/app.php"));
file_put_contents("$mine/app.php", $app);
$process = "<?php\n// my own process config\nreturn [];\n";
file_put_contents("$mine/process.php", $process);
unlink("$mine/route.php");

$run = run_installer($project, 'install');
echo "exit {$run['exit']}\n", $run['output'];
var_dump(file_get_contents("$mine/app.php") === $app);
var_dump(app_php_keys("$mine/app.php") === $keys);
var_dump(file_get_contents("$mine/process.php") === $process);
var_dump(file_get_contents("$mine/route.php") === file_get_contents("$project/vendor/webman/push/config/plugin/webman/push/route.php"));
?>
--EXPECT--
exit 0
Create config/plugin/webman/push
bool(true)
bool(true)
bool(true)
bool(true)
