--TEST--
install(), a second install() and uninstall() leave every file of vendor/webman/push unchanged (the keys go into the project's copy only)
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$project = make_webman_project();
$vendor = "$project/vendor/webman/push";
$before = tree_fingerprint($vendor);
foreach (['install', 'install', 'uninstall'] as $action) {
    $run = run_installer($project, $action);
    echo "$action: exit {$run['exit']}, vendor unchanged: ", var_export(tree_fingerprint($vendor) === $before, true), "\n";
}
$app = file_get_contents("$vendor/config/plugin/webman/push/app.php");
var_dump(str_contains($app, "'APP_KEY_TO_REPLACE'"), str_contains($app, "'APP_SECRET_TO_REPLACE'"));
?>
--EXPECT--
install: exit 0, vendor unchanged: true
install: exit 0, vendor unchanged: true
uninstall: exit 0, vendor unchanged: true
bool(true)
bool(true)
