//! Which node reports the cluster's channel and member webhooks, and how a new one catches up.
//!
//! The leader is whoever holds a short lease in Redis, renewed on every heartbeat; without Redis
//! nobody is leader (a node cut off from the others cannot speak for the cluster). The leader
//! records each webhook it actually sent in two Redis sets per app (see `EmitLog`), so a node
//! that takes the lease over can compare them with the cluster's state and report what nobody
//! did while the lease changed hands, without reporting again what the old leader already did.

use super::codec::{member_entry, parse_member_entry};
use super::transport::Transport;
use super::RedisCluster;
use crate::hub::{ChannelEvent, Hub};
use crate::protocol::ChannelName;
use std::collections::HashSet;
use std::sync::atomic::Ordering;

/// Takes or keeps the lease; a node that has just become leader reconciles.
pub(super) async fn keep_lease(cluster: &RedisCluster, transport: &dyn Transport, hub: &Hub) {
    let was_leader = cluster.leader.load(Ordering::Acquire);
    let held = transport
        .hold_lease(&cluster.leader_key, &cluster.node_id, cluster.timing.lease)
        .await
        .unwrap_or(false);
    cluster.leader.store(held, Ordering::Release);
    if held && !was_leader {
        reconcile(cluster, transport, hub).await;
    }
}

/// Gives the lease up (a stopping node), so the next leader need not wait for it to expire.
pub(super) async fn release(cluster: &RedisCluster, transport: &dyn Transport) {
    let _ = transport
        .release_lease(&cluster.leader_key, &cluster.node_id)
        .await;
}

/// Compares what was reported with what the cluster holds now and reports the difference:
/// arrivals and departures nobody reported while the lease changed hands.
async fn reconcile(cluster: &RedisCluster, transport: &dyn Transport, hub: &Hub) {
    for app in hub.apps() {
        let (channels_key, members_key) = cluster.reported_keys(&app.config.key);
        let reported = async {
            let channels = transport.set_members(&channels_key).await?;
            let members = transport.set_members(&members_key).await?;
            Ok::<_, super::transport::Error>((channels, members))
        };
        let Ok((reported_channels, reported_members)) = reported.await else {
            return;
        };
        let mut channels = HashSet::new();
        let mut members = HashSet::new();
        for (name, _) in app.channels("") {
            for m in app.presence_members(name.as_str()) {
                members.insert(member_entry(name.as_str(), &m.user_id));
            }
            channels.insert(name.to_string());
        }
        let named = |c: &str| ChannelName::parse(c, usize::MAX).ok();
        for c in channels.difference(&reported_channels).filter_map(|c| named(c)) {
            app.notify_observer(ChannelEvent::Occupied { channel: c });
        }
        for entry in members.difference(&reported_members) {
            if let Some((c, user_id)) = parse_member_entry(entry) {
                app.notify_observer(ChannelEvent::MemberAdded { channel: c, user_id });
            }
        }
        for entry in reported_members.difference(&members) {
            if let Some((c, user_id)) = parse_member_entry(entry) {
                app.notify_observer(ChannelEvent::MemberRemoved { channel: c, user_id });
            }
        }
        for c in reported_channels.difference(&channels).filter_map(|c| named(c)) {
            app.notify_observer(ChannelEvent::Vacated { channel: c });
        }
    }
}
