--TEST--
Api calls reuse one kept-alive connection per process; after fork() the child opens its own and the parent keeps using its own
--SKIPIF--
<?php if (!function_exists('pcntl_fork')) die('skip pcntl not available'); ?>
--FILE--
<?php
// A tiny HTTP server in a child process: every answer names the connection it came on.
$listener = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
$address = stream_socket_get_name($listener, false);
$server = pcntl_fork();
if ($server === 0) {
    $clients = [];
    $next = 1;
    $deadline = microtime(true) + 20;
    while (microtime(true) < $deadline) {
        $read = array_merge([$listener], array_column($clients, 'socket'));
        $write = $except = null;
        if (stream_select($read, $write, $except, 0, 200000) < 1) {
            continue;
        }
        foreach ($read as $socket) {
            if ($socket === $listener) {
                $clients[] = ['socket' => stream_socket_accept($listener), 'id' => $next++, 'buffer' => ''];
                continue;
            }
            foreach ($clients as $i => &$client) {
                if ($client['socket'] !== $socket) {
                    continue;
                }
                $chunk = fread($socket, 8192);
                if ($chunk === '' || $chunk === false) {
                    fclose($socket);
                    unset($clients[$i]);
                    break;
                }
                $client['buffer'] .= $chunk;
                while (($end = strpos($client['buffer'], "\r\n\r\n")) !== false) {
                    $client['buffer'] = substr($client['buffer'], $end + 4);
                    $body = json_encode(['connection' => $client['id']]);
                    fwrite($socket, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " . strlen($body) . "\r\n\r\n$body");
                }
                break;
            }
            unset($client);
        }
    }
    exit(0);
}
fclose($listener);

$api = new Webman\Push\Api("http://$address", 'key', 'secret');
$connection = fn() => $api->get('/channels')['result']['connection'];

echo "parent: ", $connection(), " then ", $connection(), "\n";
$child = pcntl_fork();
if ($child === 0) {
    echo "child: ", $connection(), " then ", $connection(), "\n";
    exit(0);
}
pcntl_waitpid($child, $status);
echo "parent again: ", $connection(), "\n";

posix_kill($server, SIGKILL);
pcntl_waitpid($server, $status);
?>
--EXPECT--
parent: 1 then 1
child: 2 then 2
parent again: 1
