--TEST--
install() replaces APP_KEY_TO_REPLACE and APP_SECRET_TO_REPLACE in the project's app.php with random 32-hex values, different in every installation
--FILE--
<?php
require __DIR__ . '/lib/webman_project.php';
$first = make_webman_project();
$second = make_webman_project();
run_installer($first, 'install');
run_installer($second, 'install');
$a = app_php_keys("$first/config/plugin/webman/push/app.php");
$b = app_php_keys("$second/config/plugin/webman/push/app.php");
foreach ([$a, $b] as $keys) {
    var_dump(preg_match('/\A[0-9a-f]{32}\z/', $keys['app_key']) === 1);
    var_dump(preg_match('/\A[0-9a-f]{32}\z/', $keys['app_secret']) === 1);
    var_dump($keys['app_key'] !== $keys['app_secret']);
}
echo "keys differ between installations: ", var_export($a['app_key'] !== $b['app_key'], true), "\n";
echo "secrets differ between installations: ", var_export($a['app_secret'] !== $b['app_secret'], true), "\n";
$code = file_get_contents("$first/config/plugin/webman/push/app.php");
var_dump(str_contains($code, '_TO_REPLACE'));
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
keys differ between installations: true
secrets differ between installations: true
bool(false)
