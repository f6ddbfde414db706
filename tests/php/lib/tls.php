<?php
/**
 * TLS helpers of the PHP tests: a test CA and a server certificate for 127.0.0.1, made with
 * Debian's openssl in a fresh temporary directory at test time (no key is ever committed).
 */

require_once __DIR__ . '/push.php';

use Webman\Push\Server;

/** Creates ca.pem, server.pem and server.key in a new directory and returns its path. */
function make_test_pki(): string
{
    $dir = sys_get_temp_dir() . '/webman-push-phpt-tls-' . getmypid() . '-' . bin2hex(random_bytes(4));
    mkdir($dir);
    file_put_contents("$dir/ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    $ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    run_openssl($dir, "openssl req -x509 $ec -keyout ca.key -out ca.pem -days 1 -subj /CN=webman-push-phpt-CA");
    issue_test_certificate($dir, 'server');
    register_shutdown_function(fn () => exec('rm -rf ' . escapeshellarg($dir)));
    return $dir;
}

/** Issues another certificate for 127.0.0.1 from the test CA in $dir: $name.pem and $name.key. */
function issue_test_certificate(string $dir, string $name): void
{
    $ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    run_openssl($dir, "openssl req $ec -keyout $name.key -out $name.csr -subj /CN=127.0.0.1");
    run_openssl($dir, "openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $name.pem -days 1 -extfile ext.cnf");
}

function run_openssl(string $dir, string $command): void
{
    exec('cd ' . escapeshellarg($dir) . " && $command 2>/dev/null", $out, $status);
    if ($status !== 0) {
        throw new RuntimeException("openssl failed: $command");
    }
}

/** A started server whose WebSocket listener is wss:// and whose API is https://. */
function start_tls_server(string $pki, array $overrides = []): Server
{
    return start_server($overrides + [
        'api' => 'https://127.0.0.1:0',
        'ssl' => ['local_cert' => "$pki/server.pem", 'local_pk' => "$pki/server.key"],
    ]);
}

/** SHA-256 fingerprint of the certificate a TLS server on 127.0.0.1:$port presents, trusting $caFile. */
function tls_peer_fingerprint(int $port, string $caFile): string
{
    $context = stream_context_create(['ssl' => [
        'cafile' => $caFile,
        'peer_name' => '127.0.0.1',
        'capture_peer_cert' => true,
    ]]);
    $s = stream_socket_client("ssl://127.0.0.1:$port", $errno, $errstr, 5, STREAM_CLIENT_CONNECT, $context);
    if ($s === false) {
        throw new RuntimeException("TLS connect to $port failed: $errstr");
    }
    $cert = stream_context_get_params($s)['options']['ssl']['peer_certificate'];
    fclose($s);
    return openssl_x509_fingerprint($cert, 'sha256');
}
