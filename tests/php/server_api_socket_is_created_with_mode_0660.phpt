--TEST--
Server::start() with api_socket creates a socket file with permissions 0660 (owner and group may publish), or api_socket_mode's
--FILE--
<?php
require __DIR__ . '/lib/push.php';
require __DIR__ . '/lib/api_socket.php';
$socket = temp_socket_path();
umask(0022); // what bind(2) alone would leave: 0755
$server = start_server(['api_socket' => $socket]);
clearstatcache();
echo filetype($socket), ' ', sprintf('%o', fileperms($socket) & 0777), "\n";
$server->stop();

$server = start_server(['api_socket' => $socket, 'api_socket_mode' => 0600]);
clearstatcache();
echo filetype($socket), ' ', sprintf('%o', fileperms($socket) & 0777), "\n";
$server->stop();
?>
--EXPECT--
socket 660
socket 600
