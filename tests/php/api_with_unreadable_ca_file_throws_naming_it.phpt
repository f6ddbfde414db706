--TEST--
new Api() with a 'ca_file' that cannot be read throws PushException naming the file
--FILE--
<?php
use Webman\Push\Api;
try {
    new Api('https://127.0.0.1:1', 'k', 's', ['ca_file' => '/nonexistent/ca.pem']);
} catch (Webman\Push\PushException $e) {
    echo $e->getMessage(), "\n";
}
?>
--EXPECTF--
Cannot read ca_file /nonexistent/ca.pem: %s
