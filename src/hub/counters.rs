//! Running totals of one app, for monitoring: connections opened and closed, client messages,
//! publishes and deliveries.
//!
//! Plain relaxed atomics, bumped where the work happens and read only when `/metrics` is
//! scraped. Deliveries are counted once per publish (recipients × frame length), never per
//! recipient, so fan-out pays two atomic adds per event however many subscribers it has.
//! Close codes are open-ended, so they sit in a small map behind a lock taken once per closed
//! connection, never on a message path. Gauges (channels by type, subscriptions, members) are
//! not kept at all: [`AppHub::census`] counts them when a scrape asks.

use super::AppHub;
use crate::protocol::channel::{is_cache_channel, SERVER_TO_USER_PREFIX};
use crate::protocol::ChannelKind;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a client sent, for `messages_received_total{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Ping,
    Pong,
    Subscribe,
    Unsubscribe,
    Signin,
    ClientEvent,
    /// Not a Pusher message this server understands (bad JSON, missing fields).
    Invalid,
}

impl MessageKind {
    pub const ALL: [MessageKind; 7] = [
        MessageKind::Ping,
        MessageKind::Pong,
        MessageKind::Subscribe,
        MessageKind::Unsubscribe,
        MessageKind::Signin,
        MessageKind::ClientEvent,
        MessageKind::Invalid,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MessageKind::Ping => "ping",
            MessageKind::Pong => "pong",
            MessageKind::Subscribe => "subscribe",
            MessageKind::Unsubscribe => "unsubscribe",
            MessageKind::Signin => "signin",
            MessageKind::ClientEvent => "client_event",
            MessageKind::Invalid => "invalid",
        }
    }
}

/// Where a published event came from, for `events_published_total{source}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The HTTP API or the in-process `Api`.
    Http,
    /// A client event relayed from a WebSocket connection.
    Client,
    /// Another node of the cluster.
    Cluster,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::Http, Source::Client, Source::Cluster];

    pub fn label(self) -> &'static str {
        match self {
            Source::Http => "http",
            Source::Client => "client",
            Source::Cluster => "cluster",
        }
    }
}

/// One app's totals since the server started.
#[derive(Debug, Default)]
pub struct AppCounters {
    opened: AtomicU64,
    closed: Mutex<BTreeMap<u16, u64>>,
    received: [AtomicU64; MessageKind::ALL.len()],
    published: [AtomicU64; Source::ALL.len()],
    deliveries: AtomicU64,
    delivered_bytes: AtomicU64,
    rate_limited: AtomicU64,
}

impl AppCounters {
    pub(crate) fn connection_opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection ended; `code` is the close code sent or received (1006 when it just dropped).
    pub fn connection_closed(&self, code: u16) {
        *self.closed.lock().entry(code).or_default() += 1;
    }

    pub(crate) fn message_received(&self, kind: MessageKind) {
        self.received[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn published(&self, source: Source, recipients: usize, frame_len: usize) {
        self.published[source as usize].fetch_add(1, Ordering::Relaxed);
        if recipients > 0 {
            self.deliveries.fetch_add(recipients as u64, Ordering::Relaxed);
            self.delivered_bytes
                .fetch_add((recipients * frame_len) as u64, Ordering::Relaxed);
        }
    }

    pub(crate) fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Connections closed so far, by close code.
    pub fn closed(&self) -> Vec<(u16, u64)> {
        self.closed.lock().iter().map(|(c, n)| (*c, *n)).collect()
    }

    pub fn received(&self, kind: MessageKind) -> u64 {
        self.received[kind as usize].load(Ordering::Relaxed)
    }

    pub fn published_from(&self, source: Source) -> u64 {
        self.published[source as usize].load(Ordering::Relaxed)
    }

    /// Frames queued to subscribers, and their bytes (the event JSON, without WebSocket framing).
    pub fn deliveries(&self) -> (u64, u64) {
        (
            self.deliveries.load(Ordering::Relaxed),
            self.delivered_bytes.load(Ordering::Relaxed),
        )
    }

    /// Client events refused with 4301 (over `client_event_rate`).
    pub fn rate_limit_hits(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }
}

/// The type of a channel, for `channels{type}`: cache and user channels are counted apart from
/// the Pusher kinds they share a prefix with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelType {
    Public,
    Private,
    Presence,
    Encrypted,
    Cache,
    User,
}

impl ChannelType {
    pub const ALL: [ChannelType; 6] = [
        ChannelType::Public,
        ChannelType::Private,
        ChannelType::Presence,
        ChannelType::Encrypted,
        ChannelType::Cache,
        ChannelType::User,
    ];

    pub fn of(name: &str) -> ChannelType {
        if name.starts_with(SERVER_TO_USER_PREFIX) {
            return ChannelType::User;
        }
        if is_cache_channel(name) {
            return ChannelType::Cache;
        }
        match ChannelKind::of(name) {
            ChannelKind::Public => ChannelType::Public,
            ChannelKind::Private => ChannelType::Private,
            ChannelKind::PrivateEncrypted => ChannelType::Encrypted,
            ChannelKind::Presence => ChannelType::Presence,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChannelType::Public => "public",
            ChannelType::Private => "private",
            ChannelType::Presence => "presence",
            ChannelType::Encrypted => "encrypted",
            ChannelType::Cache => "cache",
            ChannelType::User => "user",
        }
    }
}

/// This node's channels of one app, counted at scrape time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    pub connections: usize,
    pub channels: [usize; ChannelType::ALL.len()],
    pub subscriptions: usize,
    pub presence_members: usize,
}

impl AppHub {
    /// Walks every shard once (a read lock each): the cost of one scrape, not of any message.
    pub fn census(&self) -> Census {
        let mut census = Census {
            connections: self.connections.load(Ordering::Relaxed),
            ..Census::default()
        };
        self.table.for_each(|name, ch| {
            census.channels[ChannelType::of(name.as_str()) as usize] += 1;
            census.subscriptions += ch.subscribers.len();
            census.presence_members += ch.presence.as_ref().map_or(0, |p| p.len());
        });
        census
    }
}
