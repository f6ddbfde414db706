--TEST--
php/bin/webman-push-server with ssl: SIGHUP reloads the certificate (new handshakes see the new one), the server keeps running, SIGTERM still stops it
--SKIPIF--
<?php
if (!function_exists('proc_open')) die('skip proc_open not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/tls.php';
$pki = make_test_pki();
$config = "$pki/app.php";
file_put_contents($config, '<?php return ' . var_export(test_config([
    // Only the signal reloads within this test: the files are not polled.
    'ssl' => ['local_cert' => "$pki/server.pem", 'local_pk' => "$pki/server.key", 'reload_interval' => 3600],
]), true) . ';');
$proc = proc_open(
    [PHP_BINARY, '-d', 'extension=' . extension_path(), launcher_path(), $config],
    [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
    $pipes
);
stream_set_blocking($pipes[2], false);
$err = '';
$deadline = microtime(true) + 10;
while (!preg_match('/listening ws=(\d+) api=\d+ .*\n/', $err, $m) && microtime(true) < $deadline) {
    $r = [$pipes[2]];
    $w = $e = null;
    if (stream_select($r, $w, $e, 0, 100000) > 0) {
        $err .= (string)fread($pipes[2], 8192);
    }
}
if (!$m) {
    echo "no listening line; stderr was:\n$err";
    proc_terminate($proc, SIGKILL);
    exit;
}
$port = (int)$m[1];
var_dump(str_contains($m[0], 'over TLS (wss://)'));
$old = tls_peer_fingerprint($port, "$pki/ca.pem");

issue_test_certificate($pki, 'renewed');
copy("$pki/renewed.key", "$pki/server.key");
copy("$pki/renewed.pem", "$pki/server.pem");
$new = openssl_x509_fingerprint(file_get_contents("$pki/renewed.pem"), 'sha256');
var_dump($new !== $old);
var_dump(tls_peer_fingerprint($port, "$pki/ca.pem") === $old); // not polled: still the old one

proc_terminate($proc, SIGHUP);
$deadline = microtime(true) + 5;
while (($seen = tls_peer_fingerprint($port, "$pki/ca.pem")) !== $new && microtime(true) < $deadline) {
    usleep(20000);
}
var_dump($seen === $new);
var_dump(proc_get_status($proc)['running']);

proc_terminate($proc, SIGTERM);
$t = microtime(true);
while (proc_get_status($proc)['running'] && microtime(true) - $t < 5) {
    usleep(10000);
}
var_dump(proc_get_status($proc)['running']);
proc_close($proc);
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
