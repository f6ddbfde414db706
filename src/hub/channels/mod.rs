//! The channel table of one app: every channel on this node (in shards), what the other nodes
//! hold, and the last event of each cache channel.
//!
//! All channel state changes here, through [`ChannelTable::join`], [`ChannelTable::leave`],
//! [`ChannelTable::deliver`] and [`ChannelTable::apply_remote`], and every cluster-wide
//! occupied/vacated/member rule is asked of [`RemoteNodes::is_news`]. Frames to subscribers and
//! [`ChannelEvent`]s to the observer go out with the channel's shard locked: that is what keeps
//! them in order per channel (a subscriber's `subscription_succeeded` before any event, an
//! observer's occupied before its vacated). Both only queue. What must wait until the locks are
//! released (telling the cluster, signed-in users' watchers) is returned to the caller.
//!
//! Lock order: shard, then the cache, then the users (in [`super::AppHub`]), then `remote`.
//!
//! What the HTTP API, monitoring and the cluster read (counts, members, snapshots) is in
//! `queries.rs`: read locks only, one shard at a time, nothing changes there.

mod queries;

use super::cache::EventCache;
use super::channel::{Channel, Conn, Joined, Shards, Subscriber};
use super::error::SubscribeError;
use super::presence::{Presence, PresenceMember};
use super::remote::{NodeSnapshot, Origin, RemoteNodes, Subject};
use super::{internal_frame, ChannelEvent, Frame, Observer, Publish};
use crate::config::AppConfig;
use crate::protocol::channel::is_cache_channel;
use crate::protocol::message::{cache_miss_frame, subscription_succeeded_frame};
use crate::protocol::{ChannelKind, ChannelName};
use parking_lot::RwLock;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a remote node's new snapshot changed for this node's signed-in users' watchers, to
/// hand to the users registry once the table's locks are released.
#[derive(Debug, Default)]
pub(super) struct UsersChanged {
    pub online: Vec<String>,
    pub offline: Vec<String>,
}

pub(super) struct ChannelTable {
    shards: Shards,
    cache: EventCache,
    remote: RwLock<RemoteNodes>,
    observer: Arc<dyn Observer>,
    presence_max_members: usize,
    subscription_count: bool,
}

impl ChannelTable {
    pub fn new(config: &AppConfig, observer: Arc<dyn Observer>) -> ChannelTable {
        ChannelTable {
            shards: Shards::new(),
            cache: EventCache::new(Duration::from_secs(config.cache_ttl)),
            remote: RwLock::new(RemoteNodes::default()),
            observer,
            presence_max_members: config.presence_max_members,
            subscription_count: config.subscription_count,
        }
    }

    pub fn remote(&self) -> &RwLock<RemoteNodes> {
        &self.remote
    }

    pub fn notify(&self, event: ChannelEvent) {
        self.observer.notify(event);
    }

    /// Puts `conn` in `channel` (as presence `member` in a presence channel) and answers it with
    /// `subscription_succeeded`, the cached event or `cache_miss`, announcing the new member and
    /// count to the others. Refused only when a new member would overfill a presence channel.
    pub fn join(
        &self,
        conn: Conn<'_>,
        channel: &ChannelName,
        member: Option<&PresenceMember>,
    ) -> Result<Joined, SubscribeError> {
        let succeeded = |data: &str| {
            conn.outbox
                .send(Frame::from(subscription_succeeded_frame(channel.as_str(), data)));
        };
        let mut shard = self.shards.of(channel.as_str()).write();
        let entry = shard.entry(channel.clone()).or_insert_with(|| Channel {
            presence: (channel.kind() == ChannelKind::Presence).then(Presence::default),
            ..Channel::default()
        });
        if entry.subscribers.contains_key(&conn.id) {
            // Subscribing twice changes nothing but is answered, so a client waiting for it proceeds.
            match &entry.presence {
                Some(p) => succeeded(&p.subscription_data(&self.remote.read().members(channel.as_str()))),
                None => succeeded("{}"),
            }
            return Ok(Joined::Already);
        }
        let remote_members = match member {
            Some(_) => self.remote.read().members(channel.as_str()),
            None => Vec::new(),
        };
        if let (Some(presence), Some(member)) = (entry.presence.as_ref(), member) {
            if presence.would_overfill(&member.user_id, &remote_members, self.presence_max_members) {
                if entry.subscribers.is_empty() {
                    shard.remove(channel.as_str());
                }
                return Err(SubscribeError::PresenceFull {
                    channel: channel.to_string(),
                    max: self.presence_max_members,
                });
            }
        }
        if entry.subscribers.is_empty()
            && self
                .remote
                .read()
                .is_news(Subject::Channel(channel.as_str()), Origin::Here)
        {
            self.notify(ChannelEvent::Occupied {
                channel: channel.clone(),
            });
        }
        entry.subscribers.insert(
            conn.id,
            Subscriber {
                socket_id: conn.socket_id.clone(),
                outbox: conn.outbox.clone(),
            },
        );
        match (entry.presence.as_mut(), member) {
            (Some(presence), Some(member)) => {
                let elsewhere = remote_members.iter().any(|m| m.user_id == member.user_id);
                let announce = presence.join(member) && !elsewhere;
                let data = presence.subscription_data(&remote_members);
                if announce {
                    self.member_added(channel, member, Some(entry), Some(conn.id));
                }
                succeeded(&data);
            }
            _ => succeeded("{}"),
        }
        if is_cache_channel(channel.as_str()) {
            let cached = self.cache.frame(channel.as_str());
            match cached {
                Some(frame) => conn.outbox.send(frame),
                None => {
                    conn.outbox.send(Frame::from(cache_miss_frame(channel.as_str())));
                    self.notify(ChannelEvent::CacheMiss {
                        channel: channel.clone(),
                    });
                }
            }
        }
        if entry.presence.is_none() {
            self.announce_count(channel, entry);
        }
        Ok(Joined::Now)
    }

    /// Takes connection `id` out of `channel`, announcing `member_removed` on a user's last socket
    /// and dropping the channel when it empties. False when it was not in the channel.
    pub fn leave(&self, id: u64, channel: &ChannelName, user_id: Option<&str>) -> bool {
        let mut shard = self.shards.of(channel.as_str()).write();
        let Some(entry) = shard.get_mut(channel.as_str()) else {
            return false;
        };
        if entry.subscribers.remove(&id).is_none() {
            return false;
        }
        if let (Some(presence), Some(user_id)) = (entry.presence.as_mut(), user_id) {
            let subject = Subject::Member(channel.as_str(), user_id);
            if presence.leave(user_id) && self.remote.read().is_news(subject, Origin::Here) {
                self.member_removed(channel, user_id, Some(entry));
            }
        }
        if entry.subscribers.is_empty() {
            shard.remove(channel.as_str());
            if self
                .remote
                .read()
                .is_news(Subject::Channel(channel.as_str()), Origin::Here)
            {
                self.notify(ChannelEvent::Vacated {
                    channel: channel.clone(),
                });
            }
        } else if entry.presence.is_none() {
            self.announce_count(channel, entry);
        }
        true
    }

    /// Sends a new subscription count of a non-presence channel (apps with `subscription_count`).
    fn announce_count(&self, channel: &ChannelName, entry: &mut Channel) {
        if !self.subscription_count {
            return;
        }
        let remote = self.remote.read().subscriptions(channel.as_str());
        if let Some(count) = entry.announce_count(channel, remote, Instant::now()) {
            self.notify(ChannelEvent::SubscriptionCount {
                channel: channel.clone(),
                count,
            });
        }
    }

    /// Tells the observer and `local`'s subscribers (but connection `except`) of a new member.
    fn member_added(
        &self,
        channel: &ChannelName,
        member: &PresenceMember,
        local: Option<&Channel>,
        except: Option<u64>,
    ) {
        self.notify(ChannelEvent::MemberAdded {
            channel: channel.clone(),
            user_id: member.user_id.clone(),
        });
        if let Some(local) = local {
            let added = internal_frame(channel, "pusher_internal:member_added", member.added_data());
            local.send_to_others(except, &added);
        }
    }

    /// Tells the observer and `local`'s subscribers that a member left.
    fn member_removed(&self, channel: &ChannelName, user_id: &str, local: Option<&Channel>) {
        self.notify(ChannelEvent::MemberRemoved {
            channel: channel.clone(),
            user_id: user_id.to_owned(),
        });
        if let Some(local) = local {
            let removed = PresenceMember::removed_data(user_id);
            local.send_to_others(
                None,
                &internal_frame(channel, "pusher_internal:member_removed", removed),
            );
        }
    }

    /// Queues `publish` to this node's subscribers of its channel (and keeps it when the channel
    /// is a cache channel). Returns the recipients and the frame's length, for the counters.
    pub fn deliver(&self, publish: &Publish) -> (usize, usize) {
        let cache = !publish.from_client && is_cache_channel(publish.channel.as_str());
        let shard = self.shards.of(publish.channel.as_str()).read();
        let channel = shard.get(publish.channel.as_str());
        if channel.is_none() && !cache {
            // Nobody here listens (a user's channel while they are offline): nothing to frame.
            return (0, 0);
        }
        // Serialised once; every recipient shares these bytes.
        let frame = publish.frame();
        if cache {
            self.cache.store(&publish.channel, &frame, &publish.data);
        }
        let Some(channel) = channel else {
            return (0, 0);
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
        (delivered, frame.0.text.len())
    }

    /// Takes in another node's latest state (`None`: the node is gone) and tells local clients and
    /// the observer what changed for the cluster as a whole. The users that came online or went
    /// offline there are returned for the caller to tell their watchers.
    pub fn apply_remote(&self, node: &str, snapshot: Option<NodeSnapshot>) -> UsersChanged {
        let diff = self.remote.write().replace(node, snapshot);
        for (channel, member) in &diff.joined {
            self.remote_member(channel, &member.user_id, Some(member), node);
        }
        for (channel, user_id) in &diff.left {
            self.remote_member(channel, user_id, None, node);
        }
        for channel in diff.occupied.iter().chain(&diff.vacated) {
            let Ok(name) = ChannelName::parse(channel, usize::MAX) else {
                continue;
            };
            let shard = self.shards.of(channel).read();
            let origin = Origin::Node {
                node,
                held_here: shard.contains_key(channel.as_str()),
            };
            if !self.remote.read().is_news(Subject::Channel(channel), origin) {
                continue;
            }
            match diff.occupied.contains(channel) {
                true => self.notify(ChannelEvent::Occupied { channel: name }),
                false => self.notify(ChannelEvent::Vacated { channel: name }),
            }
        }
        if self.subscription_count {
            for channel in diff.occupied.iter().chain(&diff.vacated).chain(&diff.recounted) {
                if let Some(c) = self.shards.of(channel).write().get_mut(channel.as_str()) {
                    c.count_dirty = true;
                }
            }
        }
        UsersChanged {
            online: diff.online,
            offline: diff.offline,
        }
    }

    /// A member joined (`joined` is Some) or left a presence channel on `node`: announce it to
    /// this node's subscribers unless the user is still, or already, present elsewhere.
    fn remote_member(&self, channel: &str, user_id: &str, joined: Option<&PresenceMember>, node: &str) {
        let Ok(name) = ChannelName::parse(channel, usize::MAX) else {
            return;
        };
        let shard = self.shards.of(channel).read();
        let local = shard.get(channel);
        let held_here = local
            .and_then(|c| c.presence.as_ref())
            .is_some_and(|p| p.contains(user_id));
        let origin = Origin::Node { node, held_here };
        if !self
            .remote
            .read()
            .is_news(Subject::Member(channel, user_id), origin)
        {
            return;
        }
        match joined {
            Some(member) => self.member_added(&name, member, local, None),
            None => self.member_removed(&name, user_id, local),
        }
    }

    /// Housekeeping: the subscription counts throttled since the last tick, expired cache entries.
    pub fn tick(&self, now: Instant) {
        if self.subscription_count {
            for shard in self.shards.all() {
                let mut shard = shard.write();
                for (name, channel) in shard.iter_mut().filter(|(_, c)| c.count_dirty) {
                    let remote = self.remote.read().subscriptions(name.as_str());
                    if let Some(count) = channel.announce_count(name, remote, now) {
                        self.notify(ChannelEvent::SubscriptionCount {
                            channel: name.clone(),
                            count,
                        });
                    }
                }
            }
        }
        self.cache.expire(now);
    }
}
