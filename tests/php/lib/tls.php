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
    $ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    file_put_contents("$dir/ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    foreach ([
        "openssl req -x509 $ec -keyout ca.key -out ca.pem -days 1 -subj /CN=webman-push-phpt-CA",
        "openssl req $ec -keyout server.key -out server.csr -subj /CN=127.0.0.1",
        'openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile ext.cnf',
    ] as $command) {
        exec('cd ' . escapeshellarg($dir) . " && $command 2>/dev/null", $out, $status);
        if ($status !== 0) {
            throw new RuntimeException("openssl failed: $command");
        }
    }
    register_shutdown_function(fn () => exec('rm -rf ' . escapeshellarg($dir)));
    return $dir;
}

/** A started server whose WebSocket listener is wss:// and whose API is https://. */
function start_tls_server(string $pki, array $overrides = []): Server
{
    return start_server($overrides + [
        'api' => 'https://127.0.0.1:0',
        'ssl' => ['local_cert' => "$pki/server.pem", 'local_pk' => "$pki/server.key"],
    ]);
}
