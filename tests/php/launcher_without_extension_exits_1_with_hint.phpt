--TEST--
php/bin/webman-push-server run without the extension (php -n) exits 1 and tells how to load it
--SKIPIF--
<?php
if (!function_exists('proc_open')) die('skip proc_open not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$proc = proc_open(
    [PHP_BINARY, '-n', launcher_path(), '/nonexistent/app.php'],
    [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
    $pipes
);
$stdout = stream_get_contents($pipes[1]);
$stderr = stream_get_contents($pipes[2]);
echo 'exit ', proc_close($proc), "\n";
echo 'stdout: ', var_export($stdout, true), "\n";
echo $stderr;
?>
--EXPECTF--
exit 1
stdout: ''
webman-push: the webman_push extension is not loaded.
%A%Sextension=%A
