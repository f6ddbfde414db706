//! What the other nodes of a cluster hold, as the last snapshot each of them shared.
//!
//! A cluster is eventually consistent: every node publishes a [`NodeSnapshot`] of its own
//! channels, presence members and signed-in users whenever they change (and as a heartbeat),
//! and every node merges the snapshots it hears into its view. Comparing a node's new snapshot
//! with its previous one gives the joins and departures on that node. [`RemoteNodes::is_news`]
//! is the one rule that decides, from those and the local state, what the cluster as a whole
//! saw (a user on two nodes counts once); every occupied/vacated, member and online event of
//! the hub goes through it.

use super::presence::PresenceMember;
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

/// Something the cluster holds or not: what its events are about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// A channel with at least one subscriber.
    Channel(&'a str),
    /// A user in a presence channel: `(channel, user_id)`.
    Member(&'a str, &'a str),
    /// A signed-in user.
    User(&'a str),
}

/// Where a change to a [`Subject`] happened.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Origin<'a> {
    /// On this node.
    Here,
    /// On another node (its snapshot already stored); `held_here`: this node holds the subject.
    Node { node: &'a str, held_here: bool },
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

    /// Whether a node other than `except` (`None`: any node) holds `subject`.
    pub fn holds(&self, subject: Subject<'_>, except: Option<&str>) -> bool {
        let mut others = self.nodes.iter().filter(|(id, _)| Some(id.as_str()) != except);
        match subject {
            Subject::Channel(channel) => others.any(|(_, n)| n.channels.contains_key(channel)),
            Subject::Member(channel, user_id) => others.any(|(_, n)| {
                n.presence
                    .get(channel)
                    .is_some_and(|m| m.iter().any(|(u, _)| u == user_id))
            }),
            Subject::User(user) => others.any(|(_, n)| n.users.iter().any(|u| u == user)),
        }
    }

    /// The one rule behind every cluster-wide event (occupied/vacated, member_added/removed,
    /// a watched user online/offline): a change to `subject` at `origin` is news to the cluster
    /// exactly when nobody else holds `subject`: no other node, and not this one either when
    /// the change happened elsewhere. A user on two nodes, or a channel occupied on two, is
    /// announced once and withdrawn once.
    pub fn is_news(&self, subject: Subject<'_>, origin: Origin<'_>) -> bool {
        match origin {
            Origin::Here => !self.holds(subject, None),
            Origin::Node { node, held_here } => !held_here && !self.holds(subject, Some(node)),
        }
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
        assert!(
            remote.holds(Subject::Member("presence-p", "u1"), None),
            "still on n2"
        );
    }

    #[test]
    fn a_change_is_news_to_the_cluster_only_when_nobody_else_holds_it() {
        let mut remote = RemoteNodes::default();
        remote.replace("n1", Some(snapshot(&[("c", 1)], &[], &["u"])));
        let here = Origin::Here;
        let from = |node, held_here| Origin::Node { node, held_here };
        assert!(!remote.is_news(Subject::Channel("c"), here), "n1 has it");
        assert!(remote.is_news(Subject::Channel("d"), here));
        assert!(
            remote.is_news(Subject::Channel("c"), from("n1", false)),
            "only n1 has it"
        );
        assert!(
            !remote.is_news(Subject::Channel("c"), from("n1", true)),
            "this node has it too"
        );
        assert!(
            !remote.is_news(Subject::User("u"), from("n2", false)),
            "n1 has the user"
        );
        remote.replace("n2", Some(snapshot(&[("c", 1)], &[], &[])));
        assert!(
            !remote.is_news(Subject::Channel("c"), from("n1", false)),
            "n2 has it too"
        );
    }
}
