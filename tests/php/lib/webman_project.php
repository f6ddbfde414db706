<?php
/**
 * Helpers of the install tests: a temporary webman-shaped project whose vendor/webman/push is a copy of
 * this repository's package files (config/ and php/src/), and a runner that calls Webman\Push\Install the way
 * webman's support\Plugin does from Composer: in a separate `php -n` process, without the extension.
 */

/** The repository root (the package). */
function package_root(): string
{
    return dirname(__DIR__, 3);
}

/**
 * Creates a project directory: start.php, composer.json, config/, and vendor/webman/push with copies of the
 * package's composer.json, config/ and php/src/. Removed again at the end of the test.
 */
function make_webman_project(): string
{
    $dir = sys_get_temp_dir() . '/webman-push-install-' . getmypid() . '-' . bin2hex(random_bytes(4));
    mkdir("$dir/config", 0777, true);
    file_put_contents("$dir/start.php", "<?php\n// webman's start script\n");
    file_put_contents("$dir/composer.json", "{\"require\": {\"webman/push\": \"*\"}}\n");
    $package = "$dir/vendor/webman/push";
    copy_tree(package_root() . '/config', "$package/config");
    copy_tree(package_root() . '/php/src', "$package/php/src");
    copy(package_root() . '/composer.json', "$package/composer.json");
    register_shutdown_function('remove_tree', $dir);
    return $dir;
}

/**
 * Runs Webman\Push\Install::install() or ::uninstall() for $project in `php -n` (no extension, no ini).
 * Options: base_path (bool, default true: define webman's base_path() returning the project), cwd (the
 * working directory, default '/'), package (where the package is, default $project/vendor/webman/push).
 * Returns ['exit' => int, 'output' => stdout and stderr].
 */
function run_installer(string $project, string $action, array $options = []): array
{
    $options += ['base_path' => true, 'cwd' => '/', 'package' => "$project/vendor/webman/push"];
    $job = json_encode(['project' => $project, 'action' => $action] + $options);
    $proc = proc_open(
        [PHP_BINARY, '-n', __DIR__ . '/webman_install_run.php', $job],
        [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]],
        $pipes
    );
    $output = stream_get_contents($pipes[1]);
    fclose($pipes[1]);
    $exit = proc_close($proc);
    return ['exit' => $exit, 'output' => $output];
}

/** ['app_key' => …, 'app_secret' => …] of an app.php (it is a plain `return [...]`). */
function app_php_keys(string $file): array
{
    $config = require $file;
    return ['app_key' => $config['app_key'], 'app_secret' => $config['app_secret']];
}

/** Every file below $dir (relative path => sha1 of its content), sorted: equal arrays = identical trees. */
function tree_fingerprint(string $dir): array
{
    $out = [];
    $it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($dir, FilesystemIterator::SKIP_DOTS));
    foreach ($it as $file) {
        $out[substr($file->getPathname(), strlen($dir) + 1)] = sha1_file($file->getPathname());
    }
    ksort($out);
    return $out;
}

function copy_tree(string $from, string $to): void
{
    if (is_dir($from)) {
        if (!is_dir($to)) {
            mkdir($to, 0777, true);
        }
        foreach (scandir($from) as $name) {
            if ($name !== '.' && $name !== '..') {
                copy_tree("$from/$name", "$to/$name");
            }
        }
    } else {
        copy($from, $to);
    }
}

function remove_tree(string $path): void
{
    if (is_link($path) || is_file($path)) {
        unlink($path);
        return;
    }
    if (!is_dir($path)) {
        return;
    }
    foreach (scandir($path) as $name) {
        if ($name !== '.' && $name !== '..') {
            remove_tree("$path/$name");
        }
    }
    rmdir($path);
}
