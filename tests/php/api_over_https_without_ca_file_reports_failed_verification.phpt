--TEST--
Api over https:// to a self-signed server without 'ca_file' keeps verification on: false, and lastError() says why
--FILE--
<?php
require __DIR__ . '/lib/tls.php';
use Webman\Push\Api;
$pki = make_test_pki();
$server = start_tls_server($pki);
$address = 'https://127.0.0.1:' . $server->apiPort();
$api = new Api($address, TEST_APP_KEY, TEST_APP_SECRET);
var_dump($api->trigger('news', 'greeting', ['n' => 1]));
var_dump($api->get('/channels')['status']);
$error = $api->lastError();
var_dump(str_starts_with($error, "TLS certificate verification failed for $address"));
var_dump(str_contains($error, "'ca_file'"));
$server->stop();
?>
--EXPECT--
bool(false)
int(0)
bool(true)
bool(true)
