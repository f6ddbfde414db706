<?php
// Writes bench/results.md (to stdout) from the step outputs bench/run.sh saved in bench/results/.
// Usage: php bench/summarize.php bench/results > bench/results.md

$dir = rtrim($argv[1] ?? __DIR__ . '/results', '/');
$steps = ['connections', 'fanout20', 'fanoutmax', 'fanoutmax1', 'fanoutmax16', 'fanout10k', 'fanout10k1', 'api', 'api64', 'php', 'php_unix', 'churn', 'storm', 'soak', 'api8', 'api_original', 'api8_floor', 'php_floor', 'php_unix_floor'];

/** @return array{head: array<string,string>, json: ?array, text: string}|null */
function load_step(string $file): ?array
{
    if (!is_file($file)) {
        return null;
    }
    $head = [];
    $json = null;
    $text = [];
    foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
        if (preg_match('/^# ([a-z ]+): (.*)$/', $line, $m)) {
            $head[$m[1]] = $m[2];
        } elseif (str_starts_with($line, '{"scenario"')) {
            $json = json_decode($line, true);
        } else {
            $text[] = $line;
        }
    }
    return ['head' => $head, 'json' => $json, 'text' => implode("\n", $text)];
}

function load_of(array $head, string $key): string
{
    return preg_match('/load average: ([0-9.]+)/', $head[$key] ?? '', $m) ? $m[1] : '?';
}

function n($v, int $dec = 0): string
{
    return is_numeric($v) ? number_format((float)$v, $dec, '.', ',') : '–';
}

function verdict(?bool $ok): string
{
    return $ok === null ? 'not run' : ($ok ? '**met**' : '**not met**');
}

$r = [];
foreach ($steps as $s) {
    $r[$s] = load_step("$dir/$s.txt");
}
$j = fn(string $s) => $r[$s]['json'] ?? null;

$rows = [];
if ($c = $j('connections')) {
    $held = $c['established'] == $c['connections'] && $c['dropped'] == 0 && $c['check_received'] == $c['established'];
    $rows[] = ["{$c['connections']} subscribed connections held, no drops",
        n($c['established']) . " held {$c['held_seconds']} s, {$c['dropped']} dropped, check event reached " . n($c['check_received']),
        verdict($held)];
    $rows[] = ['server RSS per connection ≤ 5 KB',
        n($c['server_rss_bytes_per_connection']) . ' B (' . n($c['server_rss_kib_before']) . ' → ' . n($c['server_rss_kib_connected']) . ' KiB)',
        verdict($c['server_rss_bytes_per_connection'] <= 5000)];
} else {
    $rows[] = ['19,000 connections held / RSS per connection', '', verdict(null)];
}
foreach (['fanoutmax', 'fanoutmax1', 'fanoutmax16'] as $s) {
    if ($f = $j($s)) {
        $rows[] = ["fan-out 1,000 subs, max rate ({$f['window']} in flight): ≥ 500,000 deliveries per server-CPU-s",
            n($f['deliveries_per_server_cpu_s']) . ' (' . n($f['deliveries_per_sec']) . ' deliveries/s, server CPU ' . $f['server_cpu_s'] . ' s; p99 publish→last ' . $f['latency_last']['p99_ms'] . ' ms)',
            verdict($f['deliveries_per_server_cpu_s'] >= 500000)];
    }
}
if ($f = $j('fanout20')) {
    $rows[] = ['fan-out 1,000 subs, 20 events/s: ≥ 200,000 deliveries per server-CPU-s',
        n($f['deliveries_per_server_cpu_s']) . ' (server CPU ' . $f['server_cpu_s'] . ' s for ' . n($f['deliveries']) . ' deliveries)',
        verdict($f['deliveries_per_server_cpu_s'] >= 200000)];
    $rows[] = ['fan-out 1,000 subs, 20 events/s: p99 publish→last delivery ≤ 3 ms',
        $f['latency_last']['p99_ms'] . ' ms (p50 ' . $f['latency_last']['p50_ms'] . ', max ' . $f['latency_last']['max_ms'] . ')',
        verdict($f['latency_last']['p99_ms'] <= 3)];
}
foreach (['fanout10k', 'fanout10k1'] as $s) {
    if ($f = $j($s)) {
        $rows[] = [n($f['subscribers']) . " subs, max rate ({$f['window']} in flight): p99 ≤ 30 ms (publish→last delivery)",
            $f['latency_last']['p99_ms'] . ' ms (each delivery p99 ' . $f['latency_each']['p99_ms'] . ' ms; ' . n($f['deliveries_per_server_cpu_s']) . ' deliveries per server-CPU-s)',
            verdict($f['latency_last']['p99_ms'] <= 30)];
    }
}
foreach (['api', 'api64'] as $s) {
    if (!($a = $j($s))) {
        continue;
    }
    $rows[] = ['signed HTTP publishes ≥ 100,000 per server-CPU-s (keep-alive)',
        n($a['publishes_per_server_cpu_s']) . ' (' . n($a['publishes_per_sec']) . '/s over ' . $a['publishers'] . ' connections)',
        verdict($a['publishes_per_server_cpu_s'] >= 100000)];
}
// Issue 21: the same 8-connection run against webman-push and the original (bench/run.sh api8 api_original).
$a8 = $j('api8');
$ao = $j('api_original');
foreach ([[$a8, 'webman-push'], [$ao, 'the original webman/push (Workerman worker process)']] as [$a, $who]) {
    if ($a) {
        $rows[] = ["signed HTTP publishes over {$a['publishers']} keep-alive connections, $who",
            n($a['publishes_per_server_cpu_s']) . ' per server-CPU-s (' . n($a['publishes_per_sec']) . '/s, server CPU ' . $a['server_cpu_s'] . ' s)',
            ''];
    }
}
if ($a8 && $ao) {
    $ratio = $a8['publishes_per_server_cpu_s'] / max(1, $ao['publishes_per_server_cpu_s']);
    $sameSitting = abs(strtotime($r['api8']['head']['date'] ?? '') - strtotime($r['api_original']['head']['date'] ?? '')) < 3600;
    $rows[] = ['signed publishes per server-CPU-s ≥ 2.5× the original\'s (8 connections, one sitting)',
        round($ratio, 2) . '× (' . n($a8['publishes_per_server_cpu_s']) . ' / ' . n($ao['publishes_per_server_cpu_s']) . ')' . ($sameSitting ? '' : '; **not the same sitting**'),
        verdict($ratio >= 2.5)];
}
// The floors: the same clients against push-bench floor-server, which answers without doing anything.
if ($af = $j('api8_floor')) {
    $rows[] = ["signed HTTP publishes over {$af['publishers']} keep-alive connections, **floor**: a one-thread answerer doing no work",
        n($af['publishes_per_server_cpu_s']) . ' per server-CPU-s' . ($ao ? ' = ' . round($af['publishes_per_server_cpu_s'] / max(1, $ao['publishes_per_server_cpu_s']), 2) . '× the original' : ''),
        ''];
}
if (($pf = $j('php_floor')) && ($uf = $j('php_unix_floor'))) {
    $rows[] = ['`Api::trigger` from one PHP process, **floor**: against an answerer doing no work (polling without sleep)',
        'TCP ' . n($pf['calls_per_sec']) . ', Unix socket ' . n($uf['calls_per_sec']) . ' calls/s = ' . round($uf['calls_per_sec'] / max(1, $pf['calls_per_sec']), 2) . '×',
        ''];
}
if ($p = $j('php')) {
    $rows[] = ['`Api::trigger` ≥ 40,000 calls/s from one PHP process',
        n($p['calls_per_sec']) . ' calls/s (' . n($p['ok']) . '/' . n($p['calls']) . ' true; PHP CPU ' . $p['php_cpu_s'] . ' s in ' . $p['seconds'] . ' s)',
        verdict($p['calls_per_sec'] >= 40000)];
}
if (($p = $j('php')) && ($u = $j('php_unix'))) {
    $rows[] = ['`Api::trigger` over the Unix socket ≥ 1.5× over TCP (one PHP process)',
        n($u['calls_per_sec']) . ' calls/s (' . n($u['ok']) . '/' . n($u['calls']) . ' true; PHP CPU ' . $u['php_cpu_s'] . ' s) = '
        . round($u['calls_per_sec'] / max(1, $p['calls_per_sec']), 2) . '× TCP',
        verdict($u['calls_per_sec'] >= 1.5 * $p['calls_per_sec'])];
}
if ($c = $j('churn')) {
    $rows[] = ["memory flat (no growth over 5%) over {$c['rounds']} rounds of " . n($c['connections']) . ' connect/disconnect',
        "connected {$c['growth_connected_pct']}%, disconnected {$c['growth_disconnected_pct']}% (round 1 → {$c['rounds']})",
        verdict($c['target_met'])];
}

if ($s = $j('storm')) {
    $rows[] = [n($s['connections']) . ' clients reconnecting at once after a restart (listen backlog ' . ($s['listen_backlog'] ?? '?') . '): all subscribed again',
        n($s['resubscribed']) . " in {$s['all_resubscribed_s']} s from the restart ({$s['all_resubscribed_after_listening_s']} s after the new server listened); per client p50 "
            . n($s['per_client_since_drop']['p50_ms']) . ' / p99 ' . n($s['per_client_since_drop']['p99_ms']) . ' ms; ' . n($s['retries']) . ' retries (refused '
            . n($s['refused']) . ', reset ' . n($s['reset']) . ', timed out ' . n($s['timed_out']) . '), ' . n($s['connects_over_1s'])
            . ' connects > 1 s; new server peak RSS ' . n($s['new_server_rss_kib_hwm']) . ' KiB',
        verdict($s['target_met'])];
}
if ($s = $j('soak')) {
    $rows[] = ['churn soak ' . n($s['duration_s'] / 60, 0) . ' min at ' . n($s['rate']) . ' cycles/s: RSS and fds flat within 5 %',
        "RSS {$s['rss_last_drift_pct']}% at the end, max {$s['rss_max_drift_pct']}% (from " . n($s['rss_first_steady_kib']) . ' KiB after ' . $s['warmup_s'] . ' s); fds '
            . "{$s['fds_before']} before, {$s['fds_after_drain']} after; " . n($s['completed']) . ' cycles, ' . n($s['failed']) . ' failed',
        verdict($s['target_met'])];
}

$machine = is_file("$dir/machine.txt") ? trim(file_get_contents("$dir/machine.txt")) : '?';

echo "# Benchmark results (issue 8)\n\n";
echo "Generated by `bench/run.sh` (then `php bench/summarize.php bench/results`); the raw output of every step is in\n";
echo "`bench/results/<step>.txt`. Do not edit this file by hand: notes belong in `bench/notes.md`, which is included below.\n\n";
echo "## Machine\n\n```\n$machine\n```\n\n";
echo "Client (push-bench) and server share the machine's cores, so absolute rates are capped by the client;\n";
echo "the per-server-CPU-second figures (server utime+stime from /proc/PID/stat) are what compare.\n\n";
echo "## Results against the targets\n\n";
echo "| target | measured | |\n|---|---|---|\n";
foreach ($rows as [$what, $got, $v]) {
    echo "| $what | $got | $v |\n";
}
echo "\n## Steps\n\n";
foreach ($steps as $s) {
    if (!$r[$s]) {
        continue;
    }
    $h = $r[$s]['head'];
    echo "### $s\n\n";
    echo "- date: " . ($h['date'] ?? '?') . "; load average (1 min) before " . load_of($h, 'uptime') . ", after " . load_of($h, 'uptime after') . " (after includes the step itself)\n";
    echo "- server: `" . ($h['server'] ?? '?') . "` at commit " . ($h['commit'] ?? '?') . "\n";
    echo "- command: `" . ($h['command'] ?? '?') . "`\n\n";
    echo "```\n" . trim($r[$s]['text']) . "\n```\n\n";
    if ($r[$s]['json']) {
        echo "<details><summary>JSON</summary>\n\n```json\n" . json_encode($r[$s]['json'], JSON_UNESCAPED_SLASHES) . "\n```\n</details>\n\n";
    }
}
if (is_file("$dir/floor.txt")) {
    $floor = load_step("$dir/floor.txt");
    echo "## A simple sender's cost: one loopback send\n\n";
    echo "`" . ($floor['head']['command'] ?? '') . "` (" . ($floor['head']['date'] ?? '') . ", load " . load_of($floor['head'], 'uptime') . "):\n";
    echo "what one 70-byte TCP send over loopback costs the sender (kernel receive path included, as on loopback it\n";
    echo "runs in the sender's context) and the reader, with no server involved. A reference point, not a strict floor:\n";
    echo "the sender is CPython and the reader one process (bench/notes.md, fifth round).\n\n";
    echo "```\n" . trim($floor['text']) . "\n```\n\n";
}
if (is_file("$dir/profile.txt")) {
    echo "## Where the server spends CPU\n\n";
    $pc = preg_match('/^# commit: (.*)$/m', file_get_contents("$dir/profile.txt"), $m) ? $m[1] : '?';
    echo "Raw profiles (`bench/run.sh profile`, commit $pc): self time is where the CPU is spent, inclusive time what it\n";
    echo "is spent under. perf's DWARF unwinding inflates the server's CPU time while it samples, so the rates printed\n";
    echo "with the profiles are lower than the measurements above.\n\n";
    foreach (preg_split('/^### /m', file_get_contents("$dir/profile.txt")) as $i => $section) {
        if ($i === 0) {
            continue; // the step header
        }
        [$title, $body] = explode("\n", $section, 2) + [1 => ''];
        echo "### Profile: $title\n\n```\n" . trim($body) . "\n```\n\n";
    }
}
if (is_file(__DIR__ . '/notes.md')) {
    echo trim(file_get_contents(__DIR__ . '/notes.md')) . "\n";
}
