--TEST--
Server::stats() counts an open connection, its channel and its subscription
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$stats = $server->stats();
ksort($stats);
var_dump($stats);
$ws = connect_client($server->websocketPort());
subscribe($ws, 'user-1');
$stats = $server->stats();
ksort($stats);
var_dump($stats);
$server->stop();
?>
--EXPECT--
array(11) {
  ["channels"]=>
  int(0)
  ["cluster_publish_dropped"]=>
  int(0)
  ["cluster_publish_failed"]=>
  int(0)
  ["connections"]=>
  int(0)
  ["presence_members"]=>
  int(0)
  ["subscriptions"]=>
  int(0)
  ["webhooks_delivered"]=>
  int(0)
  ["webhooks_dropped"]=>
  int(0)
  ["webhooks_dropped_events"]=>
  int(0)
  ["webhooks_pending_bytes"]=>
  int(0)
  ["webhooks_queued"]=>
  int(0)
}
array(11) {
  ["channels"]=>
  int(1)
  ["cluster_publish_dropped"]=>
  int(0)
  ["cluster_publish_failed"]=>
  int(0)
  ["connections"]=>
  int(1)
  ["presence_members"]=>
  int(0)
  ["subscriptions"]=>
  int(1)
  ["webhooks_delivered"]=>
  int(0)
  ["webhooks_dropped"]=>
  int(0)
  ["webhooks_dropped_events"]=>
  int(0)
  ["webhooks_pending_bytes"]=>
  int(0)
  ["webhooks_queued"]=>
  int(0)
}
