--TEST--
Api over https:// with the 'ca_file' option trusts a self-signed CA: trigger() and get() are answered
--FILE--
<?php
require __DIR__ . '/lib/tls.php';
use Webman\Push\Api;
$pki = make_test_pki();
$server = start_tls_server($pki);
$api = new Api('https://127.0.0.1:' . $server->apiPort(), TEST_APP_KEY, TEST_APP_SECRET, ['ca_file' => "$pki/ca.pem"]);
var_dump($api->trigger('news', 'greeting', ['n' => 1]));
var_dump($api->get('/channels')['status']);
var_dump($api->lastError());
$server->stop();
?>
--EXPECT--
bool(true)
int(200)
NULL
