//! Server configuration, shaped like webman's `config/plugin/webman/push/app.php`.
//!
//! The PHP binding turns that array into JSON and hands it here, so every key, default and
//! validation rule lives in one place that plain Rust tests can exercise. Unknown keys (`enable`,
//! `auth`, …) belong to other parts of the plugin and are ignored.

use serde::Deserialize;
use std::net::SocketAddr;

/// Longest `api_busy_poll_us` accepted: beyond a millisecond a thread polling one caller would
/// keep everybody else waiting.
pub const MAX_API_BUSY_POLL_US: u64 = 1000;

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
    /// Scale-out: `redis://host:port[/db]` shared by every node; empty runs a single node.
    pub redis: String,
    /// Prefix of the Redis keys and pub/sub channel, so several clusters can share one Redis.
    pub redis_prefix: String,
    /// Seconds without a heartbeat after which another node is taken as dead.
    pub cluster_node_timeout: u64,
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
            max_message_size: 64 * 1024,
            max_request_body: 1024 * 1024,
            max_send_queue: 1024 * 1024,
            api_busy_poll_us: 50,
            timestamp_window: crate::protocol::signature::DEFAULT_TIMESTAMP_WINDOW_SECS,
            redis: String::new(),
            redis_prefix: "webman-push".into(),
            cluster_node_timeout: 5,
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
    /// Webhook requests queued per destination before the oldest are dropped.
    pub webhook_queue: usize,
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
            webhook_queue: 1000,
        }
    }
}

impl ServerConfig {
    /// Reads a config from its JSON form (the PHP array, json-encoded).
    pub fn from_json(json: &str) -> Result<ServerConfig, String> {
        let config: ServerConfig =
            serde_json::from_str(json).map_err(|e| format!("invalid push server config: {e}"))?;
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
        parse_listen(&self.api, &["http://", "tcp://"])
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
        if !self.redis.is_empty() && self.cluster_node_timeout < 2 {
            return Err(
                "cluster_node_timeout must be at least 2 seconds (heartbeats are every second)".into(),
            );
        }
        if self.threads == 0 {
            return Err("threads must be at least 1".into());
        }
        if self.api_busy_poll_us > MAX_API_BUSY_POLL_US {
            return Err(format!(
                "api_busy_poll_us must be at most {MAX_API_BUSY_POLL_US} (a thread spends it waiting), got {}",
                self.api_busy_poll_us
            ));
        }
        self.websocket_addr()?;
        self.api_addr()?;
        Ok(())
    }
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
        assert!(
            err.contains("activity_timeout") || err.contains("invalid type"),
            "{err}"
        );
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
    fn an_api_busy_poll_over_a_millisecond_is_refused() {
        let err = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_busy_poll_us":5000}"#)
            .unwrap_err();
        assert!(err.contains("api_busy_poll_us must be at most 1000"), "{err}");
        let c = ServerConfig::from_json(r#"{"app_key":"k","app_secret":"s","api_busy_poll_us":0}"#).unwrap();
        assert_eq!(c.api_busy_poll_us, 0);
    }
}
