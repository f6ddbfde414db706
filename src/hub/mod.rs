//! The channel hub: which connection listens to which channel, presence membership, fan-out.
//!
//! The hub owns no sockets. A connection registers an [`Outbox`] (the transport's send queue) and
//! the hub pushes shared, already-serialised [`Frame`]s into it; pushing never blocks on I/O, so
//! no lock here is ever held across a write. Channels are spread over shards so that publishes
//! and subscriptions on different channels do not contend.
//!
//! Every publish passes through [`ClusterAdapter`], the one seam where a multi-node adapter
//! (Redis pub/sub) forwards events to other nodes; the default, [`LocalOnly`], forwards nothing.

mod counters;
mod presence;
mod rate;
mod remote;
mod session;
mod users;

pub use counters::{AppCounters, Census, ChannelType, MessageKind, Source};
pub use presence::{PresenceMember, UserId};
pub use remote::NodeSnapshot;
pub use session::Session;
pub use users::SignedInUser;

use crate::config::AppConfig;
use crate::protocol::channel::is_cache_channel;
use crate::protocol::message::{event_frame, subscription_count_frame};
use crate::protocol::{ChannelName, ErrorCode, SocketId};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use presence::Presence;
use remote::RemoteNodes;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use users::Users;

const SHARDS: usize = 16;
/// Above this many subscribers, `subscription_count` goes out at most every
/// [`SUBSCRIPTION_COUNT_INTERVAL`] (Pusher's rule).
const SUBSCRIPTION_COUNT_BURST: usize = 100;
const SUBSCRIPTION_COUNT_INTERVAL: Duration = Duration::from_secs(5);

/// One serialised server→client message, shared by every recipient (cloning is a refcount).
///
/// The transport frames it for the wire once, for all recipients, through [`Frame::encoded`]:
/// a fan-out then hands the kernel one shared buffer per socket and does no per-recipient work.
#[derive(Clone)]
pub struct Frame(Arc<FrameInner>);

struct FrameInner {
    text: Bytes,
    encoded: OnceLock<Bytes>,
}

impl Frame {
    fn new(text: Bytes) -> Frame {
        Frame(Arc::new(FrameInner {
            text,
            encoded: OnceLock::new(),
        }))
    }

    pub fn as_str(&self) -> &str {
        // Built from a String, see `From<String>`.
        std::str::from_utf8(&self.0.text).unwrap_or_default()
    }

    /// The transport's wire form of this message: `encode` runs for the first recipient only,
    /// the others share its bytes.
    pub fn encoded(&self, encode: impl FnOnce(&[u8]) -> Bytes) -> Bytes {
        self.0.encoded.get_or_init(|| encode(&self.0.text)).clone()
    }
}

impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        self.0.text == other.0.text
    }
}

impl Eq for Frame {}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Frame").field(&self.as_str()).finish()
    }
}

impl From<String> for Frame {
    fn from(s: String) -> Self {
        Frame::new(Bytes::from(s))
    }
}

impl From<&'static str> for Frame {
    fn from(s: &'static str) -> Self {
        Frame::new(Bytes::from_static(s.as_bytes()))
    }
}

/// Where the hub puts frames for one connection. Implemented by the WebSocket transport.
pub trait Outbox: Send + Sync {
    /// Queues a frame. Must not block; a transport that cannot keep up closes the connection.
    fn send(&self, frame: Frame);
    /// Asks the transport to close the connection with a Pusher close code.
    fn close(&self, code: u16, reason: &str);
}

/// An event to deliver to one channel's subscribers.
#[derive(Debug, Clone)]
pub struct Publish {
    pub channel: ChannelName,
    pub event: String,
    /// The JSON string that goes into the frame's `data`.
    pub data: String,
    /// The connection that must not receive it (the sender of a client event, or the API's `socket_id`).
    pub except: Option<SocketId>,
    /// Set on client events in presence channels.
    pub user_id: Option<String>,
    /// Client events are relayed but never cached.
    pub from_client: bool,
}

impl Publish {
    pub fn frame(&self) -> Frame {
        Frame::from(event_frame(
            &self.event,
            self.channel.as_str(),
            &self.data,
            self.user_id.as_deref(),
        ))
    }
}

/// A `pusher_internal:*` frame (member_added, member_removed) for one channel.
fn internal_frame(channel: &ChannelName, event: &str, data: String) -> Frame {
    Frame::from(event_frame(event, channel.as_str(), &data, None))
}

/// The seam for running several nodes as one: what this node tells the others.
///
/// What the others tell this node comes back through [`AppHub::deliver_local`] (their
/// publishes), [`AppHub::apply_remote`] (their state) and
/// [`AppHub::terminate_user_connections`]. None of these calls may wait on I/O.
pub trait ClusterAdapter: Send + Sync {
    /// Called after every local publish (HTTP API, client event, in-process Api).
    fn publish(&self, app_key: &str, publish: &Publish);
    /// This node's channels, presence members or signed-in users of the app changed.
    fn state_changed(&self, _app_key: &str) {}
    /// The app asked to close a user's connections on every node.
    fn terminate_user(&self, _app_key: &str, _user_id: &str) {}
}

/// Something that changed in a channel: what webhooks report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelEvent {
    /// The first subscriber arrived.
    Occupied { channel: ChannelName },
    /// The last subscriber left.
    Vacated { channel: ChannelName },
    /// A user's first socket joined a presence channel.
    MemberAdded { channel: ChannelName, user_id: UserId },
    /// A user's last socket left a presence channel.
    MemberRemoved { channel: ChannelName, user_id: UserId },
    /// A client subscribed to an empty cache channel.
    CacheMiss { channel: ChannelName },
    /// A channel's subscription count changed (apps with `subscription_count`; throttled on busy channels).
    SubscriptionCount { channel: ChannelName, count: usize },
    /// A client event was relayed.
    ClientEvent {
        channel: ChannelName,
        event: String,
        data: String,
        socket_id: SocketId,
        user_id: Option<UserId>,
    },
}

/// Told about every [`ChannelEvent`] of one app, in order per channel. Called with the channel's
/// shard locked, so it must only queue the event, never wait.
pub trait Observer: Send + Sync {
    fn notify(&self, event: ChannelEvent);
}

/// Nobody is listening.
pub struct NoObserver;

impl Observer for NoObserver {
    fn notify(&self, _event: ChannelEvent) {}
}

/// A single node: nothing to forward.
pub struct LocalOnly;

impl ClusterAdapter for LocalOnly {
    fn publish(&self, _app_key: &str, _publish: &Publish) {}
}

struct Subscriber {
    socket_id: SocketId,
    outbox: Arc<dyn Outbox>,
}

#[derive(Default)]
struct Channel {
    /// Keyed by the connection's numeric id (unique within this node).
    subscribers: HashMap<u64, Subscriber>,
    presence: Option<Presence>,
    /// When `subscription_count` last went out, and whether a newer count is waiting.
    count_sent: Option<Instant>,
    count_dirty: bool,
}

impl Channel {
    /// Tells every subscriber the new count, throttled on busy channels.
    /// Returns the count when it went out (the subscription_count webhook reports it too).
    fn announce_count(&mut self, name: &ChannelName, remote: usize, now: Instant) -> Option<usize> {
        let n = self.subscribers.len() + remote;
        let recent = self
            .count_sent
            .is_some_and(|t| now.duration_since(t) < SUBSCRIPTION_COUNT_INTERVAL);
        if n > SUBSCRIPTION_COUNT_BURST && recent {
            self.count_dirty = true;
            return None;
        }
        let frame = Frame::from(subscription_count_frame(name.as_str(), n));
        for sub in self.subscribers.values() {
            sub.outbox.send(frame.clone());
        }
        self.count_sent = Some(now);
        self.count_dirty = false;
        Some(n)
    }
}

/// The last event of a cache channel.
struct CachedEvent {
    frame: Frame,
    data: String,
    expires: Instant,
}

/// Counts a test or an operator can read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppStats {
    pub connections: usize,
    pub channels: usize,
    pub subscriptions: usize,
    pub presence_members: usize,
}

/// What one app's channels look like on this node.
pub struct AppHub {
    pub config: AppConfig,
    shards: Vec<RwLock<HashMap<ChannelName, Channel>>>,
    connections: AtomicUsize,
    cluster: Arc<dyn ClusterAdapter>,
    observer: Arc<dyn Observer>,
    users: Users,
    cache: Mutex<HashMap<ChannelName, CachedEvent>>,
    /// The other nodes' state (empty on a single node). Lock order: shard, then users, then remote.
    remote: RwLock<RemoteNodes>,
    /// Totals for monitoring.
    pub counters: AppCounters,
}

impl AppHub {
    fn new(config: AppConfig, cluster: Arc<dyn ClusterAdapter>, observer: Arc<dyn Observer>) -> AppHub {
        AppHub {
            config,
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            connections: AtomicUsize::new(0),
            cluster,
            observer,
            users: Users::default(),
            cache: Mutex::new(HashMap::new()),
            remote: RwLock::new(RemoteNodes::default()),
            counters: AppCounters::default(),
        }
    }

    fn shard(&self, channel: &str) -> &RwLock<HashMap<ChannelName, Channel>> {
        let mut h = DefaultHasher::new();
        channel.hash(&mut h);
        &self.shards[(h.finish() as usize) % SHARDS]
    }

    /// Admits a new connection, or says why not (disabled app, connection quota).
    pub fn try_connect(self: &Arc<Self>) -> Result<ConnectionSlot, ErrorCode> {
        if !self.config.enabled {
            return Err(ErrorCode::AppDisabled);
        }
        let max = self.config.max_connections;
        let admitted = self
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (max == 0 || n < max).then_some(n + 1)
            });
        match admitted {
            Ok(_) => {
                self.counters.connection_opened();
                Ok(ConnectionSlot { app: self.clone() })
            }
            Err(_) => Err(ErrorCode::OverConnectionQuota),
        }
    }

    /// Delivers an event to this node's subscribers and hands it to the cluster adapter.
    /// Returns the number of local recipients.
    pub fn publish(&self, publish: &Publish) -> usize {
        let source = match publish.from_client {
            true => Source::Client,
            false => Source::Http,
        };
        let delivered = self.deliver(publish, source);
        self.cluster.publish(&self.config.key, publish);
        delivered
    }

    /// Delivers to this node only: what the cluster adapter calls for events from other nodes.
    pub fn deliver_local(&self, publish: &Publish) -> usize {
        self.deliver(publish, Source::Cluster)
    }

    fn deliver(&self, publish: &Publish, source: Source) -> usize {
        let cache = !publish.from_client && is_cache_channel(publish.channel.as_str());
        let shard = self.shard(publish.channel.as_str()).read();
        let channel = shard.get(publish.channel.as_str());
        if channel.is_none() && !cache {
            // Nobody here listens (a user's channel while they are offline): nothing to frame.
            self.counters.published(source, 0, 0);
            return 0;
        }
        // Serialised once; every recipient shares these bytes.
        let frame = publish.frame();
        if cache {
            let cached = CachedEvent {
                frame: frame.clone(),
                data: publish.data.clone(),
                expires: Instant::now() + Duration::from_secs(self.config.cache_ttl),
            };
            self.cache.lock().insert(publish.channel.clone(), cached);
        }
        let Some(channel) = channel else {
            self.counters.published(source, 0, 0);
            return 0;
        };
        // Outbox::send only queues (it never blocks or writes), so the read lock is held while it
        // runs: no list of recipients to build and no reference count to touch per subscriber.
        let mut delivered = 0;
        for sub in channel.subscribers.values() {
            if publish.except.as_ref() != Some(&sub.socket_id) {
                sub.outbox.send(frame.clone());
                delivered += 1;
            }
        }
        self.counters.published(source, delivered, frame.0.text.len());
        delivered
    }

    /// Whether anyone in the cluster is subscribed to `channel`.
    pub fn is_occupied(&self, channel: &str) -> bool {
        self.shard(channel).read().contains_key(channel) || self.remote.read().occupied(channel)
    }

    /// Subscriptions to `channel` in the cluster.
    pub fn subscription_count(&self, channel: &str) -> usize {
        let local = self
            .shard(channel)
            .read()
            .get(channel)
            .map_or(0, |c| c.subscribers.len());
        local + self.remote.read().subscriptions(channel)
    }

    /// Presence members of a channel in the cluster, each user once, local ones first.
    pub fn presence_members(&self, channel: &str) -> Vec<PresenceMember> {
        let mut members: Vec<PresenceMember> = self
            .shard(channel)
            .read()
            .get(channel)
            .and_then(|c| c.presence.as_ref())
            .map(|p| p.members())
            .unwrap_or_default();
        for m in self.remote.read().members(channel) {
            if !members.iter().any(|l| l.user_id == m.user_id) {
                members.push(m);
            }
        }
        members
    }

    /// Occupied channel names in the cluster (with subscription counts) starting with `prefix`.
    pub fn channels(&self, prefix: &str) -> Vec<(ChannelName, usize)> {
        let mut counts: HashMap<String, usize> = self.remote.read().channels();
        for shard in &self.shards {
            for (name, ch) in shard.read().iter() {
                *counts.entry(name.to_string()).or_default() += ch.subscribers.len();
            }
        }
        let mut out: Vec<(ChannelName, usize)> = counts
            .into_iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .filter_map(|(name, n)| ChannelName::parse(&name, usize::MAX).ok().map(|c| (c, n)))
            .collect();
        out.sort();
        out
    }

    /// The cached event of a cache channel: its data and seconds left to live.
    pub fn cached(&self, channel: &str) -> Option<(String, u64)> {
        let now = Instant::now();
        let cache = self.cache.lock();
        let c = cache.get(channel).filter(|c| c.expires > now)?;
        Some((c.data.clone(), c.expires.duration_since(now).as_secs()))
    }

    /// Hands an event to the app's observer (a cluster's new leader reconciling what was reported).
    pub fn notify_observer(&self, event: ChannelEvent) {
        self.observer.notify(event);
    }

    /// Closes every connection signed in as `user` (4009) on every node; returns how many here.
    pub fn terminate_user_connections(&self, user: &str) -> usize {
        self.cluster.terminate_user(&self.config.key, user);
        self.users.terminate(user)
    }

    /// Closes this node's connections of `user`: what another node's terminate arrives as.
    pub fn terminate_local_user_connections(&self, user: &str) -> usize {
        self.users.terminate(user)
    }

    /// Periodic housekeeping: throttled subscription counts, expired cache entries.
    pub fn tick(&self, now: Instant) {
        if self.config.subscription_count {
            for shard in &self.shards {
                let mut shard = shard.write();
                for (name, channel) in shard.iter_mut().filter(|(_, c)| c.count_dirty) {
                    let remote = self.remote.read().subscriptions(name.as_str());
                    if let Some(count) = channel.announce_count(name, remote, now) {
                        self.observer.notify(ChannelEvent::SubscriptionCount {
                            channel: name.clone(),
                            count,
                        });
                    }
                }
            }
        }
        self.cache.lock().retain(|_, c| c.expires > now);
    }

    pub fn stats(&self) -> AppStats {
        let mut stats = AppStats {
            connections: self.connections.load(Ordering::Acquire),
            ..AppStats::default()
        };
        for shard in &self.shards {
            let shard = shard.read();
            stats.channels += shard.len();
            for ch in shard.values() {
                stats.subscriptions += ch.subscribers.len();
                stats.presence_members += ch.presence.as_ref().map_or(0, |p| p.len());
            }
        }
        stats
    }
}

/// A connection's place in its app's connection count; released on drop.
pub struct ConnectionSlot {
    app: Arc<AppHub>,
}

impl ConnectionSlot {
    pub fn app(&self) -> &Arc<AppHub> {
        &self.app
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.app.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every app this node serves, found by key (WebSocket path, API `auth_key`).
pub struct Hub {
    by_key: HashMap<String, Arc<AppHub>>,
}

impl Hub {
    pub fn new(apps: Vec<AppConfig>) -> Hub {
        Hub::with_parts(apps, Arc::new(LocalOnly), |_| Arc::new(NoObserver))
    }

    /// A hub whose apps forward publishes through `cluster` and report channel events to the
    /// observer `observer_for` makes for each app.
    pub fn with_parts(
        apps: Vec<AppConfig>,
        cluster: Arc<dyn ClusterAdapter>,
        observer_for: impl Fn(&AppConfig) -> Arc<dyn Observer>,
    ) -> Hub {
        let by_key = apps
            .into_iter()
            .map(|a| {
                let observer = observer_for(&a);
                (a.key.clone(), Arc::new(AppHub::new(a, cluster.clone(), observer)))
            })
            .collect();
        Hub { by_key }
    }

    pub fn app_by_key(&self, key: &str) -> Option<&Arc<AppHub>> {
        self.by_key.get(key)
    }

    pub fn apps(&self) -> impl Iterator<Item = &Arc<AppHub>> {
        self.by_key.values()
    }
}

#[cfg(test)]
pub(crate) mod tests;
