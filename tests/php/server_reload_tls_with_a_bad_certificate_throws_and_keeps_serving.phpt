--TEST--
Server::reloadTls() with a broken certificate file throws PushException naming it; the old certificate keeps serving
--FILE--
<?php
require __DIR__ . '/lib/tls.php';
use Webman\Push\Api;
$pki = make_test_pki();
$server = start_tls_server($pki, ['ssl' => ['local_cert' => "$pki/server.pem", 'local_pk' => "$pki/server.key", 'reload_interval' => 3600]]);
$server->reloadTls();
echo "good reload\n";
file_put_contents("$pki/server.pem", "not a certificate\n");
try {
    $server->reloadTls();
} catch (Webman\Push\PushException $e) {
    var_dump(str_contains($e->getMessage(), "ssl.local_cert $pki/server.pem"));
}
$api = new Api('https://127.0.0.1:' . $server->apiPort(), TEST_APP_KEY, TEST_APP_SECRET, ['ca_file' => "$pki/ca.pem"]);
var_dump($api->trigger('news', 'greeting', ['n' => 1]));
$server->stop();
?>
--EXPECT--
good reload
bool(true)
bool(true)
