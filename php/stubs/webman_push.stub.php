<?php
/**
 * IDE and static-analysis stubs of the webman_push PHP extension (the classes are native: this file is never
 * loaded at run time, and must not be: the classes exist as soon as the extension is loaded).
 *
 * PhpStorm picks it up from vendor/webman/push/php/stubs/; PHPStan: `stubFiles: [vendor/webman/push/php/stubs/webman_push.stub.php]`;
 * Psalm: `<stubs><file name="vendor/webman/push/php/stubs/webman_push.stub.php"/></stubs>`.
 *
 * The native signatures (parameter names, defaults, `mixed` types, return types) are exactly what
 * `php --re webman_push` reports; tests/php/stubs_match_reflection.phpt keeps them in step. The @param and
 * @return tags give the precise types.
 */

namespace Webman\Push;

/**
 * Thrown for invalid arguments (a bad channel name or socket id, a bad config) and for a server that cannot
 * start (e.g. a port in use). Keeps Exception's constructor, so applications may throw it too.
 */
class PushException extends \Exception
{
}

/**
 * The server-side client of the push server's HTTP API (Pusher signing) and the auth-endpoint helpers.
 *
 * The webman/push methods keep their names, parameters and results; the methods pusher-http-php users expect
 * (triggerBatch, sendToUser, authorizeChannel, ...) are there too. Event `$data` is always encoded with PHP's
 * json_encode(JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), a string included (as webman/push does):
 * `'hi'` arrives at clients as the data string `"hi"` in quotes.
 *
 * HTTP failures never throw: they return false (or a `status` other than 200).
 */
class Api
{
    /**
     * @param string $api_address The HTTP API's base URL, e.g. `http://127.0.0.1:3232` (trailing slash allowed),
     *        or the server's `api_socket` on this host as `unix:///path/to/webman-push.sock`.
     * @param string $app_key     The app's key (config `app_key`).
     * @param string $app_secret  The app's secret (config `app_secret`).
     * @param array{timeout?: int|float, app_id?: string|int, encryption_master_key_base64?: string, ca_file?: string}|null $options
     *        `timeout`: seconds per request (default 2); `app_id`: the id in /apps/{id}/... (default '1024');
     *        `encryption_master_key_base64`: 32 bytes, base64, for private-encrypted- channels;
     *        `ca_file`: PEM CA certificate(s) trusted for https:// instead of the public roots (self-signed setups).
     * @throws PushException When the address is not http(s):// or unix:///, the key or secret is empty, an option
     *         is invalid, or ca_file cannot be read (the message names the file).
     */
    public function __construct(mixed $api_address, mixed $app_key, mixed $app_secret, mixed $options = null)
    {
    }

    /**
     * Why the last request got no answer (it returned false or status 0), e.g. "TLS certificate
     * verification failed for https://...: ..."; null when the last request was answered.
     */
    public function lastError(): ?string
    {
    }

    /**
     * Publishes an event on one channel or on a list of channels.
     *
     * @param string|string[] $channels
     * @param string $event
     * @param mixed $data Any JSON-encodable value; always json_encode'd (a string too).
     * @param string|array{socket_id?: string, info?: string|string[]}|null $socket_id
     *        webman/push's `$socket_id` (that connection does not receive the event), or pusher-http-php's
     *        params array with `socket_id` and/or `info` (e.g. 'subscription_count,user_count').
     * @return bool|\stdClass True when the server accepted the event, false otherwise (unreachable included);
     *         with `info`, the decoded answer (`->channels->{name}->subscription_count` ...) or false.
     * @throws PushException When an argument cannot be used (e.g. a nested channel list, unencodable data).
     */
    public function trigger(mixed $channels, mixed $event, mixed $data, mixed $socket_id = null): mixed
    {
    }

    /**
     * Publishes several events in one request (the server accepts up to `max_batch_size`, default 10).
     *
     * @param array<int, array{channel: string, name: string, data: mixed, socket_id?: string, info?: string}> $batch
     * @param bool|null $already_encoded True: every `data` is already a string and is sent as it is.
     * @return bool|\stdClass True when accepted, false otherwise; with any `info`, the decoded answer
     *         (`->batch[i]->subscription_count` ...) or false.
     * @throws PushException When $batch is not a list of arrays.
     */
    public function triggerBatch(mixed $batch, ?bool $already_encoded = null): mixed
    {
    }

    /**
     * Sends an event to every connection signed in (pusher:signin) as `$user_id`.
     *
     * @param string|int $user_id
     * @param string $event
     * @param mixed $data Any JSON-encodable value; always json_encode'd.
     * @return bool True when the server accepted the event.
     */
    public function sendToUser(mixed $user_id, mixed $event, mixed $data): mixed
    {
    }

    /**
     * Closes every connection signed in as `$user_id`.
     *
     * @param string|int $user_id
     * @return bool True when the server accepted the request.
     */
    public function terminateUserConnections(mixed $user_id): bool
    {
    }

    /**
     * Signed GET of an API path below /apps/{app_id}, e.g. '/channels' or '/channels/presence-room/users'.
     *
     * @param string $path
     * @param array<string, string|int|string[]>|null $params Query parameters; list values are comma-joined.
     * @return array{body: string|false, status: int, result?: array} `result` (the decoded body) only on
     *         status 200; status 0 and body false when the server could not be reached.
     */
    public function get(mixed $path, mixed $params = null): mixed
    {
    }

    /**
     * Signed POST of `$body` (json_encode'd) to an API path below /apps/{app_id}.
     *
     * @param string $path
     * @param mixed $body
     * @param array<string, string|int|string[]>|null $params Query parameters; list values are comma-joined.
     * @return array{body: string|false, status: int, result?: array} As get().
     */
    public function post(mixed $path, mixed $body, mixed $params = null): mixed
    {
    }

    /**
     * One channel's attributes.
     *
     * @param string $channel
     * @param array{info?: string|string[]}|null $params e.g. ['info' => 'user_count,subscription_count'].
     * @return \stdClass|false `->occupied` and the requested `->user_count` / `->subscription_count`;
     *         false when the request failed.
     * @throws PushException When the channel name is invalid.
     */
    public function getChannelInfo(mixed $channel, mixed $params = null): mixed
    {
    }

    /**
     * The occupied channels, as webman/push returns them: get('/channels', $params).
     *
     * @param array{filter_by_prefix?: string, info?: string}|null $params
     * @return array{body: string|false, status: int, result?: array{channels: array<string, array>}}
     */
    public function getChannels(mixed $params = null): mixed
    {
    }

    /**
     * The members of a presence channel.
     *
     * @param string $channel
     * @return \stdClass|false `->users`, a list of objects with `->id`; false when the request failed.
     * @throws PushException When the channel name is invalid.
     */
    public function getPresenceUsers(mixed $channel): mixed
    {
    }

    /**
     * The auth endpoint's answer for a private channel: `{"auth":"<key>:<signature>"}`, plus
     * `"channel_data"` when `$custom_data` is truthy (and `"shared_secret"` for a private-encrypted- channel
     * when the encryption master key is set). Byte-identical to webman/push's output.
     *
     * @param string $channel
     * @param string $socket_id
     * @param string|null $custom_data A JSON string signed along with the channel (presence channel_data).
     * @return string JSON.
     * @throws PushException When the channel name or the socket id is invalid.
     */
    public function socketAuth(mixed $channel, mixed $socket_id, mixed $custom_data = null): string
    {
    }

    /**
     * The auth endpoint's answer for a presence channel: channel_data is `{"user_id":…,"user_info":…}`, with
     * `user_info` only when it is truthy.
     *
     * @param string $channel
     * @param string $socket_id
     * @param string|int $user_id
     * @param mixed $user_info What the other members see (e.g. ['name' => 'Tom']).
     * @return string JSON.
     * @throws PushException When the channel name or the socket id is invalid.
     */
    public function presenceAuth(mixed $channel, mixed $socket_id, mixed $user_id, mixed $user_info = null): string
    {
    }

    /**
     * pusher-http-php's name for socketAuth().
     *
     * @param string $channel
     * @param string $socket_id
     * @param string|null $custom_data
     * @return string JSON.
     * @throws PushException When the channel name or the socket id is invalid.
     */
    public function authorizeChannel(mixed $channel, mixed $socket_id, mixed $custom_data = null): string
    {
    }

    /**
     * pusher-http-php's name for presenceAuth().
     *
     * @param string $channel
     * @param string $socket_id
     * @param string|int $user_id
     * @param mixed $user_info
     * @return string JSON.
     * @throws PushException When the channel name or the socket id is invalid.
     */
    public function authorizePresenceChannel(mixed $channel, mixed $socket_id, mixed $user_id, mixed $user_info = null): string
    {
    }

    /**
     * The user-authentication endpoint's answer for pusher:signin: `{"auth":"<key>:<signature>","user_data":"…"}`.
     *
     * @param string $socket_id
     * @param array{id: string|int}&array<string, mixed> $user_data Must have a non-empty `id`.
     * @return string JSON.
     * @throws PushException When the socket id is invalid or `$user_data` has no id.
     */
    public function authenticateUser(mixed $socket_id, mixed $user_data): string
    {
    }

    /**
     * Checks that a webhook request comes from this app (X-Pusher-Key, and X-Pusher-Signature = HMAC-SHA256 of
     * the body with the secret, compared in constant time).
     *
     * @param array<string, string|string[]> $headers The request headers (names in any case).
     * @param string $body The raw request body.
     * @return array|false The decoded body (`['time_ms' => …, 'events' => [...]]`), or false when not genuine.
     */
    public function verifyWebhook(mixed $headers, mixed $body): mixed
    {
    }
}

/**
 * The push server (Pusher protocol over WebSocket, plus the HTTP API), running on threads inside the PHP
 * process that starts it.
 *
 * In webman it is the handler of the process plugin.webman.push.server (config/plugin/webman/push/process.php):
 * webman constructs it in every process (nothing starts) and calls onWorkerStart() in the push worker after
 * the fork, onWorkerStop() when the worker stops. Elsewhere: run(), or start() + wait(), or
 * vendor/bin/webman-push-server.
 */
class Server
{
    /**
     * @param array<string, mixed> $config The array of config/plugin/webman/push/app.php (websocket, api,
     *        app_key, app_secret, app_id, apps, limits, webhooks ...).
     * @throws PushException When the config is not an array or has an invalid value.
     */
    public function __construct(mixed $config)
    {
    }

    /**
     * Binds the websocket and api ports and starts the server threads; returns at once.
     *
     * @throws PushException When a port cannot be bound, or the server is already running.
     */
    public function start(): void
    {
    }

    /**
     * Closes every connection (close code 4200) and the listeners, in bounded time.
     *
     * @return bool False when it was not running.
     */
    public function stop(): bool
    {
    }

    /**
     * Reads ssl.local_cert and ssl.local_pk again: new TLS handshakes use them, open connections stay.
     * (The server also reloads them by itself when their modification time changes.)
     *
     * @throws PushException Naming the file when it cannot be used (the previous certificate stays),
     *         or when the server is not running with `ssl`.
     */
    public function reloadTls(): void
    {
    }

    /**
     * start(), then blocks until SIGINT or SIGTERM, then stop().
     * With `ssl`, SIGHUP meanwhile reloads the certificate (as reloadTls()).
     *
     * @throws PushException When the server cannot start.
     */
    public function run(): void
    {
    }

    /**
     * Blocks a started server's process until SIGINT or SIGTERM, then stops it; returns at once when not running.
     * With `ssl`, SIGHUP meanwhile reloads the certificate (as reloadTls()).
     */
    public function wait(): void
    {
    }

    public function isRunning(): bool
    {
    }

    /**
     * @return int The bound WebSocket port (useful with port 0 in the config); 0 when not running.
     */
    public function websocketPort(): int
    {
    }

    /**
     * @return int The bound HTTP API port; 0 when not running.
     */
    public function apiPort(): int
    {
    }

    /**
     * Counters for monitoring, summed over all apps (all 0 when not running).
     *
     * @return array<string, int> connections, channels, subscriptions, presence_members, and the webhook
     *         counters webhooks_queued, webhooks_delivered, webhooks_dropped (requests),
     *         webhooks_dropped_events (events over webhook_max_pending_bytes) and webhooks_pending_bytes;
     *         with scale-out, cluster_publish_failed (messages for other nodes that Redis did not take,
     *         e.g. while it was unreachable or failing over) and cluster_publish_dropped (turned away by
     *         a full outgoing queue).
     */
    public function stats(): array
    {
    }

    /**
     * webman/Workerman process hook: starts the server in the worker process.
     *
     * @param \Workerman\Worker|null $worker Not used.
     * @throws PushException When the server cannot start.
     */
    public function onWorkerStart(mixed $worker = null): void
    {
    }

    /**
     * webman/Workerman process hook: stops the server.
     *
     * @param \Workerman\Worker|null $worker Not used.
     * @return bool False when it was not running.
     */
    public function onWorkerStop(mixed $worker = null): bool
    {
    }
}
