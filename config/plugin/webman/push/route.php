<?php
/**
 * Routes of webman/push in the main webman HTTP server (default port 8787):
 *   GET  /plugin/webman/push/push.js   the browser client
 *   POST config('plugin.webman.push.app.auth')          private/presence channel auth (EDIT the marked hooks)
 *   POST path of config('plugin.webman.push.app.channel_hook')   webhook receiver (channel online/offline)
 */

use support\Request;
use Webman\Push\Api;
use Webman\Push\PushException;
use Webman\Route;

/**
 * The browser client (global `Push`), as in the original plugin.
 */
Route::get('/plugin/webman/push/push.js', function (Request $request) {
    $file = base_path() . '/vendor/webman/push/php/push.js';
    if (!is_file($file)) {
        return response('Not Found', 404);
    }
    return response()->withHeader('Content-Type', 'application/javascript; charset=utf-8')->file($file);
});

// ======================= EDIT THESE TWO HOOKS FOR YOUR APP =======================

/**
 * Who is asking: the signed-in user as ['id' => string|int, 'info' => array], or null for a guest.
 * Default: what your login code stored in the session, e.g.
 *     $request->session()->set('push_user', ['id' => $user->id, 'info' => ['name' => $user->name]]);
 * The id and info are what other members of a presence channel see (member_added, presence.hash).
 */
$push_user = function (Request $request): ?array {
    $user = $request->session()->get('push_user');
    return is_array($user) && isset($user['id']) && $user['id'] !== '' ? $user : null;
};

/**
 * May this user subscribe to this private-* or presence-* channel?
 * Default: any signed-in user may join any private/presence channel, guests none.
 * Put your rules here, e.g. only its owner may join "private-user-<id>":
 *     return $user !== null && $channel_name === 'private-user-' . $user['id'];
 * (The original template authorised everybody, signed in or not.)
 */
$has_authority = function (Request $request, string $channel_name, ?array $user): bool {
    return $user !== null;
};

// ==================================================================================

/**
 * Channel auth: the JS client POSTs channel_name and socket_id (form fields or a JSON body) and gets
 * {"auth":"<key>:<signature>"} (plus "channel_data" for presence channels) to subscribe with.
 */
Route::post(config('plugin.webman.push.app.auth'), function (Request $request) use ($push_user, $has_authority) {
    $json_response = function (int $status, string $body) {
        return response($body, $status, ['Content-Type' => 'application/json']);
    };
    $json_body = null;
    $input = function (string $name) use ($request, &$json_body) {
        $value = $request->post($name);
        if ($value === null) {
            $json_body ??= json_decode($request->rawBody(), true);
            $value = is_array($json_body) ? ($json_body[$name] ?? null) : null;
        }
        return is_string($value) && $value !== '' ? $value : null;
    };

    $channel_name = $input('channel_name');
    $socket_id = $input('socket_id');
    if ($channel_name === null || $socket_id === null) {
        return $json_response(400, '{"error":"channel_name and socket_id are required"}');
    }

    $user = $push_user($request);
    $is_presence = str_starts_with($channel_name, 'presence-');
    if (($is_presence && $user === null) || !$has_authority($request, $channel_name, $user)) {
        return $json_response(403, '{"error":"Forbidden"}');
    }

    // Same-host calls go over the server's Unix socket when it has one (api_socket), else over TCP.
    $api_socket = (string)config('plugin.webman.push.app.api_socket', '');
    $pusher = new Api(
        $api_socket !== '' ? 'unix://' . $api_socket : str_replace('0.0.0.0', '127.0.0.1', config('plugin.webman.push.app.api')),
        config('plugin.webman.push.app.app_key'),
        config('plugin.webman.push.app.app_secret')
    );
    try {
        $auth = $is_presence
            ? $pusher->presenceAuth($channel_name, $socket_id, $user['id'], $user['info'] ?? null)
            : $pusher->socketAuth($channel_name, $socket_id);
    } catch (PushException $e) {
        // An invalid channel name or socket_id.
        return $json_response(400, json_encode(['error' => $e->getMessage()], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
    }
    return $json_response(200, $auth);
});

/**
 * Webhook receiver: the push server POSTs here when a channel goes online (first subscriber) or offline
 * (last one left, after webhook_delay seconds). Replace the echo lines with your own handling,
 * e.g. store the online state in a database.
 */
Route::post(parse_url((string)config('plugin.webman.push.app.channel_hook', ''), PHP_URL_PATH) ?: '/plugin/webman/push/hook', function (Request $request) {
    $body = $request->rawBody();
    $signature = $request->header('x-pusher-signature');
    $key = $request->header('x-pusher-key');
    $expected = hash_hmac('sha256', $body, (string)config('plugin.webman.push.app.app_secret'));
    // A request without the right key and signature was not sent by the push server.
    if (!is_string($signature) || !is_string($key) || !hash_equals($expected, $signature)
        || !hash_equals((string)config('plugin.webman.push.app.app_key'), $key)) {
        return response('401 Not authenticated', 401);
    }

    $payload = json_decode($body, true);
    if (!is_array($payload) || !is_array($payload['events'] ?? null)) {
        return response('400 Bad Request', 400);
    }
    $channels_online = $channels_offline = [];
    foreach ($payload['events'] as $event) {
        $name = $event['name'] ?? '';
        if ($name === 'channel_added' || $name === 'channel_occupied') {
            $channels_online[] = $event['channel'] ?? '';
        } elseif ($name === 'channel_removed' || $name === 'channel_vacated') {
            $channels_offline[] = $event['channel'] ?? '';
        }
    }

    // Channels that now have subscribers.
    echo 'online channels: ' . implode(',', $channels_online) . "\n";
    // Channels whose subscribers all left.
    echo 'offline channels: ' . implode(',', $channels_offline) . "\n";

    return 'OK';
});
