<?php
/**
 * webman/push configuration (same keys and defaults as the original webman/push plugin).
 *
 * The push server is the webman_push PHP extension (Rust). It reads this whole array; keys it does not
 * know (enable, auth) are used by webman and route.php only. The commented keys are optional: the
 * value shown is the default used when the key is absent.
 */
return [
    // false: webman loads neither the push process nor the routes of this plugin.
    'enable'       => true,
    // WebSocket (Pusher protocol) listen address; clients connect to ws://host:3131/app/<app_key>.
    'websocket'    => 'websocket://0.0.0.0:3131',
    // HTTP API listen address (Webman\Push\Api talks to it; route.php uses it with 0.0.0.0 → 127.0.0.1).
    'api'          => 'http://0.0.0.0:3232',
    // The app's key and secret; the installer replaces the placeholders with random 32-hex strings.
    'app_key'      => 'APP_KEY_TO_REPLACE',
    'app_secret'   => 'APP_SECRET_TO_REPLACE',
    // URL the server POSTs channel_added / channel_removed webhooks to (signed with app_secret); '' = none.
    'channel_hook' => 'http://127.0.0.1:8787/plugin/webman/push/hook',
    // Path of the private/presence channel auth route in route.php (give the same URL to the JS client).
    'auth'         => '/plugin/webman/push/auth',

    // ---- Optional (extension only). Defaults shown; uncomment to change. ----

    // Server runtime
    // 'threads'          => 2,        // worker threads of the server
    // 'backlog'          => 0,        // connections queued per listener before accept(); 0 = the system's somaxconn, at least 1024
    // 'handshake_timeout' => 10,      // seconds a new connection has to send its WebSocket upgrade request
    // 'write_timeout'    => 10,       // seconds a client may take to accept a batch of frames before it is taken as gone
    // 'close_timeout'    => 1,        // seconds closing a connection may take (our close frame out, the client's answer in)
    // 'stop_timeout'     => 1.5,      // seconds stopping may take; clients get their 4200 close frame within it (keep below webman's 2 s)
    // 'log_level'        => 'info',   // stderr log: 'error', 'warn', 'info' (started/stopped) or 'debug' (each rejected auth with the reason)
    // 'log_format'       => 'text',   // 'text': "webman-push: <level> <message> key=value ..."; 'json': one JSON object per line
    // 'activity_timeout' => 55,       // seconds of silence before a client should ping (sent to clients)
    // 'pong_timeout'     => 30,       // seconds to wait for a reply after the server pinged an idle client (then close 4201)
    // 'max_message_size' => 65536,    // largest WebSocket message a client may send, bytes (bigger: close 1009)
    // 'max_request_body' => 1048576,  // largest HTTP API request body, bytes (bigger: 413)
    // 'max_send_queue'   => 1048576,  // bytes queued for one slow client before it is disconnected (close 4100)
    // 'timestamp_window' => 600,      // allowed clock skew of HTTP API auth_timestamp, seconds (0 = not checked)
    // 'api_busy_poll_us' => 50,       // µs an HTTP API connection whose caller is quick is polled for its next request (0 = off, at most 1000)
    // 'api_head_timeout' => 30,       // seconds an HTTP API connection may take to send a request head (also the idle keep-alive time)
    // 'api_body_timeout' => 10,       // seconds a request body that did not come with its head may take (then 408)
    // 'api_pending_body_per_ip' => 8388608,  // bytes of unfinished HTTP API bodies one client address may have held (beyond: 429)
    // 'api_pending_body_total'  => 67108864, // bytes of unfinished HTTP API bodies held over all clients (beyond: 503)
    // 'api_socket'       => '',       // absolute path of a Unix socket that also serves the HTTP API, e.g. runtime_path() . '/webman-push.sock'; '' = none.
    //                                 // Same-host callers use it with new Api('unix://' . $path, …) (route.php does when it is set);
    //                                 // a stale file is replaced, a file that is not a socket is an error, the file is removed on stop
    // 'api_socket_mode'  => '0660',   // permissions of api_socket: who on this host may publish (owner and group by default)

    // Native TLS (see the README's "Deploying"): with a certificate the WebSocket listener is wss://, and
    // 'api' => 'https://0.0.0.0:3232' serves the HTTP API over TLS with the same certificate.
    // 'ssl' => [
    //     'local_cert'      => '/etc/ssl/fullchain.pem', // PEM certificate chain, leaf first; unset = no TLS
    //     'local_pk'        => '/etc/ssl/privkey.pem',   // its PEM private key
    //     'reload_interval' => 5,                        // seconds between checks of both files' mtimes; a change reloads them
    // ],

    // Who may connect (see the README's "Deploying")
    // 'trusted_proxies'        => [],      // proxies (IPs / CIDRs, e.g. ['127.0.0.1']) whose X-Forwarded-For / X-Real-IP name the client address
    // 'max_connections_per_ip' => 0,       // WebSocket connections one client address (IPv6: /64) may hold; 0 = no limit (over it: HTTP 429)
    // 'connection_rate_per_ip' => 0,       // new WebSocket connections per second from one client address; 0 = no limit (over it: HTTP 429)

    // Scale-out: several servers sharing one Redis behave as one (empty = a single server, no Redis needed)
    // 'redis'                => '',             // e.g. 'redis://127.0.0.1:6379', 'redis://user:pass@host:6379/2', 'rediss://host:6380' (TLS)
    // 'redis_tls_ca'         => '',             // PEM file of the CA of a rediss:// server with a private CA (certificates are always verified)
    // 'redis_sentinels'      => [],             // Sentinel: e.g. ['redis://10.0.0.1:26379', 'redis://:pass@10.0.0.2:26379'] ('redis' then only gives the master's user/password/db, may be empty)
    // 'redis_master'         => '',             // Sentinel: the master's name, e.g. 'mymaster'
    // 'redis_cluster'        => [],             // Redis Cluster: seed URLs, e.g. ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'] (sharded pub/sub on Redis >= 7)
    // 'redis_prefix'         => 'webman-push',  // prefix of the Redis keys and pub/sub channel
    // 'cluster_node_timeout' => 5,              // seconds without a heartbeat before another node counts as dead

    // Monitoring: GET /metrics (Prometheus), /up, /ready on the api listener (no signature)
    // 'metrics'       => '',   // e.g. 'http://127.0.0.1:9601': serve them on a listener of their own instead
    // 'metrics_token' => '',   // when set, /metrics requires 'Authorization: Bearer <token>' (401 otherwise)

    // Debug console: GET /console on the api listener; log in with an app's key + secret or console_token
    // 'console'       => true,  // false: every /console* path is 404
    // 'console_token' => '',    // when set, logs in to every app (use TLS when the api port is public)
    // 'console_queue' => 1024,  // events queued per open console tab; a slower tab is shown "N events skipped"

    // This app (the app_key above)
    // 'app_id'                   => '1024',   // app id (Webman\Push\Api always signs under /apps/1024; the id in the path is not checked)
    // 'max_connections'          => 0,        // simultaneous connections of this app, 0 = unlimited (over it: close 4004)
    // 'client_events'            => true,     // allow client-* events on private/presence channels
    // 'client_event_rate'        => 10,       // client events per second per connection (over it: error 4301)
    // 'max_channels_per_connection' => 1000,  // channels one connection may be in, 0 = unlimited (over it: error 4303)
    // 'subscription_rate'        => 100,      // subscribes + unsubscribes per second per connection, 0 = unlimited (over it: error 4301)
    // 'max_event_payload'        => 102400,   // largest event data, bytes (HTTP API: 413)
    // 'max_channel_name_length'  => 200,      // longest channel name
    // 'max_event_name_length'    => 200,      // longest event name
    // 'max_channels_per_event'   => 100,      // channels one HTTP API event may name
    // 'max_batch_size'           => 10,       // events in one /batch_events request
    // 'presence_max_members'     => 100,      // members of one presence channel
    // 'presence_max_member_size' => 1024,     // bytes of one presence member's user_info
    // 'user_authentication_timeout' => 0,     // seconds a connection may stay without pusher:signin or a private channel (then close 4009); 0 = off
    // 'subscription_count'       => false,    // send pusher_internal:subscription_count to subscribers
    // 'cache_ttl'                => 1800,     // seconds a cache-* channel keeps its last event
    // 'allowed_origins'          => [],       // pages that may connect, e.g. ['https://example.com', 'https://*.example.com']; [] = any (others: HTTP 403)
    // 'allowed_origins_strict'   => false,    // also refuse clients that send no Origin header (non-browser clients)
    // 'api_rate_limit'           => 0,        // HTTP API requests per second for this app key; 0 = no limit (over it: 429 with Retry-After)

    // Webhooks
    // 'user_hook'             => '',        // URL for user_added / user_removed (presence) webhooks; '' = none
    // 'webhook_names'         => 'webman',  // 'webman': channel_added/_removed, user_added/_removed; 'pusher': channel_occupied/_vacated, member_added/_removed
    // 'webhook_delay'         => 3.0,       // seconds a channel or member must stay gone before the removed webhook is sent
    // 'webhook_client_events' => false,     // also send client_event webhooks to channel_hook
    // 'webhook_retry_for'     => 300,       // seconds to keep retrying a failed webhook request
    // 'webhook_retry_interval' => 1.0,     // seconds between attempts while a receiver fails; once it answers, the backlog goes at once
    // 'webhook_timeout'       => 10,        // seconds a receiver has to answer one request before the attempt counts as failed
    // 'webhook_queue'         => 1000,      // webhook requests queued per destination before the oldest are dropped
    // 'webhook_max_pending_bytes' => 8388608, // bytes of webhook state per app (pending transitions + queued requests); events over it are dropped and counted

    // More apps served by the same server: each entry takes id, key, secret, enabled and the per-app keys above.
    // 'apps' => [
    //     ['id' => '2', 'key' => 'another-key', 'secret' => 'another-secret'],
    // ],
];
