<?php
/**
 * A webman/Workerman custom process in miniature, for the workerman_* tests: what webman does with
 * config/plugin/webman/push/process.php, without webman or Workerman installed.
 *
 *  - the master evaluates process.php with webman's config() (here a stub that answers the app.php array);
 *  - it forks the worker (pcntl_fork), like Workerman's forkOneWorker;
 *  - the worker does what webman's worker_start()/worker_bind() do: the error handler of webman's
 *    support/bootstrap.php (every notice/warning becomes an ErrorException), then
 *    `new $handler(...array_values($constructor))` (webman's default container) and
 *    `$handler->onWorkerStart($worker)`;
 *  - its event loop is Workerman's Select loop reduced to signals: pcntl_signal handlers, dispatched with
 *    pcntl_signal_dispatch() between stream_select() calls. SIGUSR1/SIGUSR2 (reload) only run
 *    onWorkerReload for a process with reloadable => false; SIGINT/SIGTERM/SIGHUP/SIGQUIT stop it:
 *    `$worker->onWorkerStop($worker)`, then exit(0). The master SIGKILLs a worker that is still there after
 *    Worker::$stopTimeout = 2 s.
 *
 * The worker reports to the master over a socket pair, one line per step.
 */

require_once __DIR__ . '/push.php';

/** Answers of the stub config(): key => value, 'plugin.webman.push.app' => the app.php array. */
$GLOBALS['webman_test_config'] = [];

if (!function_exists('config')) {
    /** webman's config($key, $default): dotted keys into the loaded config files. */
    function config(?string $key = null, $default = null)
    {
        $all = $GLOBALS['webman_test_config'];
        if ($key === null) {
            return $all;
        }
        if (array_key_exists($key, $all)) {
            return $all[$key];
        }
        foreach ($all as $prefix => $value) {
            if (is_array($value) && str_starts_with($key, "$prefix.")) {
                $rest = substr($key, strlen($prefix) + 1);
                return array_key_exists($rest, $value) ? $value[$rest] : $default;
            }
        }
        return $default;
    }
}

/** The repository's config/plugin/webman/push/process.php, evaluated with config() answering $app. */
function load_process_config(array $app): array
{
    $GLOBALS['webman_test_config'] = ['plugin.webman.push.app' => $app];
    return require dirname(__DIR__, 3) . '/config/plugin/webman/push/process.php';
}

/** What Workerman hands to the callbacks: a Worker with the process settings (only the fields used here). */
final class MiniWorker
{
    public string $name;
    public int $count = 1;
    public bool $reloadable = true;
    /** @var callable|null */
    public $onWorkerStop = null;
    /** @var callable|null */
    public $onWorkerReload = null;

    public function __construct(string $name, array $config)
    {
        $this->name = $name;
        $this->count = (int)($config['count'] ?? 1);
        $this->reloadable = (bool)($config['reloadable'] ?? true);
    }
}

/**
 * Forks the worker of process $name with its process.php entry $config. Returns [pid, socket to read the
 * worker's report lines from]. The worker reports "ports <ws> <api>" once started.
 */
function fork_push_worker(string $name, array $config): array
{
    [$toMaster, $fromWorker] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
    $pid = pcntl_fork();
    if ($pid === -1) {
        throw new RuntimeException('pcntl_fork failed');
    }
    if ($pid === 0) {
        fclose($fromWorker);
        $code = 1;
        try {
            $code = run_push_worker($name, $config, $toMaster);
        } catch (Throwable $e) {
            @fwrite($toMaster, 'worker error: ' . get_class($e) . ': ' . $e->getMessage() . "\n");
        } finally {
            // Never return into the test script in the child.
            exit($code);
        }
    }
    fclose($toMaster);
    stream_set_timeout($fromWorker, 10);
    return [$pid, $fromWorker];
}

/** The worker process: webman's worker_start() onWorkerStart callback, then Workerman's loop. */
function run_push_worker(string $name, array $config, $toMaster): int
{
    $report = fn (string $line) => fwrite($toMaster, $line . "\n");
    $worker = new MiniWorker($name, $config);

    // Workerman's signal handlers (installed before onWorkerStart, like Worker::reinstallSignal).
    $stopBy = null;
    foreach ([SIGINT, SIGTERM, SIGHUP, SIGQUIT] as $signal) {
        pcntl_signal($signal, function (int $signal) use (&$stopBy) {
            $stopBy = $signal;
        });
    }
    foreach ([SIGUSR1, SIGUSR2] as $signal) {
        pcntl_signal($signal, function (int $signal) use ($worker, $report) {
            if ($worker->onWorkerReload) {
                ($worker->onWorkerReload)($worker);
            }
            // A non-reloadable process keeps running (Worker::reload() in a child: only resetStd()).
            $report($worker->reloadable ? 'reload: would stop' : 'reload: ignored, still running');
        });
    }
    pcntl_signal(SIGPIPE, SIG_IGN);

    // webman's support/bootstrap.php: any reported PHP error becomes an exception.
    set_error_handler(function ($level, $message, $file = '', $line = 0) {
        if (error_reporting() & $level) {
            throw new ErrorException($message, 0, $level, $file, $line);
        }
        return false;
    });
    error_reporting(E_ALL);

    // webman's worker_start(): Container::make($handler, $constructor), then worker_bind().
    $handler = $config['handler'];
    $instance = new $handler(...array_values($config['constructor'] ?? []));
    foreach (['onWorkerStop', 'onWorkerReload'] as $callback) {
        if (method_exists($instance, $callback)) {
            $worker->$callback = [$instance, $callback];
        }
    }
    $instance->onWorkerStart($worker);
    $report('ports ' . $instance->websocketPort() . ' ' . $instance->apiPort());

    // Workerman's Select loop: wait on sockets (none here), dispatch signals in between.
    while ($stopBy === null) {
        $read = [$toMaster];
        $write = $except = [];
        @stream_select($read, $write, $except, 0, 200000);
        pcntl_signal_dispatch();
    }

    // Worker::stopAll() in a child: Worker::stop() runs onWorkerStop, then exit.
    $stopped = $worker->onWorkerStop ? ($worker->onWorkerStop)($worker) : null;
    $report('stopped by signal ' . $stopBy . ', onWorkerStop returned ' . var_export($stopped, true)
        . ', running ' . var_export($instance->isRunning(), true));
    return 0;
}

/** The next report line of the worker (null when none arrives within the stream's timeout). */
function worker_says($fromWorker): ?string
{
    $line = fgets($fromWorker);
    return $line === false ? null : rtrim($line, "\n");
}
