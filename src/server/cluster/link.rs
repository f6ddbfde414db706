//! The node's link to the others: three tasks that run until shutdown.
//!
//! The reader holds a subscription to the bus and hands what it hears to the hub, reconnecting
//! with back-off when the connection drops (and then sharing this node's state at once, since
//! whatever changed meanwhile was never heard). The writer sends queued publishes in batches,
//! shares state changes after a short debounce so a burst of joins travels as one snapshot,
//! and on each heartbeat re-sends every snapshot and keeps the leader lease. The liveness
//! check forgets nodes whose heartbeat stopped. None of them holds a lock across I/O.

use super::codec::Message;
use super::transport::{Command, Transport};
use super::{leader, RedisCluster};
use crate::hub::{Hub, Publish};
use crate::protocol::{ChannelName, SocketId};
use crate::server::shutdown::Shutdown;
use futures_util::StreamExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Most queued commands one round trip carries.
const MAX_BATCH: usize = 512;
/// How long a stopping node spends on its goodbye.
const GOODBYE_TIMEOUT: Duration = Duration::from_millis(300);

/// Reads the bus until shutdown, reconnecting whenever the subscription is lost.
pub(super) async fn read_loop(
    cluster: Arc<RedisCluster>,
    transport: Arc<dyn Transport>,
    hub: Arc<Hub>,
    shutdown: Shutdown,
) {
    let mut backoff = Duration::from_millis(100);
    let mut was_down = false;
    loop {
        let mut stream = tokio::select! {
            r = transport.subscribe() => match r {
                Ok(s) => s,
                Err(e) => {
                    cluster.health.down();
                    if !was_down {
                        tracing::warn!("cluster: Redis unreachable ({e}); serving local clients, retrying");
                        was_down = true;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
            _ = shutdown.cancelled() => return,
        };
        if was_down {
            tracing::warn!("cluster: connected to Redis again; resynchronising");
        }
        backoff = Duration::from_millis(100);
        cluster.health.up();
        // Tell the others our state now rather than at the next heartbeat.
        cluster.mark_all_dirty(&hub);
        loop {
            tokio::select! {
                received = stream.next() => match received {
                    Some(m) => handle(&cluster, &hub, m.payload()),
                    None => break,
                },
                _ = shutdown.cancelled() => return,
            }
        }
        cluster.health.down();
        tracing::warn!("cluster: lost the Redis connection; serving local clients, reconnecting");
        was_down = true;
    }
}

/// Acts on one message from another node; this node's own messages come back too and are skipped.
fn handle(cluster: &RedisCluster, hub: &Hub, payload: &[u8]) {
    let Some(message) = Message::decode(payload) else {
        return;
    };
    if message.sender() == cluster.node_id {
        return;
    }
    cluster.health.received();
    match message {
        Message::Publish {
            app_key,
            channel,
            event,
            data,
            except,
            user_id,
            from_client,
            ..
        } => {
            let (Some(app), Ok(channel)) =
                (hub.app_by_key(&app_key), ChannelName::parse(&channel, usize::MAX))
            else {
                return;
            };
            let except = except.as_deref().and_then(SocketId::parse);
            crate::server::send::deliver_local(
                app,
                &Publish {
                    channel,
                    event,
                    data,
                    except,
                    user_id,
                    from_client,
                },
            );
        }
        Message::Snapshot {
            node,
            app_key,
            snapshot,
        } => {
            cluster.last_seen.lock().insert(node.clone(), Instant::now());
            if let Some(app) = hub.app_by_key(&app_key) {
                app.apply_remote(&node, Some(snapshot));
            }
        }
        Message::Terminate { app_key, user_id, .. } => {
            if let Some(app) = hub.app_by_key(&app_key) {
                app.terminate_local_user_connections(&user_id);
            }
        }
        Message::Goodbye { node } => cluster.forget(hub, &node),
    }
}

/// Sends what is queued, debounced snapshots and heartbeats until shutdown, then says goodbye.
pub(super) async fn write_loop(
    cluster: Arc<RedisCluster>,
    transport: Arc<dyn Transport>,
    hub: Arc<Hub>,
    mut outgoing: mpsc::Receiver<Command>,
    shutdown: Shutdown,
) {
    let mut heartbeat = tokio::time::interval(cluster.timing.heartbeat);
    let mut failing = false;
    loop {
        let mut batch = Vec::new();
        // Messages from the queue, counted when lost; snapshots are re-sent by the next heartbeat.
        let mut messages = 0u64;
        tokio::select! {
            Some(command) = outgoing.recv() => {
                batch.push(command);
                while let Ok(more) = outgoing.try_recv() {
                    batch.push(more);
                    if batch.len() >= MAX_BATCH { break; }
                }
                messages = batch.iter().filter(|c| matches!(c, Command::Publish(_))).count() as u64;
            }
            _ = cluster.wake.notified() => {
                tokio::time::sleep(cluster.timing.debounce).await;
                let dirty: Vec<String> = cluster.dirty.lock().drain().collect();
                let snapshots = dirty.iter().filter_map(|k| cluster.snapshot_message(&hub, k));
                batch.extend(snapshots.map(Command::Publish));
            }
            _ = heartbeat.tick() => {
                cluster.dirty.lock().clear();
                let snapshots = hub.apps().filter_map(|a| cluster.snapshot_message(&hub, &a.config.key));
                batch.extend(snapshots.map(Command::Publish));
                // What was reported must be on record before anyone compares against it.
                if write_unrecorded(&cluster, &*transport).await {
                    leader::keep_lease(&cluster, &*transport, &hub).await;
                }
            }
            _ = shutdown.cancelled() => {
                say_goodbye(&cluster, &*transport).await;
                return;
            }
        }
        if batch.is_empty() {
            continue;
        }
        let sent = match write_unrecorded(&cluster, &*transport).await {
            true => transport.execute(&batch).await,
            false => Err("Redis does not take the earlier webhook records".into()),
        };
        match sent {
            Ok(()) => {
                if failing {
                    let lost = cluster.publish_failed.load(Ordering::Relaxed);
                    tracing::warn!("cluster: publishing to Redis again; {lost} message(s) lost so far");
                }
                failing = false;
                let published = batch.iter().filter(|c| matches!(c, Command::Publish(_)));
                cluster.health.sent(published.count());
            }
            Err(e) => {
                cluster.keep_unrecorded(&batch);
                let lost = cluster.publish_failed.fetch_add(messages, Ordering::Relaxed) + messages;
                if !failing {
                    tracing::warn!(
                        "cluster: cannot publish to Redis ({e}); messages are not forwarded \
                         (counted in the stats as cluster_publish_failed, {lost} so far)"
                    );
                    failing = true;
                }
            }
        }
    }
}

/// Writes the webhook records Redis did not take earlier, in order; whether none is left.
async fn write_unrecorded(cluster: &RedisCluster, transport: &dyn Transport) -> bool {
    let pending: Vec<Command> = cluster.unrecorded.lock().drain(..).collect();
    if pending.is_empty() || transport.execute(&pending).await.is_ok() {
        return true;
    }
    let mut unrecorded = cluster.unrecorded.lock();
    let newer = std::mem::take(&mut *unrecorded);
    drop(unrecorded);
    cluster.keep_unrecorded(pending.iter().chain(newer.iter()));
    false
}

/// Tells the others this node's clients are gone and gives the lease up, if Redis is there.
async fn say_goodbye(cluster: &RedisCluster, transport: &dyn Transport) {
    if !transport.connected() {
        return;
    }
    let Some(goodbye) = (Message::Goodbye {
        node: cluster.node_id.clone(),
    })
    .encode() else {
        return;
    };
    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, async {
        let _ = transport.execute(&[Command::Publish(goodbye)]).await;
        leader::release(cluster, transport).await;
    })
    .await;
}

/// Forgets nodes whose heartbeat stopped.
pub(super) async fn liveness_loop(cluster: Arc<RedisCluster>, hub: Arc<Hub>, shutdown: Shutdown) {
    let mut every = tokio::time::interval(cluster.timing.liveness_check);
    loop {
        tokio::select! {
            _ = every.tick() => {
                let now = Instant::now();
                let dead: Vec<String> = cluster
                    .last_seen
                    .lock()
                    .iter()
                    .filter(|(_, seen)| now.duration_since(**seen) > cluster.timing.node_timeout)
                    .map(|(n, _)| n.clone())
                    .collect();
                for node in dead {
                    tracing::warn!("cluster: node {node} stopped answering; removing its clients");
                    cluster.forget(&hub, &node);
                }
            }
            _ = shutdown.cancelled() => return,
        }
    }
}
