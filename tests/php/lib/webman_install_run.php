<?php
/**
 * Child process of run_installer() (lib/webman_project.php): what webman's support\Plugin does when Composer
 * installs or removes the package. Argument: a JSON job {project, action, base_path, cwd, package}.
 * Exit 3 if the webman_push extension is loaded: the installer must work without it.
 */
$job = json_decode($argv[1], true);
if (extension_loaded('webman_push')) {
    fwrite(STDERR, "the extension is loaded, the installer must be tested without it\n");
    exit(3);
}
if ($job['base_path']) {
    // webman's helpers.php defines base_path() (support\Plugin loads it before calling the installer).
    define('TEST_PROJECT_ROOT', $job['project']);
    function base_path($path = ''): string
    {
        return $path === '' || $path === false ? TEST_PROJECT_ROOT : TEST_PROJECT_ROOT . '/' . ltrim($path, '/');
    }
}
chdir($job['cwd']);

// Composer's PSR-4 autoloading of the package: "Webman\\Push\\" => "php/src/".
spl_autoload_register(function (string $class) use ($job) {
    $prefix = 'Webman\\Push\\';
    if (strncmp($class, $prefix, strlen($prefix)) === 0) {
        $file = $job['package'] . '/php/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

// support\Plugin::install()/uninstall() for the package's PSR-4 namespace.
$namespace = 'Webman\\Push\\';
if (!defined("\\{$namespace}Install::WEBMAN_PLUGIN")) {
    fwrite(STDERR, "{$namespace}Install::WEBMAN_PLUGIN is not defined: webman would skip the package\n");
    exit(2);
}
if ($job['action'] === 'install') {
    call_user_func("\\{$namespace}Install::install", true);
} else {
    call_user_func("\\{$namespace}Install::uninstall");
}
