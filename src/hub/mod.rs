//! The channel hub: which connection listens to which channel, presence membership, fan-out.
//!
//! The hub owns no sockets. A connection registers an [`Outbox`] (the transport's send queue) and
//! the hub pushes shared, already-serialised [`Frame`]s into it; pushing never blocks on I/O, so
//! no lock here is ever held across a write. Channels are spread over shards so that publishes
//! and subscriptions on different channels do not contend.
//!
//! Every publish passes through [`ClusterAdapter`], the one seam where a multi-node adapter
//! (Redis pub/sub) forwards events to other nodes; the default, [`LocalOnly`], forwards nothing.
//! Channel events (occupied, member added, ...) go to the app's [`Observer`] (webhooks).
//!
//! Layout, from the connection inwards:
//! - `session`: one connection's protocol checks (names, signatures, limits); refusals are the
//!   typed errors of [`error`], sent as `pusher:error`.
//! - `app`: [`AppHub`], one app: admission, publish, the HTTP API's queries; it hands what the
//!   channel table returns to the cluster adapter and the users registry.
//! - `channels`: the channel table, the only writer of channel state (`join`, `leave`,
//!   `deliver`, `apply_remote`); `channel`, `presence` and `cache` are its parts.
//! - `remote`: the other nodes' state and the one cluster-wide rule for what is news.
//! - `users`: signed-in users and watchlists; `rate`, `counters`: per-connection rates, metrics.
//! - `watch`: what a session reports to a live watcher (the debug console) about each frame.

mod app;
mod cache;
mod channel;
mod channels;
mod counters;
pub mod error;
mod presence;
mod rate;
mod remote;
mod session;
mod users;
mod watch;

pub use app::{AppHub, AppStats, ConnectionSlot};
pub use counters::{AppCounters, Census, ChannelType, MessageKind, Source};
pub use error::{ClientEventError, SigninError, SubscribeError};
pub use presence::{PresenceMember, UserId};
pub use remote::NodeSnapshot;
pub use session::Session;
pub use users::SignedInUser;
pub use watch::{Handled, Unwatched, Watch};

use crate::config::AppConfig;
use crate::protocol::message::event_frame;
use crate::protocol::{ChannelName, SocketId};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

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
