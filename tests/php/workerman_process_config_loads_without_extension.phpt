--TEST--
config/plugin/webman/push/process.php evaluated as webman does (config() answering app.php) in a PHP without the extension (the master, `php start.php stop`) does not fail and names the handler as a string only
--FILE--
<?php
$root = dirname(__DIR__, 2);
// A separate `php -n` process: no ini, no extension, only webman's config() (stubbed) defined.
$script = <<<'PHP'
$root = $argv[1];
$app = require "$root/config/plugin/webman/push/app.php";
function config($key = null, $default = null) {
    global $app;
    if ($key === 'plugin.webman.push.app') return $app;
    if (str_starts_with((string)$key, 'plugin.webman.push.app.')) return $app[substr($key, 23)] ?? $default;
    return $default;
}
$process = require "$root/config/plugin/webman/push/process.php";
echo 'extension loaded: ', var_export(extension_loaded('webman_push'), true), "\n";
echo 'server class exists: ', var_export(class_exists('Webman\Push\Server', false), true), "\n";
$server = $process['server'];
echo 'handler: ', $server['handler'], "\n";
echo 'count: ', $server['count'], ', reloadable: ', var_export($server['reloadable'], true), "\n";
echo 'listen: ', var_export($server['listen'] ?? null, true), "\n";
echo 'constructor: ', implode(', ', array_keys($server['constructor'])), "\n";
echo 'constructor config is app.php: ', var_export(array_values($server['constructor'])[0] === $app, true), "\n";
PHP;
$proc = proc_open(
    [PHP_BINARY, '-n', '-d', 'display_errors=stderr', '-r', $script, $root],
    [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
    $pipes
);
$out = stream_get_contents($pipes[1]);
$err = stream_get_contents($pipes[2]);
$exit = proc_close($proc);
echo $out, "exit $exit\n", 'stderr: ', var_export($err, true), "\n";
?>
--EXPECT--
extension loaded: false
server class exists: false
handler: Webman\Push\Server
count: 1, reloadable: false
listen: NULL
constructor: config
constructor config is app.php: true
exit 0
stderr: ''
