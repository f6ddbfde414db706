<?php
/**
 * Who is this visitor? The demo has no sign-in, so every browser gets a random visitor id in a
 * cookie, signed with the app secret so a page cannot claim somebody else's id. A real app takes the
 * user id from its own session instead (see config/plugin/webman/push/route.php).
 */

/** The visitor id from the signed cookie; a new one (and the cookie) when it is missing or forged. */
function demo_visitor_id(array $config): string
{
    $cookie = $_COOKIE['demo_visitor'] ?? '';
    if (is_string($cookie) && preg_match('/\A([0-9a-f]{16})\.([0-9a-f]{64})\z/', $cookie, $m)
        && hash_equals(hash_hmac('sha256', $m[1], $config['app_secret']), $m[2])) {
        return $m[1];
    }
    $id = bin2hex(random_bytes(8));
    $value = $id . '.' . hash_hmac('sha256', $id, $config['app_secret']);
    setcookie('demo_visitor', $value, [
        'expires' => time() + 30 * 86400, 'path' => '/', 'httponly' => true, 'samesite' => 'Lax',
    ]);
    $_COOKIE['demo_visitor'] = $value;
    return $id;
}

/** The display name the page sent: 1 to 32 printable characters, or null. */
function demo_name($raw): ?string
{
    if (!is_string($raw)) {
        return null;
    }
    $name = trim(preg_replace('/[\p{C}\s]+/u', ' ', $raw) ?? '');
    return preg_match('/\A.{1,32}\z/us', $name) ? $name : null; // no mbstring needed
}
