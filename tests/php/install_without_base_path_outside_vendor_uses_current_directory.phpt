--TEST--
Without base_path() and with the package outside a vendor directory (a path repository), install() uses the current directory as the project
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$project = make_webman_project();
$package = "$project/packages/push";
mkdir("$project/packages");
rename("$project/vendor/webman/push", $package);
$run = run_installer($project, 'install', ['base_path' => false, 'cwd' => $project, 'package' => $package]);
echo "exit {$run['exit']}\n", $run['output'];
$keys = app_php_keys("$project/config/plugin/webman/push/app.php");
var_dump(preg_match('/\A[0-9a-f]{32}\z/', $keys['app_key']) === 1);
var_dump(str_contains(file_get_contents("$package/config/plugin/webman/push/app.php"), 'APP_KEY_TO_REPLACE'));
?>
--EXPECT--
exit 0
Create config/plugin/webman/push
bool(true)
bool(true)
