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
//! while the lease changed hands (the old leader's own channels and members included). When
//! Redis is unreachable every node keeps serving its own clients, logs it, reconnects with
//! back-off and shares its state again once Redis is back.
//!
//! This module is the adapter the rest of the server sees ([`RedisCluster`]: the hub's
//! [`ClusterAdapter`] and the webhooks' [`EmitLog`]) and the state its tasks share. The parts:
//! [`codec`] (the messages on the wire), [`link`] (the reading, writing and liveness tasks),
//! [`leader`] (the lease and reconciliation) and [`transport`] (Redis behind a small trait, so
//! the unit tests run all of it in memory), with two Redis transports: one server found through
//! [`connector`] (a URL, plain or TLS, or the master the sentinels name) and a Redis Cluster
//! over sharded pub/sub ([`sharded`]).

mod codec;
mod connector;
mod health;
mod leader;
mod link;
#[cfg(test)]
mod memory;
mod sharded;
#[cfg(test)]
mod tests;
mod transport;

use super::webhook::EmitLog;
use crate::hub::{ClusterAdapter, Hub, Publish};
use crate::server::shutdown::Shutdown;
use codec::{member_entry, Message};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use transport::{Command, RedisTransport, Transport};

const OUTGOING_QUEUE: usize = 100_000;
/// Most webhook records kept while Redis does not take them (see [`RedisCluster::unrecorded`]).
const MAX_UNRECORDED: usize = 10_000;

/// How often the cluster's tasks act. The server uses [`Timing::new`]; unit tests shrink it.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// Snapshots go out at least this often, and the lease is renewed as often.
    heartbeat: Duration,
    /// State changes are shared after this pause, so a burst of joins travels as one snapshot.
    debounce: Duration,
    /// How long the leader lease lasts without renewal.
    lease: Duration,
    /// A node silent this long is dead.
    node_timeout: Duration,
    /// How often silent nodes are looked for.
    liveness_check: Duration,
}

impl Timing {
    fn new(node_timeout: Duration) -> Timing {
        Timing {
            heartbeat: Duration::from_secs(1),
            debounce: Duration::from_millis(20),
            lease: Duration::from_millis(3000),
            node_timeout,
            liveness_check: Duration::from_millis(500),
        }
    }
}

/// The Redis side of the hub's cluster seam.
pub(crate) struct RedisCluster {
    node_id: String,
    bus: String,
    leader_key: String,
    reported_prefix: String,
    timing: Timing,
    /// What the writer sends; bounded, so a stalled Redis costs dropped messages, not memory.
    outgoing: mpsc::Sender<Command>,
    receiver: Mutex<Option<mpsc::Receiver<Command>>>,
    /// Apps whose state changed since their last snapshot went out.
    dirty: Mutex<HashSet<String>>,
    wake: Notify,
    dropped: AtomicU64,
    /// Queued messages (publishes, terminates) in batches Redis did not take.
    publish_failed: AtomicU64,
    /// Records of sent webhooks (SADD/SREM) Redis did not take, in order, written before anything
    /// else once it does: a leader that reported while Redis was failing must not have its
    /// reports taken as missing, and sent again, by whoever reconciles next.
    unrecorded: Mutex<std::collections::VecDeque<Command>>,
    /// Whether this node sends the cluster's channel and member webhooks.
    pub leader: Arc<AtomicBool>,
    /// When each other node was last heard from.
    last_seen: Mutex<HashMap<String, Instant>>,
    /// Reachability and traffic, for monitoring.
    pub health: health::LinkHealth,
}

impl RedisCluster {
    pub fn new(prefix: &str, node_timeout: Duration) -> Arc<RedisCluster> {
        RedisCluster::with_timing(prefix, Timing::new(node_timeout))
    }

    fn with_timing(prefix: &str, timing: Timing) -> Arc<RedisCluster> {
        let (outgoing, receiver) = mpsc::channel(OUTGOING_QUEUE);
        Arc::new(RedisCluster {
            node_id: format!("{:016x}", super::random::random_u64()),
            bus: format!("{prefix}:bus"),
            leader_key: format!("{prefix}:leader"),
            reported_prefix: format!("{prefix}:reported"),
            timing,
            outgoing,
            receiver: Mutex::new(Some(receiver)),
            dirty: Mutex::new(HashSet::new()),
            wake: Notify::new(),
            dropped: AtomicU64::new(0),
            publish_failed: AtomicU64::new(0),
            unrecorded: Mutex::new(std::collections::VecDeque::new()),
            leader: Arc::new(AtomicBool::new(false)),
            last_seen: Mutex::new(HashMap::new()),
            health: health::LinkHealth::default(),
        })
    }

    /// Starts the reader, the writer and the liveness check on the current runtime, with the
    /// Redis that `config`'s `redis*` keys describe.
    pub fn spawn(
        self: &Arc<Self>,
        config: &crate::config::ServerConfig,
        hub: Arc<Hub>,
        shutdown: Shutdown,
    ) -> Result<(), String> {
        let transport: Arc<dyn Transport> = if config.redis_cluster.is_empty() {
            let connector = connector::Connector::from_config(config)?;
            Arc::new(RedisTransport::open(connector, &self.bus))
        } else {
            let certificates = connector::certificates(config)?;
            Arc::new(sharded::ClusterTransport::open(
                &config.redis_cluster,
                certificates,
                &self.bus,
            )?)
        };
        self.spawn_on(transport, hub, shutdown)
    }

    /// Messages for the other nodes lost so far: `(not_sent, dropped)`, those Redis refused or
    /// could not be reached for, and those a full outgoing queue turned away.
    pub fn lost_messages(&self) -> (u64, u64) {
        (
            self.publish_failed.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
        )
    }

    fn spawn_on(
        self: &Arc<Self>,
        transport: Arc<dyn Transport>,
        hub: Arc<Hub>,
        shutdown: Shutdown,
    ) -> Result<(), String> {
        let receiver = self.receiver.lock().take().ok_or("cluster already started")?;
        tokio::spawn(link::read_loop(
            self.clone(),
            transport.clone(),
            hub.clone(),
            shutdown.clone(),
        ));
        tokio::spawn(link::write_loop(
            self.clone(),
            transport,
            hub.clone(),
            receiver,
            shutdown.clone(),
        ));
        tokio::spawn(link::liveness_loop(self.clone(), hub, shutdown));
        Ok(())
    }

    fn send(&self, message: &Message) {
        if let Some(text) = message.encode() {
            self.queue(Command::Publish(text));
        }
    }

    fn queue(&self, command: Command) {
        if self.outgoing.try_send(command).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_power_of_two() {
                tracing::warn!("cluster: outgoing queue full, {n} message(s) not forwarded so far");
            }
        }
    }

    /// Keeps the webhook records of a batch Redis did not take, to be written first next time.
    fn keep_unrecorded<'a>(&self, batch: impl IntoIterator<Item = &'a Command>) {
        let mut unrecorded = self.unrecorded.lock();
        for command in batch {
            if matches!(command, Command::SetAdd { .. } | Command::SetRemove { .. }) {
                if unrecorded.len() == MAX_UNRECORDED {
                    // The oldest record lost: its webhook may be reported once more later.
                    unrecorded.pop_front();
                }
                unrecorded.push_back(command.clone());
            }
        }
    }

    /// A node left (goodbye) or fell silent: its state leaves every app.
    fn forget(&self, hub: &Hub, node: &str) {
        self.last_seen.lock().remove(node);
        for app in hub.apps() {
            app.apply_remote(node, None);
        }
    }

    /// Other nodes heard from within `cluster_node_timeout`.
    pub fn peers_alive(&self) -> usize {
        self.last_seen.lock().len()
    }

    fn mark_all_dirty(&self, hub: &Hub) {
        self.dirty.lock().extend(hub.apps().map(|a| a.config.key.clone()));
        self.wake.notify_one();
    }

    /// This node's state of app `key`, encoded for the bus.
    fn snapshot_message(&self, hub: &Hub, key: &str) -> Option<String> {
        let app = hub.app_by_key(key)?;
        Message::Snapshot {
            node: self.node_id.clone(),
            app_key: key.to_owned(),
            snapshot: app.local_snapshot(),
        }
        .encode()
    }

    /// The keys of app `app_key`'s reported channels and reported members sets.
    fn reported_keys(&self, app_key: &str) -> (String, String) {
        let base = format!("{}:{app_key}", self.reported_prefix);
        (format!("{base}:channels"), format!("{base}:members"))
    }
}

impl EmitLog for RedisCluster {
    fn emitted(&self, app_key: &str, channel: &str, user_id: Option<&str>, arrived: bool) {
        let (channels_key, members_key) = self.reported_keys(app_key);
        let (key, member) = match user_id {
            Some(u) => (members_key, member_entry(channel, u)),
            None => (channels_key, channel.to_owned()),
        };
        self.queue(match arrived {
            true => Command::SetAdd { key, member },
            false => Command::SetRemove { key, member },
        });
    }
}

impl ClusterAdapter for RedisCluster {
    fn publish(&self, app_key: &str, p: &Publish) {
        self.send(&Message::Publish {
            node: self.node_id.clone(),
            app_key: app_key.to_owned(),
            channel: p.channel.to_string(),
            event: p.event.clone(),
            data: p.data.clone(),
            except: p.except.as_ref().map(|s| s.to_string()),
            user_id: p.user_id.clone(),
            from_client: p.from_client,
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
            node: self.node_id.clone(),
            app_key: app_key.to_owned(),
            user_id: user_id.to_owned(),
        });
    }
}

/// The prefix of the cluster's Redis keys and bus: `redis_prefix`, made a hash tag on a Redis
/// Cluster so that all of them live in one slot (one shard, one round trip per batch).
pub(crate) fn key_prefix(config: &crate::config::ServerConfig) -> String {
    match config.redis_cluster.is_empty() {
        true => config.redis_prefix.clone(),
        false => format!("{{{}}}", config.redis_prefix),
    }
}
