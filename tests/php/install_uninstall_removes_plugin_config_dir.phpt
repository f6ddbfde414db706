--TEST--
uninstall() removes the project's config/plugin/webman/push (edits and added files included) and nothing else; without it, uninstall() does nothing
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$project = make_webman_project();
run_installer($project, 'install');
file_put_contents("$project/config/plugin/webman/push/notes.txt", "mine\n");
mkdir("$project/config/plugin/webman/other", 0777, true);
file_put_contents("$project/config/plugin/webman/other/app.php", "<?php return [];\n");

$run = run_installer($project, 'uninstall');
echo "exit {$run['exit']}\n", $run['output'];
var_dump(file_exists("$project/config/plugin/webman/push"));
var_dump(is_file("$project/config/plugin/webman/other/app.php"));
var_dump(is_file("$project/vendor/webman/push/config/plugin/webman/push/app.php"));

$run = run_installer($project, 'uninstall');
echo "again: exit {$run['exit']}, output ", var_export($run['output'], true), "\n";
?>
--EXPECT--
exit 0
Remove config/plugin/webman/push
bool(false)
bool(true)
bool(true)
again: exit 0, output ''
