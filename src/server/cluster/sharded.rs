//! The [`Transport`] over a Redis Cluster (`redis_cluster` seeds).
//!
//! Plain PUBLISH in a Redis Cluster is copied to every shard; sharded pub/sub (`SSUBSCRIBE`/
//! `SPUBLISH`, Redis ≥ 7) keeps the bus on the one shard that owns its slot, so this transport
//! uses it and falls back to plain pub/sub on older servers. The bus, the lease and the
//! reported sets share one hash tag (see `key_prefix`), so they live in one slot: a batch is one
//! round trip to one shard, and a shard's failover moves all of them together. The redis
//! crate's cluster connection follows slot moves and failovers by itself and resubscribes
//! after reconnecting.

use super::transport::{within_connect_timeout, Commands, Error, Received, RedisBackend};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{PushInfo, PushKind, TlsCertificates};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

pub(super) struct ClusterTransport {
    seeds: Vec<String>,
    certificates: Option<TlsCertificates>,
    bus: String,
    /// Whether the servers know sharded pub/sub; found out by the first subscription.
    sharded: AtomicBool,
    commands: Commands<ClusterConnection>,
}

impl ClusterTransport {
    pub fn open(seeds: &[String], certificates: Option<TlsCertificates>, bus: &str) -> Result<Self, String> {
        let transport = ClusterTransport {
            seeds: seeds.to_vec(),
            certificates,
            bus: bus.to_owned(),
            sharded: AtomicBool::new(true),
            commands: Commands::new(),
        };
        transport
            .client(None)
            .map_err(|e| format!("invalid redis_cluster: {e}"))?;
        Ok(transport)
    }

    /// A client for the seeds; pushes (subscribed messages) go to `pushes` when given.
    fn client(&self, pushes: Option<mpsc::UnboundedSender<PushInfo>>) -> redis::RedisResult<ClusterClient> {
        let mut builder = ClusterClientBuilder::new(self.seeds.iter().map(String::as_str))
            .use_protocol(redis::ProtocolVersion::RESP3)
            .connection_timeout(Duration::from_secs(1))
            .response_timeout(Duration::from_secs(1))
            .retries(1);
        if let Some(certificates) = &self.certificates {
            builder = builder.certs(certificates.clone());
        }
        if let Some(pushes) = pushes {
            builder = builder.push_sender(pushes);
        }
        builder.build()
    }
}

/// The payload of a pushed bus message (`[channel, payload]`); other pushes carry none.
fn bus_payload(push: PushInfo) -> Option<Received> {
    if !matches!(push.kind, PushKind::SMessage | PushKind::Message) {
        return None;
    }
    match push.data.into_iter().nth(1)? {
        redis::Value::BulkString(bytes) => Some(Received::Bytes(bytes)),
        _ => None,
    }
}

impl RedisBackend for ClusterTransport {
    type Connection = ClusterConnection;

    fn commands(&self) -> &Commands<ClusterConnection> {
        &self.commands
    }

    async fn connect(&self) -> redis::RedisResult<ClusterConnection> {
        self.client(None)?.get_async_connection().await
    }

    fn bus(&self) -> (&'static str, &str) {
        let publish = if self.sharded.load(Ordering::Relaxed) {
            "SPUBLISH"
        } else {
            "PUBLISH"
        };
        (publish, &self.bus)
    }

    async fn subscribe_bus(&self) -> Result<BoxStream<'static, Received>, Error> {
        let (pushes, received) = mpsc::unbounded_channel();
        let subscribe = async {
            let mut connection = self.client(Some(pushes))?.get_async_connection().await?;
            if self.sharded.load(Ordering::Relaxed) {
                match connection.ssubscribe(&self.bus).await {
                    Ok(()) => return Ok(connection),
                    Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) => {
                        tracing::warn!("cluster: Redis has no sharded pub/sub ({e}); using PUBLISH");
                        self.sharded.store(false, Ordering::Relaxed);
                    }
                    Err(e) => return Err(e),
                }
            }
            connection.subscribe(&self.bus).await?;
            Ok::<_, redis::RedisError>(connection)
        };
        let connection = within_connect_timeout("subscribe timed out", subscribe).await?;
        // The connection lives as long as the stream. The stream ends when a node's connection
        // drops (a shard failing over): the reader then subscribes afresh, through a new
        // client that asks the cluster who owns the bus's slot now.
        let stream = futures_util::stream::unfold((received, connection), |(mut received, c)| async move {
            loop {
                let push = received.recv().await?;
                if push.kind == PushKind::Disconnection {
                    return None;
                }
                if let Some(message) = bus_payload(push) {
                    return Some((message, (received, c)));
                }
            }
        });
        Ok(stream.boxed())
    }
}
