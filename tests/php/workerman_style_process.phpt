--TEST--
The push server as webman's custom process plugin.webman.push.server: started by onWorkerStart in a forked worker it serves, a reload signal leaves it serving, SIGTERM runs onWorkerStop and the worker exits within Workerman's 2 s stop timeout
--SKIPIF--
<?php
if (!function_exists('pcntl_fork')) die('skip pcntl not available');
if (!function_exists('posix_kill')) die('skip posix not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/webman_worker.php';

// The master: webman reads process.php with config('plugin.webman.push.app') = app.php.
$app = test_config();
$process = load_process_config($app)['server'];
echo 'handler ', $process['handler'], ', count ', $process['count'], ', reloadable ', var_export($process['reloadable'], true), "\n";

[$pid, $worker] = fork_push_worker('plugin.webman.push.server', $process);
$line = worker_says($worker);
if (!preg_match('/^ports (\d+) (\d+)$/', (string)$line, $m)) {
    echo 'worker did not start: ', var_export($line, true), "\n", wait_child($pid, 5), "\n";
    exit;
}
[, $wsPort, $apiPort] = $m;

// A browser-like client and the Api, as the application uses them.
$client = connect_client((int)$wsPort);
echo subscribe($client, 'news'), "\n";
$api = new Webman\Push\Api("http://127.0.0.1:$apiPort", $app['app_key'], $app['app_secret']);
var_dump($api->trigger('news', 'headline', ['n' => 1]));
echo $client->readMessage(), "\n";

// `php start.php reload`: the master sends SIGUSR1 to the non-reloadable process too.
posix_kill($pid, SIGUSR1);
echo worker_says($worker), "\n";
var_dump(pcntl_waitpid($pid, $status, WNOHANG)); // 0: still running
var_dump($api->trigger('news', 'headline', ['n' => 2]));
echo $client->readMessage(), "\n";
$late = connect_client((int)$wsPort);
echo subscribe($late, 'news'), "\n";

// Stop: onWorkerStop closes the clients (4200) and the worker exits before the master would SIGKILL it.
posix_kill($pid, SIGTERM);
var_dump($client->readClose());
echo worker_says($worker), "\n";
echo wait_child($pid, 2.0), "\n";
var_dump(port_accepts((int)$wsPort), port_accepts((int)$apiPort));
?>
--EXPECT--
handler Webman\Push\Server, count 1, reloadable false
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"news"}
bool(true)
{"event":"headline","data":"{\"n\":1}","channel":"news"}
reload: ignored, still running
int(0)
bool(true)
{"event":"headline","data":"{\"n\":2}","channel":"news"}
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"news"}
int(4200)
stopped by signal 15, onWorkerStop returned true, running false
exit 0
bool(false)
bool(false)
