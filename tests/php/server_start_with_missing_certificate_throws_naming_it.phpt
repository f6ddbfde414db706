--TEST--
Server::start() with an ssl.local_cert that does not exist throws PushException naming the file
--FILE--
<?php
require __DIR__ . '/lib/tls.php';
$pki = make_test_pki();
$server = new Webman\Push\Server(test_config([
    'ssl' => ['local_cert' => "$pki/missing.pem", 'local_pk' => "$pki/server.key"],
]));
try {
    $server->start();
} catch (Webman\Push\PushException $e) {
    var_dump(str_contains($e->getMessage(), "ssl.local_cert $pki/missing.pem"));
}
var_dump($server->isRunning());
?>
--EXPECT--
bool(true)
bool(false)
