//! Scale-out over Redis: several servers sharing one Redis behave as one.
//!
//! All nodes of a cluster talk on one pub/sub channel (`{prefix}:bus`). A node sends:
//! its publishes (delivered by every other node to its own subscribers), a snapshot of its state
//! per app whenever it changes and once a second as a heartbeat, terminate requests, and a
//! goodbye when it stops. A node whose heartbeat stops for `cluster_node_timeout` is taken as
//! dead: its members and channels leave the cluster, with member_removed and vacated once.
//!
//! Webhooks about the cluster as a whole are sent by one node, the leader, which holds a short
//! Redis lease (`{prefix}:leader`) and records what it reported in Redis sets; a node that takes
//! the lease over compares those sets with the cluster's state and reports what nobody did
//! while the lease changed hands (the old leader's own channels and members included). When Redis is unreachable every node keeps serving its own
//! clients, logs it, reconnects with back-off and shares its state again once Redis is back.

use super::webhook::EmitLog;
use crate::hub::{ChannelEvent, ClusterAdapter, Hub, NodeSnapshot, Publish};
use crate::protocol::{ChannelName, SocketId};
use parking_lot::Mutex;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;

const HEARTBEAT: Duration = Duration::from_secs(1);
/// State changes are shared after this pause, so a burst of joins travels as one snapshot.
const DEBOUNCE: Duration = Duration::from_millis(20);
const LEASE_MS: u64 = 3000;
const OUTGOING_QUEUE: usize = 100_000;

/// A message on the bus.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t")]
enum Message {
    #[serde(rename = "p")]
    Publish {
        n: String,
        a: String,
        c: String,
        e: String,
        d: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        x: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        u: Option<String>,
        #[serde(default)]
        f: bool,
    },
    #[serde(rename = "s")]
    Snapshot { n: String, a: String, s: NodeSnapshot },
    #[serde(rename = "x")]
    Terminate { n: String, a: String, u: String },
    #[serde(rename = "b")]
    Goodbye { n: String },
}

/// What the writer sends to Redis.
enum Outgoing {
    Publish(String),
    /// Remember (or forget) a reported channel or member: SADD / SREM on a set.
    Report {
        key: String,
        member: String,
        add: bool,
    },
}

/// The Redis side of the hub's cluster seam.
pub(crate) struct RedisCluster {
    node_id: String,
    bus: String,
    leader_key: String,
    node_timeout: Duration,
    reported_prefix: String,
    outgoing: mpsc::Sender<Outgoing>,
    receiver: Mutex<Option<mpsc::Receiver<Outgoing>>>,
    dirty: Mutex<HashSet<String>>,
    wake: Notify,
    dropped: AtomicU64,
    /// Whether this node sends the cluster's channel and member webhooks.
    pub leader: Arc<AtomicBool>,
    last_seen: Mutex<HashMap<String, Instant>>,
}

impl RedisCluster {
    pub fn new(prefix: &str, node_timeout: Duration) -> Arc<RedisCluster> {
        let (outgoing, receiver) = mpsc::channel(OUTGOING_QUEUE);
        Arc::new(RedisCluster {
            node_id: random_node_id(),
            bus: format!("{prefix}:bus"),
            leader_key: format!("{prefix}:leader"),
            reported_prefix: format!("{prefix}:reported"),
            node_timeout,
            outgoing,
            receiver: Mutex::new(Some(receiver)),
            dirty: Mutex::new(HashSet::new()),
            wake: Notify::new(),
            dropped: AtomicU64::new(0),
            leader: Arc::new(AtomicBool::new(false)),
            last_seen: Mutex::new(HashMap::new()),
        })
    }

    fn send(&self, message: &Message) {
        let Ok(text) = serde_json::to_string(message) else {
            return;
        };
        self.queue(Outgoing::Publish(text));
    }

    fn queue(&self, item: Outgoing) {
        if self.outgoing.try_send(item).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_power_of_two() {
                eprintln!("webman-push: cluster: outgoing queue full, {n} message(s) not forwarded so far");
            }
        }
    }

    /// Starts the reader, the writer and the liveness check on the current runtime.
    pub fn spawn(
        self: &Arc<Self>,
        url: &str,
        hub: Arc<Hub>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid redis URL {url:?}: {e}"))?;
        let receiver = self.receiver.lock().take().ok_or("cluster already started")?;
        tokio::spawn(
            self.clone()
                .read_loop(client.clone(), hub.clone(), shutdown.clone()),
        );
        tokio::spawn(
            self.clone()
                .write_loop(client, hub.clone(), receiver, shutdown.clone()),
        );
        tokio::spawn(self.clone().expire_loop(hub, shutdown));
        Ok(())
    }

    async fn read_loop(
        self: Arc<Self>,
        client: redis::Client,
        hub: Arc<Hub>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut backoff = Duration::from_millis(100);
        let mut was_down = false;
        loop {
            let connected = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&self.bus).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            let mut pubsub = tokio::select! {
                r = connected => match r {
                    Ok(p) => p,
                    Err(e) => {
                        if !was_down {
                            eprintln!("webman-push: cluster: Redis unreachable ({e}); serving local clients, retrying");
                            was_down = true;
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = shutdown.changed() => return,
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                },
                _ = shutdown.changed() => return,
            };
            if was_down {
                eprintln!("webman-push: cluster: connected to Redis again; resynchronising");
            }
            backoff = Duration::from_millis(100);
            // Tell the others our state now rather than at the next heartbeat.
            self.mark_all_dirty(&hub);
            let mut stream = pubsub.on_message();
            loop {
                tokio::select! {
                    message = futures_util::StreamExt::next(&mut stream) => match message {
                        Some(m) => self.handle(&hub, m.get_payload_bytes()),
                        None => break,
                    },
                    _ = shutdown.changed() => return,
                }
            }
            eprintln!("webman-push: cluster: lost the Redis connection; serving local clients, reconnecting");
            was_down = true;
        }
    }

    fn handle(&self, hub: &Hub, payload: &[u8]) {
        let Ok(message) = serde_json::from_slice::<Message>(payload) else {
            return;
        };
        match message {
            Message::Publish {
                n,
                a,
                c,
                e,
                d,
                x,
                u,
                f,
            } if n != self.node_id => {
                let (Some(app), Ok(channel)) = (hub.app_by_key(&a), ChannelName::parse(&c, usize::MAX))
                else {
                    return;
                };
                let except = x.as_deref().and_then(SocketId::parse);
                let _scheduling = super::flusher::Batch::begin();
                app.deliver_local(&Publish {
                    channel,
                    event: e,
                    data: d,
                    except,
                    user_id: u,
                    from_client: f,
                });
            }
            Message::Snapshot { n, a, s } if n != self.node_id => {
                self.last_seen.lock().insert(n.clone(), Instant::now());
                if let Some(app) = hub.app_by_key(&a) {
                    app.apply_remote(&n, Some(s));
                }
            }
            Message::Terminate { n, a, u } if n != self.node_id => {
                if let Some(app) = hub.app_by_key(&a) {
                    app.terminate_local_user_connections(&u);
                }
            }
            Message::Goodbye { n } if n != self.node_id => self.forget(hub, &n),
            _ => {}
        }
    }

    fn forget(&self, hub: &Hub, node: &str) {
        self.last_seen.lock().remove(node);
        for app in hub.apps() {
            app.apply_remote(node, None);
        }
    }

    fn mark_all_dirty(&self, hub: &Hub) {
        self.dirty.lock().extend(hub.apps().map(|a| a.config.key.clone()));
        self.wake.notify_one();
    }

    async fn write_loop(
        self: Arc<Self>,
        client: redis::Client,
        hub: Arc<Hub>,
        mut outgoing: mpsc::Receiver<Outgoing>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut conn: Option<ConnectionManager> = None;
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        let mut failing = false;
        loop {
            let mut batch = Vec::new();
            tokio::select! {
                Some(item) = outgoing.recv() => {
                    batch.push(item);
                    while let Ok(more) = outgoing.try_recv() {
                        batch.push(more);
                        if batch.len() >= 512 { break; }
                    }
                }
                _ = self.wake.notified() => {
                    tokio::time::sleep(DEBOUNCE).await;
                    let dirty: Vec<String> = self.dirty.lock().drain().collect();
                    batch.extend(dirty.iter().filter_map(|k| self.snapshot_message(&hub, k)).map(Outgoing::Publish));
                }
                _ = heartbeat.tick() => {
                    self.dirty.lock().clear();
                    let snapshots = hub.apps().filter_map(|a| self.snapshot_message(&hub, &a.config.key));
                    batch.extend(snapshots.map(Outgoing::Publish));
                    let was_leader = self.leader.load(Ordering::Acquire);
                    self.renew_lease(&client, &mut conn).await;
                    if !was_leader && self.leader.load(Ordering::Acquire) {
                        self.reconcile(&client, &mut conn, &hub).await;
                    }
                }
                _ = shutdown.changed() => {
                    self.say_goodbye(&mut conn).await;
                    return;
                }
            }
            if batch.is_empty() {
                continue;
            }
            match self.publish_all(&client, &mut conn, &batch).await {
                Ok(()) => failing = false,
                Err(e) => {
                    if !failing {
                        eprintln!(
                            "webman-push: cluster: cannot publish to Redis ({e}); messages are not forwarded"
                        );
                        failing = true;
                    }
                    conn = None;
                }
            }
        }
    }

    fn snapshot_message(&self, hub: &Hub, key: &str) -> Option<String> {
        let app = hub.app_by_key(key)?;
        let message = Message::Snapshot {
            n: self.node_id.clone(),
            a: key.to_owned(),
            s: app.local_snapshot(),
        };
        serde_json::to_string(&message).ok()
    }

    async fn connection(
        client: &redis::Client,
        conn: &mut Option<ConnectionManager>,
    ) -> redis::RedisResult<ConnectionManager> {
        if let Some(c) = conn {
            return Ok(c.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let c = tokio::time::timeout(
            Duration::from_secs(2),
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "connect timed out")))??;
        *conn = Some(c.clone());
        Ok(c)
    }

    async fn publish_all(
        &self,
        client: &redis::Client,
        conn: &mut Option<ConnectionManager>,
        batch: &[Outgoing],
    ) -> redis::RedisResult<()> {
        let mut c = Self::connection(client, conn).await?;
        let mut pipe = redis::pipe();
        for item in batch {
            match item {
                Outgoing::Publish(text) => pipe.cmd("PUBLISH").arg(&self.bus).arg(text).ignore(),
                Outgoing::Report {
                    key,
                    member,
                    add: true,
                } => pipe.cmd("SADD").arg(key).arg(member).ignore(),
                Outgoing::Report {
                    key,
                    member,
                    add: false,
                } => pipe.cmd("SREM").arg(key).arg(member).ignore(),
            };
        }
        pipe.query_async::<()>(&mut c).await
    }

    fn reported_keys(&self, app_key: &str) -> (String, String) {
        let base = format!("{}:{app_key}", self.reported_prefix);
        (format!("{base}:channels"), format!("{base}:members"))
    }

    /// A new leader compares what was reported with what the cluster holds now and reports the
    /// difference: arrivals and departures nobody reported while the lease changed hands.
    async fn reconcile(&self, client: &redis::Client, conn: &mut Option<ConnectionManager>, hub: &Hub) {
        let Ok(mut c) = Self::connection(client, conn).await else {
            return;
        };
        for app in hub.apps() {
            let (channels_key, members_key) = self.reported_keys(&app.config.key);
            let reported = async {
                let channels: HashSet<String> = redis::cmd("SMEMBERS")
                    .arg(&channels_key)
                    .query_async(&mut c)
                    .await?;
                let members: HashSet<String> = redis::cmd("SMEMBERS")
                    .arg(&members_key)
                    .query_async(&mut c)
                    .await?;
                Ok::<_, redis::RedisError>((channels, members))
            };
            let Ok((reported_channels, reported_members)) = reported.await else {
                return;
            };
            let mut channels = HashSet::new();
            let mut members = HashSet::new();
            for (name, _) in app.channels("") {
                for m in app.presence_members(name.as_str()) {
                    members.insert(member_entry(name.as_str(), &m.user_id));
                }
                channels.insert(name.to_string());
            }
            let named = |c: &str| ChannelName::parse(c, usize::MAX).ok();
            for c in channels.difference(&reported_channels).filter_map(|c| named(c)) {
                app.notify_observer(ChannelEvent::Occupied { channel: c });
            }
            for entry in members.difference(&reported_members) {
                if let Some((c, user_id)) = parse_member_entry(entry) {
                    app.notify_observer(ChannelEvent::MemberAdded { channel: c, user_id });
                }
            }
            for entry in reported_members.difference(&members) {
                if let Some((c, user_id)) = parse_member_entry(entry) {
                    app.notify_observer(ChannelEvent::MemberRemoved { channel: c, user_id });
                }
            }
            for c in reported_channels.difference(&channels).filter_map(|c| named(c)) {
                app.notify_observer(ChannelEvent::Vacated { channel: c });
            }
        }
    }

    /// Takes or keeps the leader lease; without Redis nobody is leader.
    async fn renew_lease(&self, client: &redis::Client, conn: &mut Option<ConnectionManager>) {
        const SCRIPT: &str = r"
            if redis.call('get', KEYS[1]) == ARGV[1] then
                return redis.call('pexpire', KEYS[1], ARGV[2])
            end
            if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
            return 0";
        let held = match Self::connection(client, conn).await {
            Ok(mut c) => redis::Script::new(SCRIPT)
                .key(&self.leader_key)
                .arg(&self.node_id)
                .arg(LEASE_MS)
                .invoke_async::<i64>(&mut c)
                .await
                .map(|r| r == 1)
                .unwrap_or(false),
            Err(_) => false,
        };
        self.leader.store(held, Ordering::Release);
    }

    async fn say_goodbye(&self, conn: &mut Option<ConnectionManager>) {
        let Some(c) = conn.as_mut() else { return };
        let goodbye = serde_json::to_string(&Message::Goodbye {
            n: self.node_id.clone(),
        })
        .unwrap_or_default();
        let release =
            r"if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
        let _ = tokio::time::timeout(Duration::from_millis(300), async {
            let _ = redis::cmd("PUBLISH")
                .arg(&self.bus)
                .arg(goodbye)
                .query_async::<()>(c)
                .await;
            let _ = redis::Script::new(release)
                .key(&self.leader_key)
                .arg(&self.node_id)
                .invoke_async::<i64>(c)
                .await;
        })
        .await;
    }

    /// Drops nodes whose heartbeat stopped.
    async fn expire_loop(self: Arc<Self>, hub: Arc<Hub>, mut shutdown: watch::Receiver<bool>) {
        let mut every = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = every.tick() => {
                    let now = Instant::now();
                    let dead: Vec<String> = self
                        .last_seen
                        .lock()
                        .iter()
                        .filter(|(_, seen)| now.duration_since(**seen) > self.node_timeout)
                        .map(|(n, _)| n.clone())
                        .collect();
                    for node in dead {
                        eprintln!("webman-push: cluster: node {node} stopped answering; removing its clients");
                        self.forget(&hub, &node);
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// A reported member as a set entry: `["channel","user_id"]`.
fn member_entry(channel: &str, user_id: &str) -> String {
    serde_json::json!([channel, user_id]).to_string()
}

fn parse_member_entry(entry: &str) -> Option<(ChannelName, String)> {
    let (channel, user_id): (String, String) = serde_json::from_str(entry).ok()?;
    Some((ChannelName::parse(&channel, usize::MAX).ok()?, user_id))
}

impl EmitLog for RedisCluster {
    fn emitted(&self, app_key: &str, channel: &str, user_id: Option<&str>, arrived: bool) {
        let (channels_key, members_key) = self.reported_keys(app_key);
        let (key, member) = match user_id {
            Some(u) => (members_key, member_entry(channel, u)),
            None => (channels_key, channel.to_owned()),
        };
        self.queue(Outgoing::Report {
            key,
            member,
            add: arrived,
        });
    }
}

impl ClusterAdapter for RedisCluster {
    fn publish(&self, app_key: &str, p: &Publish) {
        self.send(&Message::Publish {
            n: self.node_id.clone(),
            a: app_key.to_owned(),
            c: p.channel.to_string(),
            e: p.event.clone(),
            d: p.data.clone(),
            x: p.except.as_ref().map(|s| s.to_string()),
            u: p.user_id.clone(),
            f: p.from_client,
        });
    }

    fn state_changed(&self, app_key: &str) {
        let mut dirty = self.dirty.lock();
        if dirty.insert(app_key.to_owned()) && dirty.len() == 1 {
            self.wake.notify_one();
        }
    }

    fn terminate_user(&self, app_key: &str, user_id: &str) {
        self.send(&Message::Terminate {
            n: self.node_id.clone(),
            a: app_key.to_owned(),
            u: user_id.to_owned(),
        });
    }
}

fn random_node_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}
