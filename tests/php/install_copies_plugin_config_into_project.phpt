--TEST--
install() (run like webman's support\Plugin, without the extension) copies config/plugin/webman/push into the project: process.php and route.php as shipped, app.php with its own keys
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$project = make_webman_project();
$vendor = "$project/vendor/webman/push/config/plugin/webman/push";
$mine = "$project/config/plugin/webman/push";

$run = run_installer($project, 'install');
echo "exit {$run['exit']}\n", $run['output'];

$files = scandir($mine);
echo implode(' ', array_diff($files, ['.', '..'])), "\n";
var_dump(file_get_contents("$mine/process.php") === file_get_contents("$vendor/process.php"));
var_dump(file_get_contents("$mine/route.php") === file_get_contents("$vendor/route.php"));
// app.php is the shipped one with the two placeholders replaced, nothing else changed.
$keys = app_php_keys("$mine/app.php");
var_dump(file_get_contents("$mine/app.php") === str_replace(
    ['APP_KEY_TO_REPLACE', 'APP_SECRET_TO_REPLACE'],
    [$keys['app_key'], $keys['app_secret']],
    file_get_contents("$vendor/app.php")
));
?>
--EXPECT--
exit 0
Create config/plugin/webman/push
app.php process.php route.php
bool(true)
bool(true)
bool(true)
