--TEST--
`php start.php stop` (Workerman's master sends SIGINT to each worker): the push worker runs onWorkerStop, its clients get close 4200 and it exits within the 2 s stop timeout
--SKIPIF--
<?php
if (!function_exists('pcntl_fork')) die('skip pcntl not available');
if (!function_exists('posix_kill')) die('skip posix not available');
?>
--FILE--
<?php
require __DIR__ . '/lib/webman_worker.php';
$process = load_process_config(test_config())['server'];
[$pid, $worker] = fork_push_worker('plugin.webman.push.server', $process);
$line = worker_says($worker);
if (!preg_match('/^ports (\d+) (\d+)$/', (string)$line, $m)) {
    echo 'worker did not start: ', var_export($line, true), "\n", wait_child($pid, 5), "\n";
    exit;
}
$client = connect_client((int)$m[1]);
echo subscribe($client, 'news'), "\n";

posix_kill($pid, SIGINT);
var_dump($client->readClose());
echo worker_says($worker), "\n";
echo wait_child($pid, 2.0), "\n";
var_dump(port_accepts((int)$m[1]));
?>
--EXPECT--
{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"news"}
int(4200)
stopped by signal 2, onWorkerStop returned true, running false
exit 0
bool(false)
