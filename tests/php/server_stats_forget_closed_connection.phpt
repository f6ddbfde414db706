--TEST--
Server::stats() drops a connection, its subscription and its empty channel once the client closes
--FILE--
<?php
require __DIR__ . '/lib/push.php';
$server = start_server();
$ws = connect_client($server->websocketPort());
subscribe($ws, 'user-1');
echo json_encode($server->stats()['connections']), "\n";
$ws->close();
// The server learns of the close asynchronously: poll, bounded.
$deadline = microtime(true) + 5;
do {
    $stats = $server->stats();
    if ($stats['connections'] === 0 && $stats['subscriptions'] === 0 && $stats['channels'] === 0) {
        break;
    }
    usleep(20000);
} while (microtime(true) < $deadline);
ksort($stats);
echo json_encode($stats), "\n";
$server->stop();
?>
--EXPECT--
1
{"channels":0,"cluster_publish_dropped":0,"cluster_publish_failed":0,"connections":0,"presence_members":0,"subscriptions":0,"webhooks_delivered":0,"webhooks_dropped":0,"webhooks_dropped_events":0,"webhooks_pending_bytes":0,"webhooks_queued":0}
