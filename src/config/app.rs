//! One app's configuration: credentials, switches and limits.
//!
//! The webman config has one app at the top level and more under `apps`; both read into this
//! type, so a key means the same thing in either place.

use crate::protocol::origin::AllowedOrigins;
use serde::Deserialize;

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
    /// Seconds a webhook receiver has to answer one request before the attempt counts as failed.
    pub webhook_timeout: f64,
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
pub(super) fn file_mode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
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
            webhook_timeout: 10.0,
            webhook_queue: 1000,
            webhook_max_pending_bytes: 8 * 1024 * 1024,
            allowed_origins: AllowedOrigins::default(),
            allowed_origins_strict: false,
            api_rate_limit: 0,
        }
    }
}
