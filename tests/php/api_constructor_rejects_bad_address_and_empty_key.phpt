--TEST--
new Api() throws PushException for an address that is not an http(s) URL and for an empty key
--FILE--
<?php
use Webman\Push\Api;
use Webman\Push\PushException;
$attempts = [
    'not a URL' => fn() => new Api('nope', 'key', 'secret'),
    'empty key' => fn() => new Api('http://127.0.0.1:3232', '', 'secret'),
];
foreach ($attempts as $what => $attempt) {
    try {
        $attempt();
        echo "$what: accepted\n";
    } catch (PushException $e) {
        echo "$what: PushException: ", $e->getMessage(), "\n";
    }
}
// A trailing slash is harmless.
var_dump(new Api('http://127.0.0.1:3232/', 'key', 'secret') instanceof Api);
?>
--EXPECTF--
not a URL: PushException: %Snope%S
empty key: PushException: %Sapp_key%S
bool(true)
