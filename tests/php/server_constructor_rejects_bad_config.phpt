--TEST--
new Server() throws PushException with a clear message for a non-array config, a missing app_key or a bad listen address
--FILE--
<?php
use Webman\Push\Server;
use Webman\Push\PushException;
$base = ['websocket' => 'websocket://127.0.0.1:0', 'api' => 'http://127.0.0.1:0', 'app_key' => 'k', 'app_secret' => 's'];
$attempts = [
    'a string config' => fn() => new Server('websocket://127.0.0.1:3131'),
    'no app_key' => fn() => new Server(array_diff_key($base, ['app_key' => true])),
    'bad websocket address' => fn() => new Server(['websocket' => 'websocket://nowhere'] + $base),
    'bad api address' => fn() => new Server(['api' => 'http://127.0.0.1:notaport'] + $base),
];
foreach ($attempts as $what => $attempt) {
    try {
        $attempt();
        echo "$what: accepted\n";
    } catch (PushException $e) {
        echo "$what: ", $e->getMessage(), "\n";
    }
}
// Nothing was started by the failed constructions, and a good config still works.
$s = new Server($base);
var_dump($s->isRunning());
?>
--EXPECTF--
a string config: %sconfig array%s
no app_key: %sapp_key%s
bad websocket address: %swebsocket://nowhere%s
bad api address: %shttp://127.0.0.1:notaport%s
bool(false)
