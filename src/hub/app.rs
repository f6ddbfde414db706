//! One app on this node: its connection count, its channel table, its signed-in users, and the
//! two seams to the world outside the hub (the [`ClusterAdapter`] and the [`Observer`]).
//!
//! [`AppHub`] is what the transports hold. It admits connections, routes publishes, answers the
//! HTTP API's queries and takes in other nodes' state; the channel rules themselves live in
//! [`ChannelTable`], and what the table returns (the cluster must hear of a change, a remote
//! user went on- or offline) is handed on here, after the table's locks are released.

use super::channel::{Conn, Joined};
use super::channels::ChannelTable;
use super::error::SubscribeError;
use super::presence::PresenceMember;
use super::remote::NodeSnapshot;
use super::users::{SignedInUser, Users};
use super::{AppCounters, ChannelEvent, ClusterAdapter, Observer, Outbox, Publish, Source};
use crate::config::AppConfig;
use crate::protocol::{ChannelName, ErrorCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

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
    pub(super) table: ChannelTable,
    pub(super) connections: AtomicUsize,
    cluster: Arc<dyn ClusterAdapter>,
    users: Users,
    /// Totals for monitoring.
    pub counters: AppCounters,
}

impl AppHub {
    pub(super) fn new(
        config: AppConfig,
        cluster: Arc<dyn ClusterAdapter>,
        observer: Arc<dyn Observer>,
    ) -> AppHub {
        AppHub {
            table: ChannelTable::new(&config, observer),
            config,
            connections: AtomicUsize::new(0),
            cluster,
            users: Users::default(),
            counters: AppCounters::default(),
        }
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

    /// Puts a connection in a channel (see [`ChannelTable::join`]); a new subscription is
    /// shared with the cluster.
    pub(super) fn join(
        &self,
        conn: Conn<'_>,
        channel: &ChannelName,
        member: Option<&PresenceMember>,
    ) -> Result<Joined, SubscribeError> {
        let joined = self.table.join(conn, channel, member)?;
        if joined == Joined::Now {
            self.cluster.state_changed(&self.config.key);
        }
        Ok(joined)
    }

    /// Takes connection `id` out of `channel`; a subscription that ended is shared with the cluster.
    pub(super) fn leave(&self, id: u64, channel: &ChannelName, user_id: Option<&str>) {
        if self.table.leave(id, channel, user_id) {
            self.cluster.state_changed(&self.config.key);
        }
    }

    /// Registers a signed-in connection (see [`Users::sign_in`]) and shares it with the cluster.
    pub(super) fn sign_in(&self, id: u64, outbox: &Arc<dyn Outbox>, user: &SignedInUser) {
        self.users.sign_in(id, outbox, user, self.table.remote());
        self.cluster.state_changed(&self.config.key);
    }

    /// A signed-in connection closed. The caller shares the change with the cluster.
    pub(super) fn sign_out(&self, id: u64, user: &SignedInUser) {
        self.users.sign_out(id, user, self.table.remote());
    }

    /// Tells the cluster that this node's channels or users changed.
    pub(super) fn state_changed(&self) {
        self.cluster.state_changed(&self.config.key);
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
        let (delivered, frame_len) = self.table.deliver(publish);
        self.counters.published(source, delivered, frame_len);
        delivered
    }

    /// Whether anyone in the cluster is subscribed to `channel`.
    pub fn is_occupied(&self, channel: &str) -> bool {
        self.table.is_occupied(channel)
    }

    /// Subscriptions to `channel` in the cluster.
    pub fn subscription_count(&self, channel: &str) -> usize {
        self.table.subscription_count(channel)
    }

    /// Presence members of a channel in the cluster, each user once, local ones first.
    pub fn presence_members(&self, channel: &str) -> Vec<PresenceMember> {
        self.table.presence_members(channel)
    }

    /// Occupied channel names in the cluster (with subscription counts) starting with `prefix`.
    pub fn channels(&self, prefix: &str) -> Vec<(ChannelName, usize)> {
        let mut out: Vec<(ChannelName, usize)> = self
            .table
            .channel_counts()
            .into_iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .filter_map(|(name, n)| ChannelName::parse(&name, usize::MAX).ok().map(|c| (c, n)))
            .collect();
        out.sort();
        out
    }

    /// The cached event of a cache channel: its data and seconds left to live.
    pub fn cached(&self, channel: &str) -> Option<(String, u64)> {
        self.table.cached(channel)
    }

    /// Hands an event to the app's observer (a relayed client event; a cluster's new leader
    /// reconciling what was reported).
    pub fn notify_observer(&self, event: ChannelEvent) {
        self.table.notify(event);
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

    /// This node's state of the app, to share with the others.
    pub fn local_snapshot(&self) -> NodeSnapshot {
        NodeSnapshot {
            users: self.users.online_users(),
            ..self.table.snapshot()
        }
    }

    /// Takes in another node's latest state (`None`: the node is gone) and tells local clients,
    /// watchers and the observer what changed for the cluster as a whole.
    pub fn apply_remote(&self, node: &str, snapshot: Option<NodeSnapshot>) {
        let changed = self.table.apply_remote(node, snapshot);
        for user in &changed.online {
            self.users
                .remote_user_changed(user, true, node, self.table.remote());
        }
        for user in &changed.offline {
            self.users
                .remote_user_changed(user, false, node, self.table.remote());
        }
    }

    /// Periodic housekeeping: throttled subscription counts, expired cache entries.
    pub fn tick(&self, now: Instant) {
        self.table.tick(now);
    }

    pub fn stats(&self) -> AppStats {
        let mut stats = AppStats {
            connections: self.connections.load(Ordering::Acquire),
            ..AppStats::default()
        };
        self.table.for_each(|_, ch| {
            stats.channels += 1;
            stats.subscriptions += ch.subscribers.len();
            stats.presence_members += ch.presence.as_ref().map_or(0, |p| p.len());
        });
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
