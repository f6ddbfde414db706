<?php
/**
 * Helpers of the api_socket tests: a fresh directory for the server's Unix socket, removed at exit.
 */

/** A path for a Unix socket in a new temporary directory (short: sun_path holds 107 bytes). */
function temp_socket_path(): string
{
    $dir = sys_get_temp_dir() . '/wp-php-' . getmypid() . '-' . bin2hex(random_bytes(3));
    mkdir($dir, 0700);
    $main = getmypid();
    register_shutdown_function(static function () use ($dir, $main) {
        if (getmypid() !== $main) {
            return; // a forked child's exit is not the test's end
        }
        foreach (glob("$dir/*") ?: [] as $file) {
            @unlink($file);
        }
        @rmdir($dir);
    });
    return "$dir/push.sock";
}
