--TEST--
CR/LF in Api::get()'s path, a channel or a user id never splits the request: it is percent-encoded or refused with PushException, and the next call on the kept-alive connection gets its own answer
--SKIPIF--
<?php if (!function_exists('pcntl_fork')) die('skip pcntl not available'); ?>
--FILE--
<?php
// A tiny HTTP server in a child process: it answers each request with the request lines it has
// read so far (without their signed query), so an injected header or request would show.
$listener = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
$address = stream_socket_get_name($listener, false);
$server = pcntl_fork();
if ($server === 0) {
    $lines = [];
    $deadline = microtime(true) + 20;
    while (microtime(true) < $deadline && ($socket = @stream_socket_accept($listener, 1))) {
        $buffer = '';
        while (($chunk = fread($socket, 8192)) !== '' && $chunk !== false) {
            $buffer .= $chunk;
            while (($end = strpos($buffer, "\r\n\r\n")) !== false) {
                $head = substr($buffer, 0, $end);
                $length = preg_match('/^content-length:\s*(\d+)/mi', $head, $m) ? (int)$m[1] : 0;
                if (strlen($buffer) < $end + 4 + $length) {
                    break;
                }
                $buffer = substr($buffer, $end + 4 + $length);
                foreach (explode("\r\n", $head) as $line) {
                    if (!preg_match('/^(Host|Content-Type|Content-Length):/', $line)) {
                        $lines[] = preg_replace('/\?auth_key=\S*/', '', $line);
                    }
                }
                $body = json_encode($lines);
                fwrite($socket, "HTTP/1.1 200 OK\r\nContent-Length: " . strlen($body) . "\r\n\r\n$body");
            }
        }
        fclose($socket);
    }
    exit(0);
}
fclose($listener);

$api = new Webman\Push\Api("http://$address", 'key', 'secret');
$attempts = [
    'get' => fn() => $api->get("/channels/a\r\nX-Injected: 1\r\n\r\nGET /smuggled"),
    'get with ?' => fn() => $api->get("/channels?x=1\r\nX-Injected: 1"),
    'getChannelInfo' => fn() => $api->getChannelInfo("b\r\nX-Injected: 1"),
    'terminateUserConnections' => fn() => $api->terminateUserConnections("u\r\nX-Injected: 1"),
];
foreach ($attempts as $name => $attempt) {
    try {
        $attempt();
        echo "$name: sent\n";
    } catch (Webman\Push\PushException $e) {
        echo "$name: PushException: ", json_encode($e->getMessage(), JSON_UNESCAPED_SLASHES), "\n";
    }
}
echo implode("\n", $api->get('/channels')['result']), "\n";

posix_kill($server, SIGKILL);
pcntl_waitpid($server, $status);
?>
--EXPECT--
get: sent
get with ?: PushException: "Invalid path \"/channels?x=1\\r\\nX-Injected: 1\": the path must not contain '?': pass query parameters as $params"
getChannelInfo: PushException: "Invalid channel name b\r\nX-Injected: 1"
terminateUserConnections: sent
GET /apps/1024/channels/a%0D%0AX-Injected:%201%0D%0A%0D%0AGET%20/smuggled HTTP/1.1
POST /apps/1024/users/u%0D%0AX-Injected:%201/terminate_connections HTTP/1.1
GET /apps/1024/channels HTTP/1.1
