//! What the HTTP API, monitoring and the cluster read from the channel table: counts,
//! presence members, the cache and this node's snapshot. Read locks only, one shard at a time.

use super::ChannelTable;
use crate::hub::channel::Channel;
use crate::hub::presence::PresenceMember;
use crate::hub::remote::{NodeSnapshot, Subject};
use crate::protocol::ChannelName;
use std::collections::HashMap;

impl ChannelTable {
    /// Calls `f` with every channel on this node, one shard read-locked at a time.
    pub fn for_each(&self, f: impl FnMut(&ChannelName, &Channel)) {
        self.shards.for_each(f);
    }

    /// Whether anyone in the cluster is subscribed to `channel`.
    pub fn is_occupied(&self, channel: &str) -> bool {
        self.shards.of(channel).read().contains_key(channel)
            || self.remote.read().holds(Subject::Channel(channel), None)
    }

    /// Subscriptions to `channel` in the cluster.
    pub fn subscription_count(&self, channel: &str) -> usize {
        let local = self
            .shards
            .of(channel)
            .read()
            .get(channel)
            .map_or(0, |c| c.subscribers.len());
        local + self.remote.read().subscriptions(channel)
    }

    /// Presence members of a channel in the cluster, each user once, local ones first.
    pub fn presence_members(&self, channel: &str) -> Vec<PresenceMember> {
        let mut members: Vec<PresenceMember> = self
            .shards
            .of(channel)
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

    /// Occupied channels in the cluster with their subscription counts.
    pub fn channel_counts(&self) -> HashMap<String, usize> {
        let mut counts: HashMap<String, usize> = self.remote.read().channels();
        self.for_each(|name, ch| *counts.entry(name.to_string()).or_default() += ch.subscribers.len());
        counts
    }

    /// The cached event of a cache channel: its data and seconds left to live.
    pub fn cached(&self, channel: &str) -> Option<(String, u64)> {
        self.cache.get(channel)
    }

    /// This node's channels and presence members, to share with the others.
    pub fn snapshot(&self) -> NodeSnapshot {
        let mut snapshot = NodeSnapshot::default();
        self.for_each(|name, channel| {
            snapshot
                .channels
                .insert(name.to_string(), channel.subscribers.len());
            if let Some(p) = &channel.presence {
                snapshot.presence.insert(name.to_string(), p.snapshot());
            }
        });
        snapshot
    }
}
