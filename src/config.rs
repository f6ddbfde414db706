//! Server configuration, shaped like webman's `config/plugin/webman/push/app.php`.
//!
//! The PHP binding turns that array into JSON and hands it here, so every key, default and
//! validation rule lives in one place that plain Rust tests can exercise. Unknown keys (`enable`,
//! `auth`, …) belong to other parts of the plugin and are ignored.

use crate::protocol::client_ip::TrustedProxies;
use crate::protocol::origin::AllowedOrigins;
use serde::Deserialize;
use std::net::SocketAddr;

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
    /// Native TLS: with a certificate the WebSocket listener is `wss://`, and an `https://` api
    /// address serves TLS with the same certificate.
    pub ssl: SslConfig,
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
            ssl: SslConfig::default(),
        }
    }
}

/// One app: credentials, switches and limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AppConfig {
    #[serde(alias = "app_id", deserialize_with = "string_or_number")]
    pub id: String,
    #[serde(alias = "app_key")]
    pub key: String,
    #[serde(alias = "app_secret")]
    pub secret: String,
    pub enabled: bool,
    /// 0 means unlimited.
    pub max_connections: usize,
    pub client_events: bool,
    /// Client events per second per connection (4301 beyond it).
    pub client_event_rate: u32,
    /// Channels one connection may be in at once (4303 beyond it); 0 means unlimited.
    pub max_channels_per_connection: usize,
    /// Subscribes plus unsubscribes per second per connection (4301 beyond it); 0 means unlimited.
    pub subscription_rate: u32,
    /// Largest `data` of one event (HTTP or client event), in bytes.
    pub max_event_payload: usize,
    pub max_channel_name_length: usize,
    pub max_event_name_length: usize,
    pub max_channels_per_event: usize,
    pub max_batch_size: usize,
    pub presence_max_members: usize,
    pub presence_max_member_size: usize,
    /// Seconds a connection may stay without signing in or joining a private/presence channel
    /// before it is closed with 4009; 0 disables the check.
    pub user_authentication_timeout: u64,
    /// Send `pusher_internal:subscription_count` to subscribers of non-presence channels.
    pub subscription_count: bool,
    /// Seconds a cache channel keeps its last event.
    pub cache_ttl: u64,
    /// Where channel occupied/vacated webhooks go (webman's `channel_hook`); empty: none.
    pub channel_hook: String,
    /// Where member added/removed webhooks go (webman's `user_hook`); empty: to `channel_hook` with
    /// Pusher names, nowhere with webman names (as the original).
    pub user_hook: String,
    /// Event names in webhooks: webman's (`channel_added`, `user_added`, …) or Pusher's.
    pub webhook_names: WebhookNames,
    /// Seconds a channel (or member) must stay gone before vacated/removed is sent.
    pub webhook_delay: f64,
    /// Also send `client_event` webhooks (to `channel_hook`).
    pub webhook_client_events: bool,
    /// Seconds to keep retrying a failed webhook request.
    pub webhook_retry_for: u64,
    /// Seconds between attempts while a receiver fails; its first success sends the backlog at once.
    pub webhook_retry_interval: f64,
    /// Webhook requests queued per destination before the oldest are dropped.
    pub webhook_queue: usize,
    /// Bytes of webhook state (transitions waiting for the webhook task or the grace period, and
    /// queued requests) the app may hold; events that do not fit are dropped and counted.
    pub webhook_max_pending_bytes: usize,
    /// Origins whose pages may connect (`https://app.example.com`, `https://*.example.com`);
    /// empty: any. Others get 403 before the upgrade.
    pub allowed_origins: AllowedOrigins,
    /// Also refuse upgrades without an `Origin` header (non-browser clients).
    pub allowed_origins_strict: bool,
    /// HTTP API requests per second for this app's key (429 beyond); 0: no limit.
    pub api_rate_limit: u32,
}

/// Which names webhook events carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookNames {
    /// `channel_added` / `channel_removed`, `user_added` / `user_removed`.
    Webman,
    /// `channel_occupied` / `channel_vacated`, `member_added` / `member_removed`.
    Pusher,
}

/// A file mode from an octal string (`"0660"`, `"660"`) or a number (PHP's `0660` literal is 432).
fn file_mode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Mode {
        S(String),
        N(u32),
    }
    match Mode::deserialize(d)? {
        Mode::N(n) => Ok(n),
        Mode::S(s) => u32::from_str_radix(s.trim().trim_start_matches("0o"), 8).map_err(|_| {
            serde::de::Error::custom(format!(
                "api_socket_mode must be an octal mode like '0660', got {s:?}"
            ))
        }),
    }
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(serde_json::Number),
    }
    Ok(match Id::deserialize(d)? {
        Id::S(s) => s,
        Id::N(n) => n.to_string(),
    })
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            id: "1024".into(),
            key: String::new(),
            secret: String::new(),
            enabled: true,
            max_connections: 0,
            client_events: true,
            client_event_rate: 10,
            max_channels_per_connection: 1000,
            subscription_rate: 100,
            max_event_payload: 100 * 1024,
            max_channel_name_length: crate::protocol::channel::DEFAULT_MAX_CHANNEL_NAME_LEN,
            max_event_name_length: 200,
            max_channels_per_event: 100,
            max_batch_size: 10,
            presence_max_members: 100,
            presence_max_member_size: 1024,
            user_authentication_timeout: 0,
            subscription_count: false,
            cache_ttl: 1800,
            channel_hook: String::new(),
            user_hook: String::new(),
            webhook_names: WebhookNames::Webman,
            webhook_delay: 3.0,
            webhook_client_events: false,
            webhook_retry_for: 300,
            webhook_retry_interval: 1.0,
            webhook_queue: 1000,
            webhook_max_pending_bytes: 8 * 1024 * 1024,
            allowed_origins: AllowedOrigins::default(),
            allowed_origins_strict: false,
            api_rate_limit: 0,
        }
    }
}

impl ServerConfig {
    /// Reads a config from its JSON form (the PHP array, json-encoded).
    pub fn from_json(json: &str) -> Result<ServerConfig, String> {
        let config = deserialize_naming_the_key::<ServerConfig>(json).map_err(|e| {
            // `#[serde(flatten)]` loses the path of an error inside the top-level app, so read
            // the top level as that app alone (it ignores the server's keys) to name the key.
            match e.path().iter().next() {
                None => deserialize_naming_the_key::<AppConfig>(json).err().unwrap_or(e),
                Some(_) => e,
            }
        });
        let config = config.map_err(|e| format!("invalid push server config: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    /// Every app this server serves: the single webman app first, then `apps`.
    pub fn all_apps(&self) -> Vec<AppConfig> {
        let mut apps = Vec::new();
        if !self.app.key.is_empty() {
            apps.push(self.app.clone());
        }
        apps.extend(self.apps.iter().cloned());
        apps
    }

    pub fn websocket_addr(&self) -> Result<SocketAddr, String> {
        parse_listen(&self.websocket, &["websocket://", "ws://", "tcp://"])
    }

    pub fn api_addr(&self) -> Result<SocketAddr, String> {
        parse_listen(&self.api, &["http://", "https://", "tcp://"])
    }

    /// Whether the HTTP API serves TLS (`api` starts with `https://`).
    pub fn api_tls(&self) -> bool {
        self.api.starts_with("https://")
    }

    /// Whether the server has a certificate (`ssl.local_cert`), which makes the WebSocket listener `wss://`.
    pub fn tls(&self) -> bool {
        !self.ssl.local_cert.is_empty()
    }

    /// The separate monitoring listener, when `metrics` is set.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, String> {
        match self.metrics.as_str() {
            "" => Ok(None),
            m => parse_listen(m, &["http://", "tcp://"])
                .map(Some)
                .map_err(|e| format!("metrics: {e}")),
        }
    }

    /// The backlog both listeners are given. A restart makes every client reconnect at once, and
    /// a short queue drops their SYNs (each retried only after a second or more), so the default
    /// is as long as the kernel allows (`somaxconn`, which caps any value anyway), but at least
    /// 1024 for a kernel whose cap is raised later.
    pub fn listen_backlog(&self) -> i32 {
        if self.backlog > 0 {
            return self.backlog.min(MAX_BACKLOG) as i32;
        }
        let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(0);
        somaxconn.clamp(1024, MAX_BACKLOG) as i32
    }

    fn validate(&self) -> Result<(), String> {
        let apps = self.all_apps();
        if apps.is_empty() {
            return Err("no app configured: set app_key and app_secret".into());
        }
        for (i, app) in apps.iter().enumerate() {
            if app.key.is_empty() || app.secret.is_empty() {
                return Err(format!("app #{i} needs a non-empty key and secret"));
            }
            if apps[..i].iter().any(|a| a.key == app.key) {
                return Err(format!("app key {} is configured twice", app.key));
            }
        }
        if self.activity_timeout == 0 {
            return Err("activity_timeout must be at least 1 second".into());
        }
        for app in &apps {
            if !(0.0..=3600.0).contains(&app.webhook_delay) {
                return Err(format!(
                    "app {}: webhook_delay must be between 0 and 3600 seconds",
                    app.key
                ));
            }
            if !(0.01..=60.0).contains(&app.webhook_retry_interval) {
                return Err(format!(
                    "app {}: webhook_retry_interval must be between 0.01 and 60 seconds",
                    app.key
                ));
            }
            if app.webhook_max_pending_bytes < MIN_WEBHOOK_MAX_PENDING_BYTES {
                return Err(format!(
                    "app {}: webhook_max_pending_bytes must be at least {MIN_WEBHOOK_MAX_PENDING_BYTES}, got {}",
                    app.key, app.webhook_max_pending_bytes
                ));
            }
            for url in [&app.channel_hook, &app.user_hook] {
                if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!(
                        "app {}: webhook URL {url:?} must start with http:// or https://",
                        app.key
                    ));
                }
            }
        }
        if !(self.redis.is_empty()
            || self.redis.starts_with("redis://")
            || self.redis.starts_with("rediss://"))
        {
            return Err(format!("redis must be a redis:// URL, got {:?}", self.redis));
        }
        for (key, urls) in [
            ("redis_sentinels", &self.redis_sentinels),
            ("redis_cluster", &self.redis_cluster),
        ] {
            if let Some(url) = urls
                .iter()
                .find(|u| !(u.starts_with("redis://") || u.starts_with("rediss://")))
            {
                return Err(format!("{key} must be redis:// URLs, got {url:?}"));
            }
        }
        let single = !self.redis.is_empty() || !self.redis_sentinels.is_empty();
        if !self.redis_cluster.is_empty() && single {
            return Err("redis_cluster cannot be combined with redis or redis_sentinels".into());
        }
        if self.redis_sentinels.is_empty() != self.redis_master.is_empty() {
            return Err("redis_sentinels and redis_master must be set together".into());
        }
        let tls = self.redis.starts_with("rediss://")
            || self.redis_cluster.iter().any(|u| u.starts_with("rediss://"));
        if !self.redis_tls_ca.is_empty() && !tls {
            return Err("redis_tls_ca needs a rediss:// URL in redis or redis_cluster".into());
        }
        if self.scale_out() && self.cluster_node_timeout < 2 {
            return Err(
                "cluster_node_timeout must be at least 2 seconds (heartbeats are every second)".into(),
            );
        }
        if self.threads == 0 {
            return Err("threads must be at least 1".into());
        }
        if self.backlog > MAX_BACKLOG {
            return Err(format!(
                "backlog must be at most {MAX_BACKLOG} (0: the system's somaxconn), got {}",
                self.backlog
            ));
        }
        if !(self.handshake_timeout > 0.0 && self.handshake_timeout <= 3600.0) {
            return Err(format!(
                "handshake_timeout must be more than 0 and at most 3600 seconds, got {}",
                self.handshake_timeout
            ));
        }
        if self.api_busy_poll_us > MAX_API_BUSY_POLL_US {
            return Err(format!(
                "api_busy_poll_us must be at most {MAX_API_BUSY_POLL_US} (a thread spends it waiting), got {}",
                self.api_busy_poll_us
            ));
        }
        for (key, seconds) in [
            ("api_head_timeout", self.api_head_timeout),
            ("api_body_timeout", self.api_body_timeout),
        ] {
            if !(seconds > 0.0 && seconds <= 3600.0) {
                return Err(format!(
                    "{key} must be more than 0 and at most 3600 seconds, got {seconds}"
                ));
            }
        }
        if self.api_pending_body_per_ip == 0 || self.api_pending_body_per_ip > self.api_pending_body_total {
            return Err(format!(
                "api_pending_body_per_ip must be at least 1 and at most api_pending_body_total ({}), got {}",
                self.api_pending_body_total, self.api_pending_body_per_ip
            ));
        }
        self.validate_api_socket()?;
        self.validate_ssl()?;
        self.websocket_addr()?;
        self.api_addr()?;
        self.metrics_addr()?;
        Ok(())
    }

    fn validate_ssl(&self) -> Result<(), String> {
        let ssl = &self.ssl;
        if ssl.local_cert.is_empty() != ssl.local_pk.is_empty() {
            return Err("ssl needs both local_cert and local_pk (or neither)".into());
        }
        if self.api_tls() && !self.tls() {
            return Err(format!(
                "api {:?} is https:// but ssl.local_cert and ssl.local_pk are not set",
                self.api
            ));
        }
        if !(ssl.reload_interval > 0.0 && ssl.reload_interval <= 86400.0) {
            return Err(format!(
                "ssl.reload_interval must be more than 0 and at most 86400 seconds, got {}",
                ssl.reload_interval
            ));
        }
        Ok(())
    }

    fn validate_api_socket(&self) -> Result<(), String> {
        if self.api_socket_mode > 0o777 {
            return Err(format!(
                "api_socket_mode must be permission bits of at most 0777 (write '0660' or 0660), got {:o} in octal",
                self.api_socket_mode
            ));
        }
        // Absolute, so that callers can name it as unix:///path whatever their working directory;
        // sun_path holds 108 bytes with the terminating NUL.
        let path = &self.api_socket;
        if !path.is_empty()
            && (!path.starts_with('/') || path.len() > MAX_API_SOCKET_PATH || path.contains('\0'))
        {
            return Err(format!(
                "api_socket must be an absolute path of at most {MAX_API_SOCKET_PATH} bytes without NUL, got {path:?}"
            ));
        }
        Ok(())
    }
}

/// `json` as a `T`; an error says where, like `apps[1].client_event_rate: invalid type: …`.
fn deserialize_naming_the_key<T: serde::de::DeserializeOwned>(
    json: &str,
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(json))
}

fn parse_listen(listen: &str, schemes: &[&str]) -> Result<SocketAddr, String> {
    let rest = schemes
        .iter()
        .find_map(|s| listen.strip_prefix(s))
        .unwrap_or(listen)
        .trim_end_matches('/');
    use std::net::ToSocketAddrs;
    rest.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("cannot listen on {listen:?}: expected scheme://host:port"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webman_app_php_shape_is_accepted_with_defaults() {
        let c = ServerConfig::from_json(
            r#"{"enable":true,"websocket":"websocket://0.0.0.0:3131","api":"http://0.0.0.0:3232",
                "app_key":"k","app_secret":"s","channel_hook":"http://127.0.0.1:8787/plugin/webman/push/hook",
                "auth":"/plugin/webman/push/auth"}"#,
        )
        .unwrap();
        assert_eq!(c.websocket_addr().unwrap(), "0.0.0.0:3131".parse().unwrap());
        assert_eq!(c.api_addr().unwrap(), "0.0.0.0:3232".parse().unwrap());
        assert_eq!(c.activity_timeout, 55);
        let apps = c.all_apps();
        assert_eq!(apps.len(), 1);
        assert_eq!((apps[0].id.as_str(), apps[0].key.as_str()), ("1024", "k"));
    }

    #[test]
    fn app_options_may_sit_at_the_top_level_for_the_single_app() {
        let c = ServerConfig::from_json(
            r#"{"app_key":"k","app_secret":"s","app_id":7,"max_connections":3,"webhook_names":"pusher",
                "apps":[{"id":"2","key":"k2","secret":"s2"}]}"#,
        )
        .unwrap();
        let apps = c.all_apps();
        assert_eq!((apps[0].id.as_str(), apps[0].max_connections), ("7", 3));
        assert_eq!(apps[0].webhook_names, WebhookNames::Pusher);
        assert_eq!((apps[1].key.as_str(), apps[1].max_connections), ("k2", 0));
    }

    #[test]
    fn a_config_without_apps_is_refused() {
        assert!(ServerConfig::from_json("{}")
            .unwrap_err()
            .contains("no app configured"));
    }

    #[test]
    fn wrong_types_are_reported_by_key() {
        let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","activity_timeout":"x"}"#)
            .unwrap_err();
        assert!(err.contains("activity_timeout: invalid type"), "{err}");
    }

    #[test]
    fn wrong_types_of_top_level_app_keys_are_reported_by_key() {
        let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","client_event_rate":"x"}"#)
            .unwrap_err();
        assert!(err.contains("client_event_rate: invalid type"), "{err}");
    }

    #[test]
    fn wrong_types_inside_apps_are_reported_by_index_and_key() {
        let err = ServerConfig::from_json(
            r#"{"app_key":"k","app_secret":"s",
                "apps":[{"key":"k1","secret":"s1"},{"key":"k2","secret":"s2","client_event_rate":"x"}]}"#,
        )
        .unwrap_err();
        assert!(err.contains("apps[1].client_event_rate: invalid type"), "{err}");
    }

    #[test]
    fn bad_listen_addresses_are_refused() {
        let err =
            ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","websocket":"nowhere"}"#).unwrap_err();
        assert!(err.contains("cannot listen"), "{err}");
    }

    #[test]
    fn duplicate_app_keys_are_refused() {
        let err =
            ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","apps":[{"key":"k","secret":"t"}]}"#)
                .unwrap_err();
        assert!(err.contains("twice"), "{err}");
    }

    #[test]
    fn api_timeouts_and_pending_body_caps_are_validated_by_key() {
        let refused = |extra: &str| {
            ServerConfig::from_json(&format!(r#"{{"app_key":"k","app_secret":"s",{extra}}}"#)).unwrap_err()
        };
        assert!(refused(r#""api_head_timeout":0"#).contains("api_head_timeout must be more than 0"));
        assert!(refused(r#""api_body_timeout":-1"#).contains("api_body_timeout must be more than 0"));
        assert!(refused(r#""api_pending_body_per_ip":0"#).contains("api_pending_body_per_ip must be"));
        assert!(
            refused(r#""api_pending_body_per_ip":10,"api_pending_body_total":9"#)
                .contains("at most api_pending_body_total (9)")
        );
        let c =
            ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_body_timeout":0.5}"#).unwrap();
        assert_eq!((c.api_head_timeout, c.api_body_timeout), (30.0, 0.5));
        assert_eq!(
            (c.api_pending_body_per_ip, c.api_pending_body_total),
            (8 << 20, 64 << 20)
        );
    }

    #[test]
    fn an_api_busy_poll_over_a_millisecond_is_refused() {
        let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_busy_poll_us":5000}"#)
            .unwrap_err();
        assert!(err.contains("api_busy_poll_us must be at most 1000"), "{err}");
        let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_busy_poll_us":0}"#).unwrap();
        assert_eq!(c.api_busy_poll_us, 0);
    }

    #[test]
    fn api_socket_mode_is_octal_text_or_a_php_octal_number_at_most_0777() {
        let mode = |m: &str| {
            ServerConfig::from_json(&format!(
                r#"{{"app_key":"k","app_secret":"s","api_socket_mode":{m}}}"#
            ))
            .map(|c| c.api_socket_mode)
        };
        assert_eq!(
            ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s"}"#)
                .unwrap()
                .api_socket_mode,
            0o660
        );
        assert_eq!(mode(r#""0600""#), Ok(0o600));
        assert_eq!(mode("432"), Ok(0o660));
        assert!(mode(r#""rw""#)
            .unwrap_err()
            .contains("api_socket_mode must be an octal mode"));
        assert!(mode("660")
            .unwrap_err()
            .contains("api_socket_mode must be permission bits"));
    }

    #[test]
    fn an_api_socket_path_that_is_relative_or_too_long_for_a_socket_address_is_refused() {
        let path = format!("/tmp/{}", "x".repeat(MAX_API_SOCKET_PATH));
        let err = ServerConfig::from_json(&format!(
            r#"{{"app_key":"k","app_secret":"s","api_socket":"{path}"}}"#
        ))
        .unwrap_err();
        assert!(
            err.contains("api_socket must be an absolute path of at most 107 bytes"),
            "{err}"
        );
        let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_socket":"push.sock"}"#)
            .unwrap_err();
        assert!(err.contains("api_socket must be an absolute path"), "{err}");
    }

    #[test]
    fn a_webhook_retry_interval_outside_its_range_is_refused_naming_the_key() {
        for bad in ["0", "61"] {
            let err = ServerConfig::from_json(&format!(
                r#"{{"app_key":"k","app_secret":"s","webhook_retry_interval":{bad}}}"#
            ))
            .unwrap_err();
            assert!(err.contains("webhook_retry_interval"), "{err}");
        }
    }

    #[test]
    fn a_webhook_max_pending_bytes_under_16_kib_is_refused_naming_the_key() {
        let err =
            ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","webhook_max_pending_bytes":1000}"#)
                .unwrap_err();
        assert!(
            err.contains("webhook_max_pending_bytes must be at least 16384"),
            "{err}"
        );
    }

    #[test]
    fn backlog_defaults_to_somaxconn_but_at_least_1024() {
        let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s"}"#).unwrap();
        assert_eq!(c.backlog, 0);
        assert!(c.listen_backlog() >= 1024, "{}", c.listen_backlog());
        let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","backlog":300}"#).unwrap();
        assert_eq!(c.listen_backlog(), 300);
        let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","backlog":70000}"#).unwrap_err();
        assert!(err.contains("backlog must be at most 65535"), "{err}");
    }

    #[test]
    fn origins_proxies_and_per_ip_limits_are_read_and_bad_entries_named() {
        let c = ServerConfig::from_json(
            r#"{"app_key":"k","app_secret":"s","allowed_origins":["https://*.example.com"],
                "trusted_proxies":["127.0.0.1","10.0.0.0/8"],"max_connections_per_ip":5,
                "connection_rate_per_ip":2,"api_rate_limit":100,
                "apps":[{"key":"k2","secret":"s2","allowed_origins_strict":true}]}"#,
        )
        .unwrap();
        let apps = c.all_apps();
        assert!(apps[0]
            .allowed_origins
            .allows(Some(b"https://a.example.com"), false));
        assert!(!apps[0].allowed_origins.allows(Some(b"https://evil.test"), false));
        assert!(apps[1].allowed_origins_strict && apps[1].allowed_origins.is_empty());
        assert!(c.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert_eq!((c.max_connections_per_ip, c.connection_rate_per_ip), (5, 2));
        assert_eq!((apps[0].api_rate_limit, apps[1].api_rate_limit), (100, 0));
        let err =
            ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","allowed_origins":["example.com"]}"#)
                .unwrap_err();
        assert!(err.contains("allowed_origins"), "{err}");
        let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","trusted_proxies":["x/8"]}"#)
            .unwrap_err();
        assert!(err.contains("trusted_proxies"), "{err}");
    }

    #[test]
    fn metrics_is_off_by_default_and_a_bad_address_is_named() {
        let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s"}"#).unwrap();
        assert_eq!((c.metrics_addr(), c.metrics_token.as_str()), (Ok(None), ""));
        let err =
            ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","metrics":"nowhere"}"#).unwrap_err();
        assert!(err.starts_with("metrics: cannot listen"), "{err}");
    }

    #[test]
    fn ssl_needs_cert_and_key_together_and_https_api_needs_ssl() {
        let with =
            |extra: &str| ServerConfig::from_json(&format!(r#"{{"app_key":"k","app_secret":"s",{extra}}}"#));
        let c =
            with(r#""ssl":{"local_cert":"/c.pem","local_pk":"/k.pem"},"api":"https://127.0.0.1:0""#).unwrap();
        assert!(c.tls() && c.api_tls());
        assert_eq!(c.ssl.reload_interval, 5.0);
        let err = with(r#""ssl":{"local_cert":"/c.pem"}"#).unwrap_err();
        assert!(err.contains("ssl needs both local_cert and local_pk"), "{err}");
        let err = with(r#""api":"https://127.0.0.1:0""#).unwrap_err();
        assert!(err.contains("is https:// but ssl.local_cert"), "{err}");
        let err = with(r#""ssl":{"local_cert":"/c","local_pk":"/k","reload_interval":0}"#).unwrap_err();
        assert!(err.contains("ssl.reload_interval must be more than 0"), "{err}");
        assert!(!with(r#""ssl":[]"#).unwrap().tls(), "PHP's empty array is no TLS");
    }

    #[test]
    fn a_handshake_timeout_of_zero_is_refused() {
        let err =
            ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","handshake_timeout":0}"#).unwrap_err();
        assert!(err.contains("handshake_timeout must be more than 0"), "{err}");
        let c =
            ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","handshake_timeout":0.5}"#).unwrap();
        assert_eq!(c.handshake_timeout, 0.5);
    }
}
