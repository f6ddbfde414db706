--TEST--
Without webman's base_path() (plain Composer), install() and uninstall() work on the project that holds the vendor directory, whatever the current directory
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$project = make_webman_project();
$options = ['base_path' => false, 'cwd' => sys_get_temp_dir()];
$run = run_installer($project, 'install', $options);
echo "exit {$run['exit']}\n", $run['output'];
$keys = app_php_keys("$project/config/plugin/webman/push/app.php");
var_dump(preg_match('/\A[0-9a-f]{32}\z/', $keys['app_key']) === 1);
var_dump(file_exists(sys_get_temp_dir() . '/config/plugin/webman/push/app.php'));
$run = run_installer($project, 'uninstall', $options);
echo "exit {$run['exit']}\n", $run['output'];
var_dump(file_exists("$project/config/plugin/webman/push"));
?>
--EXPECT--
exit 0
Create config/plugin/webman/push
bool(true)
bool(false)
exit 0
Remove config/plugin/webman/push
bool(false)
