<?php
/**
 * Shared helpers of the PHP tests: a server on free loopback ports, a browser-like client that
 * has completed the Pusher handshake, and small process utilities. Everything is real: the
 * extension's Server, its Api over HTTP, and raw WebSocket frames.
 */

require_once __DIR__ . '/ws_client.php';

use Webman\Push\Api;
use Webman\Push\Server;

const TEST_APP_KEY = 'test-app-key';
const TEST_APP_SECRET = 'test-app-secret';

/**
 * A config shaped like webman's config/plugin/webman/push/app.php, on ports the kernel picks.
 * No channel_hook: these tests have no webhook receiver (webhooks are the webhook tests' business).
 */
function test_config(array $overrides = []): array
{
    return $overrides + [
        'enable' => true,
        'websocket' => 'websocket://127.0.0.1:0',
        'api' => 'http://127.0.0.1:0',
        'app_key' => TEST_APP_KEY,
        'app_secret' => TEST_APP_SECRET,
        'auth' => '/plugin/webman/push/auth',
        // run-tests.php compares stderr too: the server's info lines (started, stopped) are the
        // log tests' business (tests/node/server_log.test.mjs), not every test's expected output.
        'log_level' => 'warn',
    ];
}

function start_server(array $overrides = []): Server
{
    $server = new Server(test_config($overrides));
    $server->start();
    return $server;
}

function api_for(Server $server, string $secret = TEST_APP_SECRET): Api
{
    return new Api('http://127.0.0.1:' . $server->apiPort(), TEST_APP_KEY, $secret);
}

/** A loopback port nothing listens on right now (bound by the kernel, then released). */
function free_port(): int
{
    $s = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
    if ($s === false) {
        throw new RuntimeException("cannot bind a probe socket: $errstr");
    }
    $name = stream_socket_get_name($s, false);
    fclose($s);
    return (int)substr($name, strrpos($name, ':') + 1);
}

/** True when a TCP connection to 127.0.0.1:$port is accepted. */
function port_accepts(int $port): bool
{
    $s = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 2);
    if ($s === false) {
        return false;
    }
    fclose($s);
    return true;
}

/**
 * Connects like pusher-js and reads the pusher:connection_established frame.
 * Sets $socketId; throws when the greeting does not arrive.
 */
function connect_client(int $port, ?string &$socketId = null, string $key = TEST_APP_KEY): WsClient
{
    $ws = WsClient::connect($port, "/app/$key?protocol=7&client=js&version=8.4.0&flash=false");
    if ($ws->status !== 101) {
        throw new RuntimeException('handshake refused: ' . $ws->statusLine);
    }
    $hello = $ws->readJson();
    if (($hello['event'] ?? null) !== 'pusher:connection_established') {
        throw new RuntimeException('expected connection_established, got ' . json_encode($hello));
    }
    $socketId = json_decode($hello['data'], true)['socket_id'];
    return $ws;
}

/** Subscribes to a public channel and returns the raw subscription_succeeded frame. */
function subscribe(WsClient $ws, string $channel): ?string
{
    $ws->sendJson(['event' => 'pusher:subscribe', 'data' => ['channel' => $channel]]);
    return $ws->readMessage();
}

/**
 * Waits for a child process to end, at most $timeout seconds (then kills it with SIGKILL).
 * Returns a description: "exit 0", "exit N", "signal N" or "killed after timeout".
 */
function wait_child(int $pid, float $timeout): string
{
    $deadline = microtime(true) + $timeout;
    while (microtime(true) < $deadline) {
        $r = pcntl_waitpid($pid, $status, WNOHANG);
        if ($r === $pid) {
            if (pcntl_wifexited($status)) {
                return 'exit ' . pcntl_wexitstatus($status);
            }
            if (pcntl_wifsignaled($status)) {
                return 'signal ' . pcntl_wtermsig($status);
            }
            return 'status ' . $status;
        }
        if ($r === -1) {
            return 'waitpid failed';
        }
        usleep(10000);
    }
    posix_kill($pid, SIGKILL);
    pcntl_waitpid($pid, $status);
    return 'killed after timeout';
}

/** The path of the loaded webman_push shared object (to start other PHP processes with it). */
function extension_path(): string
{
    foreach (file('/proc/self/maps') ?: [] as $line) {
        if (preg_match('#\s(/\S*webman_push\S*\.so)$#', trim($line), $m)) {
            return $m[1];
        }
    }
    throw new RuntimeException('cannot find the loaded webman_push extension in /proc/self/maps');
}

/** The standalone launcher shipped with the package. */
function launcher_path(): string
{
    return dirname(__DIR__, 3) . '/php/bin/webman-push-server';
}
