//! What the other nodes of a cluster hold, as the last snapshot each of them shared.
//!
//! A cluster is eventually consistent: every node publishes a [`NodeSnapshot`] of its own
//! channels, presence members and signed-in users whenever they change (and as a heartbeat),
//! and every node merges the snapshots it hears into its view. Comparing a node's new snapshot
//! with its previous one gives the joins and departures on that node; together with the local
//! state they decide what the cluster as a whole saw (a user on two nodes counts once).

use super::presence::PresenceMember;
use super::{internal_frame, AppHub, ChannelEvent};
use crate::protocol::ChannelName;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// One node's state of one app, as shared with the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSnapshot {
    /// Occupied channels and their subscription counts on that node.
    pub channels: HashMap<String, usize>,
    /// Presence members per channel: `(user_id, user_info JSON)`, in join order.
    pub presence: HashMap<String, Vec<(String, Option<String>)>>,
    /// Users signed in on that node.
    pub users: Vec<String>,
}

/// What changed between two snapshots of one node.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SnapshotDiff {
    pub occupied: Vec<String>,
    pub vacated: Vec<String>,
    pub joined: Vec<(String, PresenceMember)>,
    pub left: Vec<(String, String)>,
    pub online: Vec<String>,
    pub offline: Vec<String>,
    /// Channels whose subscription count changed (for `subscription_count`).
    pub recounted: Vec<String>,
}

impl NodeSnapshot {
    pub(crate) fn diff(old: &NodeSnapshot, new: &NodeSnapshot) -> SnapshotDiff {
        let mut d = SnapshotDiff::default();
        for (c, n) in &new.channels {
            match old.channels.get(c) {
                None => d.occupied.push(c.clone()),
                Some(o) if o != n => d.recounted.push(c.clone()),
                _ => {}
            }
        }
        d.vacated = old
            .channels
            .keys()
            .filter(|c| !new.channels.contains_key(*c))
            .cloned()
            .collect();
        let ids = |s: &NodeSnapshot, c: &str| -> HashSet<String> {
            s.presence
                .get(c)
                .map(|m| m.iter().map(|(u, _)| u.clone()).collect())
                .unwrap_or_default()
        };
        for (c, members) in &new.presence {
            let before = ids(old, c);
            for (user_id, user_info) in members {
                if !before.contains(user_id) {
                    let member = PresenceMember {
                        user_id: user_id.clone(),
                        user_info: user_info.clone(),
                    };
                    d.joined.push((c.clone(), member));
                }
            }
        }
        for (c, members) in &old.presence {
            let after = ids(new, c);
            for (user_id, _) in members {
                if !after.contains(user_id) {
                    d.left.push((c.clone(), user_id.clone()));
                }
            }
        }
        let old_users: HashSet<&String> = old.users.iter().collect();
        let new_users: HashSet<&String> = new.users.iter().collect();
        d.online = new_users.difference(&old_users).map(|u| (*u).clone()).collect();
        d.offline = old_users.difference(&new_users).map(|u| (*u).clone()).collect();
        d
    }
}

/// The latest snapshot of every other node.
#[derive(Default)]
pub(crate) struct RemoteNodes {
    nodes: HashMap<String, NodeSnapshot>,
}

impl RemoteNodes {
    /// Stores `node`'s snapshot (an empty one when it is gone) and returns what changed on it.
    pub fn replace(&mut self, node: &str, snapshot: Option<NodeSnapshot>) -> SnapshotDiff {
        let old = match snapshot {
            Some(s) => self.nodes.insert(node.to_owned(), s),
            None => self.nodes.remove(node),
        }
        .unwrap_or_default();
        let empty = NodeSnapshot::default();
        let new = self.nodes.get(node).unwrap_or(&empty);
        NodeSnapshot::diff(&old, new)
    }

    pub fn subscriptions(&self, channel: &str) -> usize {
        self.nodes.values().filter_map(|n| n.channels.get(channel)).sum()
    }

    pub fn occupied(&self, channel: &str) -> bool {
        self.nodes.values().any(|n| n.channels.contains_key(channel))
    }

    pub fn occupied_except(&self, channel: &str, node: &str) -> bool {
        self.nodes
            .iter()
            .any(|(id, n)| id != node && n.channels.contains_key(channel))
    }

    pub fn has_member_except(&self, channel: &str, user_id: &str, node: &str) -> bool {
        self.nodes.iter().any(|(id, n)| {
            id != node
                && n.presence
                    .get(channel)
                    .is_some_and(|m| m.iter().any(|(u, _)| u == user_id))
        })
    }

    pub fn user_online_except(&self, user: &str, node: &str) -> bool {
        self.nodes
            .iter()
            .any(|(id, n)| id != node && n.users.iter().any(|u| u == user))
    }

    pub fn has_member(&self, channel: &str, user_id: &str) -> bool {
        self.nodes.values().any(|n| {
            n.presence
                .get(channel)
                .is_some_and(|m| m.iter().any(|(u, _)| u == user_id))
        })
    }

    /// Members on other nodes, each user once, in node order.
    pub fn members(&self, channel: &str) -> Vec<PresenceMember> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for node in self.nodes.values() {
            for (user_id, user_info) in node.presence.get(channel).into_iter().flatten() {
                if seen.insert(user_id.clone()) {
                    out.push(PresenceMember {
                        user_id: user_id.clone(),
                        user_info: user_info.clone(),
                    });
                }
            }
        }
        out
    }

    pub fn user_online(&self, user: &str) -> bool {
        self.nodes.values().any(|n| n.users.iter().any(|u| u == user))
    }

    /// Occupied channels on other nodes with their subscription counts.
    pub fn channels(&self) -> HashMap<String, usize> {
        let mut out: HashMap<String, usize> = HashMap::new();
        for node in self.nodes.values() {
            for (c, n) in &node.channels {
                *out.entry(c.clone()).or_default() += n;
            }
        }
        out
    }
}

impl AppHub {
    /// This node's state of the app, to share with the others.
    pub fn local_snapshot(&self) -> NodeSnapshot {
        let mut snapshot = NodeSnapshot {
            users: self.users.online_users(),
            ..NodeSnapshot::default()
        };
        for shard in &self.shards {
            for (name, channel) in shard.read().iter() {
                snapshot
                    .channels
                    .insert(name.to_string(), channel.subscribers.len());
                if let Some(p) = &channel.presence {
                    snapshot.presence.insert(name.to_string(), p.snapshot());
                }
            }
        }
        snapshot
    }

    /// Takes in another node's latest state (`None`: the node is gone) and tells local clients and
    /// the observer what changed for the cluster as a whole.
    pub fn apply_remote(&self, node: &str, snapshot: Option<NodeSnapshot>) {
        let diff = self.remote.write().replace(node, snapshot);
        for (channel, member) in diff.joined {
            self.remote_member(&channel, &member.user_id, Some(&member), node);
        }
        for (channel, user_id) in diff.left {
            self.remote_member(&channel, &user_id, None, node);
        }
        for channel in diff.occupied.iter().chain(&diff.vacated) {
            let Ok(name) = ChannelName::parse(channel, usize::MAX) else {
                continue;
            };
            let shard = self.shard(channel).read();
            if shard.contains_key(channel.as_str()) {
                continue;
            }
            let remote = self.remote.read();
            let arrived = diff.occupied.contains(channel);
            if arrived && !remote.occupied_except(channel, node) {
                self.observer.notify(ChannelEvent::Occupied { channel: name });
            } else if !arrived && !remote.occupied(channel) {
                self.observer.notify(ChannelEvent::Vacated { channel: name });
            }
        }
        if self.config.subscription_count {
            for channel in diff.occupied.iter().chain(&diff.vacated).chain(&diff.recounted) {
                if let Some(c) = self.shard(channel).write().get_mut(channel.as_str()) {
                    c.count_dirty = true;
                }
            }
        }
        for user in &diff.online {
            if !self.remote.read().user_online_except(user, node) {
                self.users.remote_presence_changed(user, true);
            }
        }
        for user in &diff.offline {
            if !self.remote.read().user_online(user) {
                self.users.remote_presence_changed(user, false);
            }
        }
    }

    /// A member joined (`joined` is Some) or left a presence channel on `node`: announce it to
    /// this node's subscribers unless the user is still, or already, present elsewhere.
    fn remote_member(
        &self,
        channel: &str,
        user_id: &str,
        joined: Option<&super::PresenceMember>,
        node: &str,
    ) {
        let Ok(name) = ChannelName::parse(channel, usize::MAX) else {
            return;
        };
        let shard = self.shard(channel).read();
        let local = shard.get(channel);
        if local
            .and_then(|c| c.presence.as_ref())
            .is_some_and(|p| p.contains(user_id))
        {
            return;
        }
        let remote = self.remote.read();
        let (event, data) = match joined {
            Some(member) if !remote.has_member_except(channel, user_id, node) => {
                self.observer.notify(ChannelEvent::MemberAdded {
                    channel: name.clone(),
                    user_id: user_id.into(),
                });
                ("pusher_internal:member_added", member.added_data())
            }
            None if !remote.has_member(channel, user_id) => {
                self.observer.notify(ChannelEvent::MemberRemoved {
                    channel: name.clone(),
                    user_id: user_id.into(),
                });
                (
                    "pusher_internal:member_removed",
                    super::PresenceMember::removed_data(user_id),
                )
            }
            _ => return,
        };
        let Some(local) = local else { return };
        let frame = internal_frame(&name, event, data);
        for sub in local.subscribers.values() {
            sub.outbox.send(frame.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(channels: &[(&str, usize)], presence: &[(&str, &[&str])], users: &[&str]) -> NodeSnapshot {
        NodeSnapshot {
            channels: channels.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            presence: presence
                .iter()
                .map(|(c, us)| (c.to_string(), us.iter().map(|u| (u.to_string(), None)).collect()))
                .collect(),
            users: users.iter().map(|u| u.to_string()).collect(),
        }
    }

    #[test]
    fn a_diff_names_every_arrival_and_departure() {
        let old = snapshot(&[("a", 1), ("presence-p", 1)], &[("presence-p", &["u1"])], &["x"]);
        let new = snapshot(
            &[("a", 2), ("b", 1), ("presence-p", 1)],
            &[("presence-p", &["u2"])],
            &["y"],
        );
        let d = NodeSnapshot::diff(&old, &new);
        assert_eq!(d.occupied, vec!["b"]);
        assert!(d.vacated.is_empty());
        assert_eq!(d.recounted, vec!["a"]);
        assert_eq!(d.joined.len(), 1);
        assert_eq!(d.joined[0].1.user_id, "u2");
        assert_eq!(d.left, vec![("presence-p".to_string(), "u1".to_string())]);
        assert_eq!(
            (d.online, d.offline),
            (vec!["y".to_string()], vec!["x".to_string()])
        );
    }

    #[test]
    fn a_node_that_goes_away_takes_its_state_with_it() {
        let mut remote = RemoteNodes::default();
        remote.replace(
            "n1",
            Some(snapshot(&[("presence-p", 2)], &[("presence-p", &["u1"])], &[])),
        );
        remote.replace(
            "n2",
            Some(snapshot(&[("presence-p", 1)], &[("presence-p", &["u1"])], &[])),
        );
        assert_eq!(remote.subscriptions("presence-p"), 3);
        assert_eq!(remote.members("presence-p").len(), 1, "u1 counts once");
        let gone = remote.replace("n1", None);
        assert_eq!(gone.vacated, vec!["presence-p"]);
        assert!(remote.has_member("presence-p", "u1"), "still on n2");
    }
}
