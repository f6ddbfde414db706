--TEST--
An Api built with unix:// and the server's api_socket serves every method that calls the server: trigger, triggerBatch, getChannelInfo, getChannels, getPresenceUsers, get, post, sendToUser, terminateUserConnections
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/api_socket.php';
$socket = temp_socket_path();
// No TCP API a call could fall back to: port 0 is bound, but nobody is told which.
$server = start_server(['api_socket' => $socket]);
$api = new Webman\Push\Api("unix://$socket", TEST_APP_KEY, TEST_APP_SECRET);

$ws = connect_client($server->websocketPort(), $socketId);
subscribe($ws, 'news');
$ws->sendJson(['event' => 'pusher:subscribe', 'data' => ['channel' => 'presence-room']
    + json_decode($api->presenceAuth('presence-room', $socketId, 'u1', ['name' => 'Ann']), true)]);
echo json_decode($ws->readMessage(), true)['event'], "\n";
$ws->sendJson(['event' => 'pusher:signin', 'data' => json_decode($api->authenticateUser($socketId, ['id' => 'u1']), true)]);
echo json_decode($ws->readMessage(), true)['event'], "\n";
// What pusher-js does after signing in: it receives sendToUser() events on this channel.
echo json_decode(subscribe($ws, '#server-to-user-u1'), true)['event'], "\n";

echo "trigger: ", json_encode($api->trigger('news', 'a', 1)), ' ', $ws->readMessage(), "\n";
echo "triggerBatch: ", json_encode($api->triggerBatch([['channel' => 'news', 'name' => 'b', 'data' => 2]])), ' ', $ws->readMessage(), "\n";
echo "getChannelInfo: ", json_encode($api->getChannelInfo('news', ['info' => 'subscription_count'])), "\n";
$channels = array_keys($api->getChannels()['result']['channels']);
sort($channels);
echo "getChannels: ", implode(' ', $channels), "\n";
echo "getPresenceUsers: ", json_encode($api->getPresenceUsers('presence-room')), "\n";
echo "get: ", json_encode($api->get('/channels/presence-room', ['info' => 'user_count'])['result']), "\n";
echo "post: ", $api->post('/events', ['name' => 'c', 'channel' => 'news', 'data' => '3'])['status'], ' ', $ws->readMessage(), "\n";
echo "sendToUser: ", json_encode($api->sendToUser('u1', 'd', 4)), ' ', $ws->readMessage(), "\n";
echo "terminateUserConnections: ", json_encode($api->terminateUserConnections('u1')), ' close ', $ws->readClose(), "\n";
$server->stop();
?>
--EXPECT--
pusher_internal:subscription_succeeded
pusher:signin_success
pusher_internal:subscription_succeeded
trigger: true {"event":"a","data":"1","channel":"news"}
triggerBatch: true {"event":"b","data":"2","channel":"news"}
getChannelInfo: {"occupied":true,"subscription_count":1}
getChannels: #server-to-user-u1 news presence-room
getPresenceUsers: {"users":[{"id":"u1"}]}
get: {"occupied":true,"user_count":1}
post: 200 {"event":"c","data":"3","channel":"news"}
sendToUser: true {"event":"d","data":"4","channel":"#server-to-user-u1"}
terminateUserConnections: true close 4009
