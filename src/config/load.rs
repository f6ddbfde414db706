//! Reading a [`ServerConfig`] from its JSON form, and the checks no type can express.
//!
//! Errors name the key (`apps[1].client_event_rate: invalid type: …`) so a webman user can find
//! the line in `app.php`.

use super::*;
use std::net::SocketAddr;

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
        if !(1..=1_000_000).contains(&self.console_queue) {
            return Err("console_queue must be between 1 and 1000000 events".into());
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
            if !(app.webhook_timeout > 0.0 && app.webhook_timeout <= 3600.0) {
                return Err(format!(
                    "app {}: webhook_timeout must be more than 0 and at most 3600 seconds, got {}",
                    app.key, app.webhook_timeout
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
            ("write_timeout", self.write_timeout),
            ("close_timeout", self.close_timeout),
            ("stop_timeout", self.stop_timeout),
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
