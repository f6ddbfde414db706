//! Server configuration, shaped like webman's `config/plugin/webman/push/app.php`.
//!
//! The PHP binding turns that array into JSON and hands it here, so every key, default and
//! validation rule lives in one place that plain Rust tests can exercise. Unknown keys (`enable`,
//! `auth`, …) belong to other parts of the plugin and are ignored.
//!
//! - [`ServerConfig`] (this file): listeners, runtime, cluster and limits shared by every app.
//! - [`AppConfig`] (`app.rs`): one app's credentials, switches and limits.
//! - `load.rs`: reading the JSON form with errors that name the key, and validation.

mod app;
mod load;
#[cfg(test)]
mod tests;

pub use app::{AppConfig, WebhookNames};

pub use crate::log::{LogFormat, LogLevel};
use crate::protocol::client_ip::TrustedProxies;
use app::file_mode;
use serde::Deserialize;

/// Longest `api_busy_poll_us` accepted: beyond a millisecond a thread polling one caller would
/// keep everybody else waiting.
pub const MAX_API_BUSY_POLL_US: u64 = 1000;

/// Longest `api_socket` path a Unix socket address can hold.
pub const MAX_API_SOCKET_PATH: usize = 107;

/// Smallest `webhook_max_pending_bytes` accepted: below it a handful of events would fill it.
pub const MIN_WEBHOOK_MAX_PENDING_BYTES: usize = 16 * 1024;
/// Largest `backlog` accepted; the kernel lowers any value to its `somaxconn` anyway.
pub const MAX_BACKLOG: u32 = 65535;

/// The whole server: listeners, runtime and the apps it serves.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    /// Listen address of the WebSocket server: `websocket://0.0.0.0:3131`, `ws://…` or `host:port`.
    pub websocket: String,
    /// Listen address of the HTTP API: `http://0.0.0.0:3232` or `host:port`.
    pub api: String,
    /// The single app of webman's config: `app_key`, `app_secret`, optional `app_id`, and any
    /// [`AppConfig`] option (limits, webhooks) at the top level.
    #[serde(flatten)]
    pub app: AppConfig,
    /// Further apps (multi-app); each entry is an [`AppConfig`].
    pub apps: Vec<AppConfig>,
    /// Seconds of silence after which a client should ping (sent in `connection_established`).
    pub activity_timeout: u64,
    /// Seconds the server waits for any traffic after it pinged an idle client before closing (4201).
    pub pong_timeout: u64,
    /// Runtime worker threads.
    pub threads: usize,
    /// Connections the kernel queues for each listener before they are accepted (`listen(2)`'s
    /// backlog); 0: the system's `net.core.somaxconn`, at least 1024. See [`Self::listen_backlog`].
    pub backlog: u32,
    /// Seconds a new WebSocket connection has to send its complete upgrade request.
    pub handshake_timeout: f64,
    /// Seconds a batch of frames may take to be written to a client before it is taken as gone.
    pub write_timeout: f64,
    /// Seconds closing a connection may take: our close frame out and the client's answer in.
    pub close_timeout: f64,
    /// Seconds stopping the server may take: connections get their close frames within it.
    pub stop_timeout: f64,
    /// Largest WebSocket message a client may send, in bytes; bigger ones close the socket with 1009.
    pub max_message_size: usize,
    /// Largest HTTP API request body, in bytes; bigger ones get 413.
    pub max_request_body: usize,
    /// Bytes queued for one slow client before it is disconnected with 4100.
    pub max_send_queue: usize,
    /// Microseconds an HTTP API connection whose caller sends its next request that quickly is
    /// polled for it after an answer, instead of the thread sleeping (0 disables; see
    /// `server::busy_poll`).
    pub api_busy_poll_us: u64,
    /// Allowed clock difference for the HTTP API's `auth_timestamp`, in seconds (0 disables).
    pub timestamp_window: u64,
    /// Seconds an HTTP API connection may take to send a request head (counted from the previous
    /// answer, so also how long an idle keep-alive connection is kept).
    pub api_head_timeout: f64,
    /// Seconds a request body that did not arrive with its head may take to complete (408 after).
    pub api_body_timeout: f64,
    /// Bytes of unfinished request bodies one client address may have the server hold (429 beyond).
    pub api_pending_body_per_ip: usize,
    /// Bytes of unfinished request bodies the server holds over all clients (503 beyond).
    pub api_pending_body_total: usize,
    /// Path of a Unix domain socket that serves the HTTP API too, for callers on this host; empty: none.
    pub api_socket: String,
    /// Permission bits of `api_socket` (`'0660'` or PHP's `0660`): who on this host may publish.
    #[serde(deserialize_with = "file_mode")]
    pub api_socket_mode: u32,
    /// Proxies (addresses, CIDR blocks) whose `X-Forwarded-For` / `X-Real-IP` name the client.
    pub trusted_proxies: TrustedProxies,
    /// WebSocket connections one client address (IPv6: /64) may hold at once; 0: no limit.
    pub max_connections_per_ip: usize,
    /// New WebSocket connections per second one client address may open; 0: no limit.
    pub connection_rate_per_ip: u32,
    /// Scale-out: `redis://[user:pass@]host:port[/db]` (or `rediss://` for TLS) shared by every
    /// node; empty runs a single node (unless `redis_sentinels` is set).
    pub redis: String,
    /// PEM file of the CA that signed the `rediss://` server's certificate; empty: the system's roots.
    pub redis_tls_ca: String,
    /// Sentinels (`redis://[:pass@]host:port`) that name the master `redis_master`; `redis` then
    /// only supplies the master's user, password, `/db` and TLS, and may be empty.
    pub redis_sentinels: Vec<String>,
    /// The master's name the sentinels know (`redis_sentinels`).
    pub redis_master: String,
    /// Seed URLs (`redis://[user:pass@]host:port`) of a Redis Cluster; the bus then uses sharded
    /// pub/sub (Redis ≥ 7) and all keys share the hash tag `{redis_prefix}`.
    pub redis_cluster: Vec<String>,
    /// Prefix of the Redis keys and pub/sub channel, so several clusters can share one Redis.
    pub redis_prefix: String,
    /// Seconds without a heartbeat after which another node is taken as dead.
    pub cluster_node_timeout: u64,
    /// Address of a listener of its own for `/metrics`, `/up` and `/ready` (`http://127.0.0.1:9601`);
    /// empty: `/metrics` is served on the HTTP API's listener.
    pub metrics: String,
    /// When set, `/metrics` requires `Authorization: Bearer <metrics_token>` (401 otherwise).
    pub metrics_token: String,
    /// The debug console at `GET /console` on the HTTP API listener; false: every `/console*` is 404.
    pub console: bool,
    /// When set, logs in to the console for every app (besides each app's key and secret).
    pub console_token: String,
    /// Events queued for each open console stream; a slower tab loses the rest (counted, shown).
    pub console_queue: usize,
    /// Native TLS: with a certificate the WebSocket listener is `wss://`, and an `https://` api
    /// address serves TLS with the same certificate.
    pub ssl: SslConfig,
    /// The most detailed log lines written: `error`, `warn`, `info` or `debug` (rejected auths).
    pub log_level: LogLevel,
    /// `text` (`webman-push: <level> <message> key=value …`) or `json` (one object per line).
    pub log_format: LogFormat,
}

/// Workerman's certificate option names, so a webman user's `ssl` context carries over.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SslConfig {
    /// PEM certificate chain (leaf first); empty: no TLS.
    pub local_cert: String,
    /// PEM private key of the certificate.
    pub local_pk: String,
    /// Seconds between checks of both files' modification times; a change reloads them.
    pub reload_interval: f64,
}

impl Default for SslConfig {
    fn default() -> Self {
        SslConfig {
            local_cert: String::new(),
            local_pk: String::new(),
            reload_interval: 5.0,
        }
    }
}

impl ServerConfig {
    /// Whether this node shares its state with others over Redis.
    pub fn scale_out(&self) -> bool {
        !self.redis.is_empty() || !self.redis_sentinels.is_empty() || !self.redis_cluster.is_empty()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            websocket: "websocket://0.0.0.0:3131".into(),
            api: "http://0.0.0.0:3232".into(),
            app: AppConfig::default(),
            apps: Vec::new(),
            activity_timeout: 55,
            pong_timeout: 30,
            threads: 2,
            backlog: 0,
            handshake_timeout: 10.0,
            write_timeout: 10.0,
            close_timeout: 1.0,
            // Below webman's 2 s stop timeout.
            stop_timeout: 1.5,
            max_message_size: 64 * 1024,
            max_request_body: 1024 * 1024,
            max_send_queue: 1024 * 1024,
            api_busy_poll_us: 50,
            timestamp_window: crate::protocol::signature::DEFAULT_TIMESTAMP_WINDOW_SECS,
            api_head_timeout: 30.0,
            api_body_timeout: 10.0,
            api_pending_body_per_ip: 8 << 20,
            api_pending_body_total: 64 << 20,
            api_socket: String::new(),
            api_socket_mode: 0o660,
            trusted_proxies: TrustedProxies::default(),
            max_connections_per_ip: 0,
            connection_rate_per_ip: 0,
            redis: String::new(),
            redis_tls_ca: String::new(),
            redis_sentinels: Vec::new(),
            redis_master: String::new(),
            redis_cluster: Vec::new(),
            redis_prefix: "webman-push".into(),
            cluster_node_timeout: 5,
            metrics: String::new(),
            metrics_token: String::new(),
            console: true,
            console_token: String::new(),
            console_queue: 1024,
            ssl: SslConfig::default(),
            log_level: LogLevel::default(),
            log_format: LogFormat::default(),
        }
    }
}
