--TEST--
install() and uninstall() run inside the package's own checkout (project root = package root) change nothing: the shipped app.php keeps its placeholders
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$project = make_webman_project();
$package = "$project/vendor/webman/push";
$before = tree_fingerprint($package);
foreach (['install', 'uninstall'] as $action) {
    $run = run_installer($package, $action, ['package' => $package]);
    echo "exit {$run['exit']}\n", $run['output'];
}
var_dump(tree_fingerprint($package) === $before);
?>
--EXPECT--
exit 0
webman/push: the project is the package itself; nothing to install
exit 0
webman/push: the project is the package itself; nothing to uninstall
bool(true)
