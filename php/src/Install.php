<?php

namespace Webman\Push;

/**
 * webman plugin installer: webman's `support\Plugin` (Composer post-package-install / post-package-update /
 * pre-package-uninstall scripts of the webman skeleton) calls install() and uninstall() because of
 * WEBMAN_PLUGIN.
 *
 * install() copies the package's config/plugin/webman/push/ into the project without overwriting files the
 * project already has, then gives the project's app.php a random app_key and app_secret. The package itself
 * (vendor/webman/push) is never written to. uninstall() removes the project's config/plugin/webman/push/.
 *
 * Plain PHP only: this runs inside Composer, where the webman_push extension is usually not loaded.
 */
class Install
{
    const WEBMAN_PLUGIN = true;

    /**
     * Source (relative to the package root) => destination (relative to the project root).
     * @var array<string, string>
     */
    protected static $pathRelation = [
        'config/plugin/webman/push' => 'config/plugin/webman/push',
    ];

    /** The placeholders of the package's app.php and what replaces them in the project's copy. */
    protected const KEY_PLACEHOLDER = 'APP_KEY_TO_REPLACE';
    protected const SECRET_PLACEHOLDER = 'APP_SECRET_TO_REPLACE';

    /**
     * Install (webman calls it as install(true); an update without update() calls install(false)).
     * @return void
     */
    public static function install()
    {
        if (static::projectIsPackage()) {
            echo "webman/push: the project is the package itself; nothing to install\n";
            return;
        }
        // Look at the project's files before copying: a legacy file must be reported, not silently kept.
        $legacy = static::legacyFiles();
        static::installByRelation();
        static::replacePlaceholderKeys();
        foreach ($legacy as $warning) {
            echo $warning;
        }
    }

    /**
     * Uninstall: removes the project's config/plugin/webman/push/ (edits included, as webman/push always did).
     * @return void
     */
    public static function uninstall()
    {
        if (static::projectIsPackage()) {
            echo "webman/push: the project is the package itself; nothing to uninstall\n";
            return;
        }
        static::uninstallByRelation();
    }

    /**
     * Copies every $pathRelation source into the project; files that exist there already are kept.
     * @return void
     */
    public static function installByRelation()
    {
        foreach (static::$pathRelation as $source => $dest) {
            $from = static::packagePath() . '/' . $source;
            $to = static::projectPath() . '/' . $dest;
            if (!is_dir(dirname($to))) {
                mkdir(dirname($to), 0777, true);
            }
            static::copyWithoutOverwriting($from, $to);
            echo "Create $dest\n";
        }
    }

    /**
     * Removes every $pathRelation destination from the project.
     * @return void
     */
    public static function uninstallByRelation()
    {
        foreach (static::$pathRelation as $dest) {
            $path = static::projectPath() . '/' . $dest;
            if (!is_link($path) && !file_exists($path)) {
                continue;
            }
            echo "Remove $dest\n";
            static::remove($path);
        }
    }

    /**
     * The project root: webman's base_path() when webman's helpers are loaded (support\Plugin loads them);
     * otherwise the directory that holds the vendor directory this package sits in; otherwise the current
     * directory (Composer runs scripts in the project root).
     */
    protected static function projectPath(): string
    {
        if (function_exists('base_path')) {
            return rtrim((string)base_path(), '/\\');
        }
        $vendor = dirname(static::packagePath(), 2); // <project>/vendor/webman/push
        if (basename($vendor) === 'vendor' && is_dir(dirname($vendor))) {
            return dirname($vendor);
        }
        return rtrim((string)getcwd(), '/\\');
    }

    /** The package root (this file is php/src/Install.php). */
    protected static function packagePath(): string
    {
        return dirname(__DIR__, 2);
    }

    /** True when install runs in the package's own checkout: it must then never touch its files. */
    protected static function projectIsPackage(): bool
    {
        $project = realpath(static::projectPath());
        return $project !== false && $project === realpath(static::packagePath());
    }

    /**
     * Gives the project's app.php its own random app_key and app_secret (32 hex characters each) when it still
     * has the placeholders. A project app.php without them (already installed, or edited) stays as it is.
     */
    protected static function replacePlaceholderKeys(): void
    {
        $file = static::projectPath() . '/config/plugin/webman/push/app.php';
        $code = is_file($file) ? file_get_contents($file) : false;
        if (!is_string($code)
            || (strpos($code, self::KEY_PLACEHOLDER) === false && strpos($code, self::SECRET_PLACEHOLDER) === false)) {
            return;
        }
        $code = str_replace(
            [self::KEY_PLACEHOLDER, self::SECRET_PLACEHOLDER],
            [bin2hex(random_bytes(16)), bin2hex(random_bytes(16))],
            $code
        );
        file_put_contents($file, $code, LOCK_EX);
    }

    /**
     * Warnings for project files left by the original PHP webman/push that install keeps (it never
     * overwrites) but that do not work with this package.
     * @return string[]
     */
    protected static function legacyFiles(): array
    {
        $dir = static::projectPath() . '/config/plugin/webman/push';
        $package = static::displayPath(static::packagePath() . '/config/plugin/webman/push');
        $warnings = [];

        $process = static::codeWithoutComments("$dir/process.php");
        if ($process !== null && static::isLegacyProcessConfig($process)) {
            $warnings[] = <<<TEXT

WARNING: config/plugin/webman/push/process.php is the one of the old PHP webman/push and was kept as it is.
  It gives the push process a 'listen' address (websocket://...) and passes api_listen/app_info to
  Webman\\Push\\Server. The push server is now the webman_push extension, which binds the websocket and the
  api ports itself: with this file webman's Workerman listens on the websocket port first, and the server
  gets constructor arguments it does not understand, so the push process cannot start.
  Replace the file (your settings stay in app.php):
      cp $package/process.php config/plugin/webman/push/process.php

TEXT;
        }

        $route = static::codeWithoutComments("$dir/route.php");
        if ($route !== null && strpos($route, '/vendor/webman/push/src/push.js') !== false) {
            $warnings[] = <<<TEXT

WARNING: config/plugin/webman/push/route.php is the one of the old PHP webman/push and was kept as it is.
  Its /plugin/webman/push/push.js route serves vendor/webman/push/src/push.js, which this package does not
  have (the browser client is vendor/webman/push/php/push.js), so that route answers 404.
  Replace the file and redo your changes to the auth route in the new one:
      cp $package/route.php config/plugin/webman/push/route.php

TEXT;
        }
        return $warnings;
    }

    /**
     * The original process.php: `'listen' => ...websocket...` for its Workerman-based Server, constructed with
     * `api_listen` and `app_info`. This package's process.php has neither.
     */
    protected static function isLegacyProcessConfig(string $code): bool
    {
        $namesServer = preg_match('/Push\\\\Server\b|\bServer::class\b/', $code) === 1;
        $listens = preg_match('/[\'"]listen[\'"]\s*=>/', $code) === 1;
        $oldConstructor = preg_match('/[\'"](api_listen|app_info)[\'"]\s*=>/', $code) === 1;
        return $namesServer && ($listens || $oldConstructor);
    }

    /** The PHP source of $file without its comments (null when it is missing or unreadable). */
    protected static function codeWithoutComments(string $file): ?string
    {
        $code = is_file($file) ? file_get_contents($file) : false;
        if (!is_string($code)) {
            return null;
        }
        if (!function_exists('token_get_all')) {
            return $code;
        }
        $out = '';
        foreach (token_get_all($code) as $token) {
            if (is_array($token)) {
                if ($token[0] === T_COMMENT || $token[0] === T_DOC_COMMENT) {
                    continue;
                }
                $out .= $token[1];
            } else {
                $out .= $token;
            }
        }
        return $out;
    }

    /** $path relative to the project when it is inside it (vendor/webman/push/...), else absolute. */
    protected static function displayPath(string $path): string
    {
        $project = realpath(static::projectPath());
        $real = realpath($path) ?: $path;
        if ($project !== false && strpos($real, $project . '/') === 0) {
            return substr($real, strlen($project) + 1);
        }
        return $real;
    }

    /** copy -r that keeps every destination file that exists already (webman's copy_dir($s, $d, false)). */
    protected static function copyWithoutOverwriting(string $source, string $dest): void
    {
        if (is_dir($source)) {
            if (!is_dir($dest)) {
                mkdir($dest, 0777, true);
            }
            foreach (scandir($source) ?: [] as $name) {
                if ($name !== '.' && $name !== '..') {
                    static::copyWithoutOverwriting("$source/$name", "$dest/$name");
                }
            }
        } elseif (is_file($source) && !file_exists($dest) && !is_link($dest)) {
            copy($source, $dest);
        }
    }

    /** rm -r that deletes symbolic links themselves, never what they point to. */
    protected static function remove(string $path): void
    {
        if (is_link($path) || !is_dir($path)) {
            unlink($path);
            return;
        }
        foreach (scandir($path) ?: [] as $name) {
            if ($name !== '.' && $name !== '..') {
                static::remove("$path/$name");
            }
        }
        rmdir($path);
    }
}
