--TEST--
Destroying a running Server object stops it: clients get 4200 and the ports are freed
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$port = $server->websocketPort();
$ws = connect_client($port);
unset($server);
var_dump($ws->readClose());
var_dump(port_accepts($port));
?>
--EXPECT--
int(4200)
bool(false)
