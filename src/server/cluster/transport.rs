//! What the cluster needs from Redis, as a small trait: the bus (publish, subscribe), the
//! leader's reported sets and the leader lease.
//!
//! The link and the leader only speak [`Transport`], so the same cluster logic runs against a
//! real Redis ([`RedisTransport`]) and, in unit tests, against an in-process imitation
//! (`memory::MemoryTransport`). One transport carries one cluster's bus: the pub/sub channel
//! is fixed when it is made.
//!
//! The two Redis transports (one server here, a Redis Cluster in `sharded`) differ only in how
//! they connect and subscribe ([`RedisBackend`]); the commands they run, [`Commands`], and the
//! [`Transport`] built on them are written once, here.

use super::connector::Connector;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use parking_lot::Mutex;
use redis::aio::{ConnectionLike, ConnectionManager};
use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

pub(super) type Error = Box<dyn std::error::Error + Send + Sync>;

/// A command the writer sends; a batch of them travels in one round trip, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command {
    /// PUBLISH an encoded message on the bus.
    Publish(String),
    /// Remember a reported channel or member: SADD.
    SetAdd { key: String, member: String },
    /// Forget it: SREM.
    SetRemove { key: String, member: String },
}

/// One message heard on the bus. Kept as the transport received it, so that reading the
/// payload costs no copy.
pub(super) enum Received {
    Redis(redis::Msg),
    /// A payload taken out of its message (sharded pub/sub's pushes; the in-memory bus).
    Bytes(Vec<u8>),
}

impl Received {
    pub fn payload(&self) -> &[u8] {
        match self {
            Received::Redis(m) => m.get_payload_bytes(),
            Received::Bytes(b) => b,
        }
    }
}

/// The operations the cluster uses. None may wait longer than a few seconds: the writer runs
/// them between batches.
pub(super) trait Transport: Send + Sync {
    /// Subscribes to the bus. The stream ends when the connection is lost.
    fn subscribe(&self) -> BoxFuture<'_, Result<BoxStream<'static, Received>, Error>>;

    /// Runs `commands` in one round trip. After a failure the next call connects afresh.
    fn execute<'a>(&'a self, commands: &'a [Command]) -> BoxFuture<'a, Result<(), Error>>;

    /// SMEMBERS.
    fn set_members<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<HashSet<String>, Error>>;

    /// Takes the lease `key` for `holder` if nobody holds it, or extends it if `holder` does, for
    /// `ttl`; answers whether `holder` holds it now.
    fn hold_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// Whether a command connection is open: a stopping node says goodbye only then, rather
    /// than dial a Redis it could not reach.
    fn connected(&self) -> bool;

    /// Gives the lease up if `holder` holds it, so the next leader need not wait for it to expire.
    fn release_lease<'a>(&'a self, key: &'a str, holder: &'a str) -> BoxFuture<'a, Result<(), Error>>;
}

/// Longest a new connection (with a Sentinel lookup before it) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);

/// Runs `future` (opening a connection or a subscription) for at most [`CONNECT_TIMEOUT`]; past
/// it, fails as an I/O error that says `timed_out`.
pub(super) async fn within_connect_timeout<T>(
    timed_out: &'static str,
    future: impl Future<Output = redis::RedisResult<T>>,
) -> redis::RedisResult<T> {
    tokio::time::timeout(CONNECT_TIMEOUT, future)
        .await
        .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, timed_out)))?
}

/// Holds the lease in one atomic step: extend it if ours, else take it if free.
const HOLD_LEASE: &str = r"
    if redis.call('get', KEYS[1]) == ARGV[1] then
        return redis.call('pexpire', KEYS[1], ARGV[2])
    end
    if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
    return 0";

const RELEASE_LEASE: &str =
    r"if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/// The command side both Redis transports share: one cached command connection `C` (short
/// timeouts, so a dead Redis cannot stall the writer) and the commands run over it. After any
/// failure the connection is forgotten (the server may be gone, or a demoted master answering
/// READONLY), so the next command connects afresh and, after a failover, reaches the new master
/// rather than retrying the old one.
pub(super) struct Commands<C> {
    connection: Mutex<Option<C>>,
    hold_lease: redis::Script,
    release_lease: redis::Script,
}

impl<C: ConnectionLike + Clone + Send> Commands<C> {
    pub fn new() -> Self {
        Commands {
            connection: Mutex::new(None),
            hold_lease: redis::Script::new(HOLD_LEASE),
            release_lease: redis::Script::new(RELEASE_LEASE),
        }
    }

    pub fn connected(&self) -> bool {
        self.connection.lock().is_some()
    }

    /// The open connection, or a new one from `connect` (within [`CONNECT_TIMEOUT`]), kept for
    /// the next command.
    pub async fn connection(
        &self,
        connect: impl Future<Output = redis::RedisResult<C>>,
    ) -> redis::RedisResult<C> {
        if let Some(c) = self.connection.lock().as_ref() {
            return Ok(c.clone());
        }
        let c = within_connect_timeout("connect timed out", connect).await?;
        *self.connection.lock() = Some(c.clone());
        Ok(c)
    }

    fn drop_on_error<T>(&self, result: redis::RedisResult<T>) -> redis::RedisResult<T> {
        if result.is_err() {
            *self.connection.lock() = None;
        }
        result
    }

    /// Runs `commands` as one pipeline over `c`, publishing on `bus` with the verb `publish`
    /// (`PUBLISH`, or `SPUBLISH` for sharded pub/sub).
    pub async fn execute(
        &self,
        mut c: C,
        publish: &str,
        bus: &str,
        commands: &[Command],
    ) -> redis::RedisResult<()> {
        let mut pipe = redis::pipe();
        for command in commands {
            match command {
                Command::Publish(text) => pipe.cmd(publish).arg(bus).arg(text).ignore(),
                Command::SetAdd { key, member } => pipe.cmd("SADD").arg(key).arg(member).ignore(),
                Command::SetRemove { key, member } => pipe.cmd("SREM").arg(key).arg(member).ignore(),
            };
        }
        self.drop_on_error(pipe.query_async::<()>(&mut c).await)
    }

    pub async fn set_members(&self, mut c: C, key: &str) -> redis::RedisResult<HashSet<String>> {
        self.drop_on_error(redis::cmd("SMEMBERS").arg(key).query_async(&mut c).await)
    }

    pub async fn hold_lease(
        &self,
        mut c: C,
        key: &str,
        holder: &str,
        ttl: Duration,
    ) -> redis::RedisResult<bool> {
        let mut invocation = self.hold_lease.key(key);
        invocation.arg(holder).arg(ttl.as_millis() as u64);
        let held: i64 = self.drop_on_error(invocation.invoke_async(&mut c).await)?;
        Ok(held == 1)
    }

    pub async fn release_lease(&self, mut c: C, key: &str, holder: &str) -> redis::RedisResult<()> {
        let mut invocation = self.release_lease.key(key);
        invocation.arg(holder);
        self.drop_on_error(invocation.invoke_async::<i64>(&mut c).await)?;
        Ok(())
    }
}

/// What sets one Redis transport apart from another: how it reaches its servers and listens on
/// the bus. Everything else, the commands over the shared [`Commands`], they have in common
/// through the [`Transport`] impl below, so neither transport repeats it.
pub(super) trait RedisBackend: Send + Sync {
    type Connection: ConnectionLike + Clone + Send;

    /// The command side: the cached connection and what runs over it.
    fn commands(&self) -> &Commands<Self::Connection>;

    /// Opens a new command connection; called only when none is cached.
    fn connect(&self) -> impl Future<Output = redis::RedisResult<Self::Connection>> + Send;

    /// The bus (pub/sub channel) and the verb that publishes on it: `PUBLISH`, or `SPUBLISH`
    /// where the servers have sharded pub/sub.
    fn bus(&self) -> (&'static str, &str);

    /// Subscribes to the bus; see [`Transport::subscribe`].
    fn subscribe_bus(&self) -> impl Future<Output = Result<BoxStream<'static, Received>, Error>> + Send;
}

impl<R: RedisBackend> Transport for R {
    fn subscribe(&self) -> BoxFuture<'_, Result<BoxStream<'static, Received>, Error>> {
        Box::pin(self.subscribe_bus())
    }

    fn execute<'a>(&'a self, commands: &'a [Command]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let c = self.commands().connection(self.connect()).await?;
            let (publish, bus) = self.bus();
            Ok(self.commands().execute(c, publish, bus, commands).await?)
        })
    }

    fn set_members<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<HashSet<String>, Error>> {
        Box::pin(async move {
            let c = self.commands().connection(self.connect()).await?;
            Ok(self.commands().set_members(c, key).await?)
        })
    }

    fn hold_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let c = self.commands().connection(self.connect()).await?;
            Ok(self.commands().hold_lease(c, key, holder, ttl).await?)
        })
    }

    fn connected(&self) -> bool {
        self.commands().connected()
    }

    fn release_lease<'a>(&'a self, key: &'a str, holder: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let c = self.commands().connection(self.connect()).await?;
            Ok(self.commands().release_lease(c, key, holder).await?)
        })
    }
}

/// The real thing over one Redis (found through the [`Connector`], so after a failover the
/// next command connection reaches the new master): a pub/sub connection per subscription and
/// the shared [`Commands`].
pub(super) struct RedisTransport {
    connector: Connector,
    bus: String,
    commands: Commands<ConnectionManager>,
}

impl RedisTransport {
    pub fn open(connector: Connector, bus: &str) -> RedisTransport {
        RedisTransport {
            connector,
            bus: bus.to_owned(),
            commands: Commands::new(),
        }
    }
}

impl RedisBackend for RedisTransport {
    type Connection = ConnectionManager;

    fn commands(&self) -> &Commands<ConnectionManager> {
        &self.commands
    }

    async fn connect(&self) -> redis::RedisResult<ConnectionManager> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let client = self.connector.client().await?;
        client.get_connection_manager_with_config(config).await
    }

    fn bus(&self) -> (&'static str, &str) {
        ("PUBLISH", &self.bus)
    }

    async fn subscribe_bus(&self) -> Result<BoxStream<'static, Received>, Error> {
        let subscribe = async {
            let mut pubsub = self.connector.client().await?.get_async_pubsub().await?;
            pubsub.subscribe(&self.bus).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = within_connect_timeout("subscribe timed out", subscribe).await?;
        Ok(pubsub.into_on_message().map(Received::Redis).boxed())
    }
}
