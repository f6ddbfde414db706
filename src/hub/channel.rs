//! One channel on this node (its subscribers, its presence members, its throttled count) and
//! the shards that hold an app's channels.
//!
//! Plain data owned by [`super::channels::ChannelTable`] and only touched with the channel's
//! shard locked; sending to a subscriber only queues (see [`Outbox`]), so that is cheap.

use super::presence::Presence;
use super::{Frame, Outbox};
use crate::protocol::message::subscription_count_frame;
use crate::protocol::{ChannelName, SocketId};
use parking_lot::RwLock;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Above this many subscribers, `subscription_count` goes out at most every
/// [`SUBSCRIPTION_COUNT_INTERVAL`] (Pusher's rule).
const SUBSCRIPTION_COUNT_BURST: usize = 100;
const SUBSCRIPTION_COUNT_INTERVAL: Duration = Duration::from_secs(5);

const SHARDS: usize = 16;

type Shard = RwLock<HashMap<ChannelName, Channel>>;

/// This node's channels of one app, spread over shards by name so that publishes and
/// subscriptions on different channels do not contend.
pub(super) struct Shards(Vec<Shard>);

impl Shards {
    pub fn new() -> Shards {
        Shards((0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect())
    }

    /// The shard `channel` lives in.
    pub fn of(&self, channel: &str) -> &Shard {
        let mut h = DefaultHasher::new();
        channel.hash(&mut h);
        &self.0[(h.finish() as usize) % SHARDS]
    }

    pub fn all(&self) -> &[Shard] {
        &self.0
    }

    /// Calls `f` with every channel, one shard read-locked at a time.
    pub fn for_each(&self, mut f: impl FnMut(&ChannelName, &Channel)) {
        for shard in &self.0 {
            for (name, channel) in shard.read().iter() {
                f(name, channel);
            }
        }
    }
}

/// A connection as a channel knows it.
pub(super) struct Conn<'a> {
    /// Unique on this node.
    pub id: u64,
    pub socket_id: &'a SocketId,
    pub outbox: &'a Arc<dyn Outbox>,
}

/// What [`super::channels::ChannelTable::join`] did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Joined {
    /// The connection is now in the channel: the cluster must hear of it.
    Now,
    /// It already was; only `subscription_succeeded` was sent again.
    Already,
}

/// One connection in a channel.
pub(super) struct Subscriber {
    pub socket_id: SocketId,
    pub outbox: Arc<dyn Outbox>,
}

#[derive(Default)]
pub(super) struct Channel {
    /// Keyed by the connection's numeric id (unique within this node).
    pub subscribers: HashMap<u64, Subscriber>,
    pub presence: Option<Presence>,
    /// When `subscription_count` last went out, and whether a newer count is waiting.
    pub count_sent: Option<Instant>,
    pub count_dirty: bool,
}

impl Channel {
    /// Sends `frame` to every subscriber but connection `except`.
    pub fn send_to_others(&self, except: Option<u64>, frame: &Frame) {
        for (id, sub) in &self.subscribers {
            if Some(*id) != except {
                sub.outbox.send(frame.clone());
            }
        }
    }

    /// Tells every subscriber the new count (`remote`: subscriptions on other nodes), throttled
    /// on busy channels. Returns the count when it went out (the subscription_count webhook
    /// reports it too).
    pub fn announce_count(&mut self, name: &ChannelName, remote: usize, now: Instant) -> Option<usize> {
        let n = self.subscribers.len() + remote;
        let recent = self
            .count_sent
            .is_some_and(|t| now.duration_since(t) < SUBSCRIPTION_COUNT_INTERVAL);
        if n > SUBSCRIPTION_COUNT_BURST && recent {
            self.count_dirty = true;
            return None;
        }
        self.send_to_others(None, &Frame::from(subscription_count_frame(name.as_str(), n)));
        self.count_sent = Some(now);
        self.count_dirty = false;
        Some(n)
    }
}
