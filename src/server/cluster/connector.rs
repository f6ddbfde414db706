//! Where the cluster's Redis is, asked afresh for every new connection.
//!
//! A plain `redis://` or TLS `rediss://` URL names one server for good (user, password and
//! `/db` travel in the URL; a `redis_tls_ca` file is the trust anchor for self-signed setups,
//! and certificates are always verified). With Sentinel the master is whichever server the
//! sentinels name *now*: every connection the link opens after a failover is resolved through
//! them again, so a promoted replica is found without any other part knowing about Sentinel.

use crate::config::ServerConfig;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{ConnectionAddr, IntoConnectionInfo, TlsCertificates, TlsMode};
use std::time::Duration;

/// How long asking the sentinels for the master may take before the link retries.
const SENTINEL_LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// Makes `redis::Client`s for the current master.
pub(super) enum Connector {
    /// One fixed server.
    Url(redis::Client),
    /// The master of `redis_master`, as the sentinels report it.
    Sentinel(tokio::sync::Mutex<SentinelClient>),
}

impl Connector {
    /// The connector `config` describes: sentinels when `redis_sentinels` is set, else `redis`.
    pub fn from_config(config: &ServerConfig) -> Result<Connector, String> {
        let certificates = certificates(config)?;
        if config.redis_sentinels.is_empty() {
            return Connector::url(&config.redis, certificates);
        }
        Connector::sentinel(config, certificates)
    }

    fn url(url: &str, certificates: Option<TlsCertificates>) -> Result<Connector, String> {
        let invalid = |e: redis::RedisError| format!("invalid redis URL {}: {e}", redacted(url));
        let client = match certificates {
            Some(certificates) if url.starts_with("rediss://") => {
                redis::Client::build_with_tls(url, certificates).map_err(invalid)?
            }
            Some(_) => return Err("redis_tls_ca needs a rediss:// URL in redis".into()),
            None => redis::Client::open(url).map_err(invalid)?,
        };
        Ok(Connector::Url(client))
    }

    /// Sentinels from `redis_sentinels` (their own password, if any, in their URLs); the master's
    /// user, password, `/db` and TLS come from `redis` when it is set.
    fn sentinel(config: &ServerConfig, certificates: Option<TlsCertificates>) -> Result<Connector, String> {
        let mut node = SentinelNodeConnectionInfo::default();
        if !config.redis.is_empty() {
            let info = config
                .redis
                .as_str()
                .into_connection_info()
                .map_err(|e| format!("invalid redis URL {}: {e}", redacted(&config.redis)))?;
            if matches!(info.addr(), ConnectionAddr::TcpTls { .. }) {
                node = node.set_tls_mode(TlsMode::Secure);
            }
            node = node.set_redis_connection_info(info.redis_settings().clone());
        }
        if certificates.is_some() {
            return Err("redis_tls_ca is not supported together with redis_sentinels".into());
        }
        let sentinels = config.redis_sentinels.iter().map(String::as_str).collect();
        let client = SentinelClient::build(
            sentinels,
            config.redis_master.as_str(),
            Some(node),
            SentinelServerType::Master,
        )
        .map_err(|e| format!("invalid redis_sentinels: {e}"))?;
        Ok(Connector::Sentinel(tokio::sync::Mutex::new(client)))
    }

    /// A client for the master as it is now.
    pub async fn client(&self) -> redis::RedisResult<redis::Client> {
        match self {
            Connector::Url(client) => Ok(client.clone()),
            Connector::Sentinel(sentinel) => {
                let lookup = async { sentinel.lock().await.async_get_client().await };
                tokio::time::timeout(SENTINEL_LOOKUP_TIMEOUT, lookup)
                    .await
                    .map_err(|_| {
                        redis::RedisError::from((redis::ErrorKind::Io, "sentinel lookup timed out"))
                    })?
            }
        }
    }
}

/// The `redis_tls_ca` file as the trust anchor, if one is set.
pub(super) fn certificates(config: &ServerConfig) -> Result<Option<TlsCertificates>, String> {
    Ok(match config.redis_tls_ca.as_str() {
        "" => None,
        path => Some(TlsCertificates {
            client_tls: None,
            root_cert: Some(
                std::fs::read(path).map_err(|e| format!("redis_tls_ca: cannot read {path:?}: {e}"))?,
            ),
        }),
    })
}

/// `url` without its password, for error messages and logs.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://***@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_owned(),
    }
}
