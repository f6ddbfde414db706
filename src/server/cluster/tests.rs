//! The cluster's logic on the in-memory transport: several nodes in one process, each a real
//! hub with real sessions, sharing one [`MemoryBus`] with shrunken timings. The real-redis
//! behaviour is pinned by `tests/cluster.rs` and `tests/node/cluster.test.mjs`.

use super::memory::{MemoryBus, MemoryTransport};
use super::{RedisCluster, Timing};
use crate::config::AppConfig;
use crate::hub::tests::RecordingOutbox;
use crate::hub::{ChannelEvent, Hub, Observer, Publish, Session};
use crate::protocol::{ChannelName, SocketId};
use crate::server::shutdown::{self, Stopper};
use crate::server::webhook::EmitLog;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "key";
const SECRET: &str = "secret";

fn timing() -> Timing {
    Timing {
        heartbeat: Duration::from_millis(50),
        debounce: Duration::from_millis(5),
        lease: Duration::from_millis(300),
        node_timeout: Duration::from_millis(400),
        liveness_check: Duration::from_millis(50),
    }
}

/// Stands in for the webhook module: records the cluster events this node reports (only while
/// it leads, as the webhooks do) and logs them as reported, as a sent webhook is.
struct Reported {
    cluster: Arc<RedisCluster>,
    events: Mutex<Vec<ChannelEvent>>,
}

impl Observer for Reported {
    fn notify(&self, event: ChannelEvent) {
        if !self.cluster.leader.load(Ordering::Acquire) {
            return;
        }
        let (channel, user_id, arrived) = match &event {
            ChannelEvent::Occupied { channel } => (channel, None, true),
            ChannelEvent::Vacated { channel } => (channel, None, false),
            ChannelEvent::MemberAdded { channel, user_id } => (channel, Some(user_id.as_str()), true),
            ChannelEvent::MemberRemoved { channel, user_id } => (channel, Some(user_id.as_str()), false),
            _ => return,
        };
        self.cluster.emitted(KEY, channel.as_str(), user_id, arrived);
        self.events.lock().push(event);
    }
}

struct Node {
    cluster: Arc<RedisCluster>,
    hub: Arc<Hub>,
    transport: Arc<MemoryTransport>,
    reported: Arc<Reported>,
    stop: Stopper,
    sockets: AtomicU64,
}

impl Node {
    fn start(bus: &Arc<MemoryBus>, timing: Timing) -> Node {
        let cluster = RedisCluster::with_timing("t", timing);
        let reported = Arc::new(Reported {
            cluster: cluster.clone(),
            events: Mutex::new(Vec::new()),
        });
        let app = AppConfig {
            key: KEY.into(),
            secret: SECRET.into(),
            ..AppConfig::default()
        };
        let observer = reported.clone();
        let hub = Arc::new(Hub::with_parts(vec![app], cluster.clone(), |_| observer.clone()));
        let transport = MemoryTransport::new(bus);
        let (stop, stopped) = shutdown::channel();
        cluster
            .spawn_on(transport.clone(), hub.clone(), stopped)
            .expect("started once");
        Node {
            cluster,
            hub,
            transport,
            reported,
            stop,
            sockets: AtomicU64::new(0),
        }
    }

    fn connect(&self) -> (Session, Arc<RecordingOutbox>) {
        let app = self.hub.app_by_key(KEY).expect("the app");
        let n = self.sockets.fetch_add(1, Ordering::Relaxed) + 1;
        let outbox = Arc::new(RecordingOutbox::default());
        let slot = app.try_connect().expect("admitted");
        (Session::new(slot, n, SocketId::new(1, n), outbox.clone()), outbox)
    }

    fn subscriber(&self, channel: &str) -> (Session, Arc<RecordingOutbox>) {
        let (mut s, out) = self.connect();
        let msg = serde_json::json!({"event":"pusher:subscribe","data":{"channel":channel}});
        s.handle_text(&msg.to_string());
        out.take();
        (s, out)
    }

    fn member(&self, channel: &str, user_id: &str) -> (Session, Arc<RecordingOutbox>) {
        let (mut s, out) = self.connect();
        let data = serde_json::json!({ "user_id": user_id }).to_string();
        let to_sign = format!("{}:{channel}:{data}", s.socket_id());
        let auth = crate::protocol::signature::auth_token(KEY, SECRET, &to_sign);
        let msg = serde_json::json!({"event":"pusher:subscribe","data":{"channel":channel,"auth":auth,"channel_data":data}});
        s.handle_text(&msg.to_string());
        out.take();
        (s, out)
    }

    fn publish(&self, channel: &str, data: &str) {
        self.hub.app_by_key(KEY).expect("the app").publish(&Publish {
            channel: ChannelName::parse(channel, 200).expect("a channel name"),
            event: "news".into(),
            data: data.into(),
            except: None,
            user_id: None,
            from_client: false,
        });
    }

    fn subscriptions(&self, channel: &str) -> usize {
        self.hub
            .app_by_key(KEY)
            .expect("the app")
            .subscription_count(channel)
    }

    fn is_leader(&self) -> bool {
        self.cluster.leader.load(Ordering::Acquire)
    }

    fn reported(&self) -> Vec<ChannelEvent> {
        self.reported.events.lock().clone()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.begin();
    }
}

/// Waits until `check` holds (the cluster is eventually consistent), at most 5 s.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

/// Frames of `event` in an outbox, in arrival order.
fn frames_of(out: &RecordingOutbox, event: &str) -> Vec<serde_json::Value> {
    out.frames
        .lock()
        .iter()
        .filter_map(|f| serde_json::from_str::<serde_json::Value>(f).ok())
        .filter(|f| f["event"] == event)
        .collect()
}

fn occupied(channel: &str) -> ChannelEvent {
    ChannelEvent::Occupied {
        channel: ChannelName::parse(channel, 200).expect("a channel name"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_see_each_others_publishes_once_and_in_order() {
    let bus = MemoryBus::new();
    let (a, b) = (Node::start(&bus, timing()), Node::start(&bus, timing()));
    let (_on_a, out_a) = a.subscriber("news");
    let (_on_b, out_b) = b.subscriber("news");
    eventually("both subscriptions are known on both nodes", || {
        a.subscriptions("news") == 2 && b.subscriptions("news") == 2
    })
    .await;
    a.publish("news", "\"a1\"");
    b.publish("news", "\"b1\"");
    a.publish("news", "\"a2\"");
    b.publish("news", "\"b2\"");
    eventually("four events on a", || frames_of(&out_a, "news").len() >= 4).await;
    eventually("four events on b", || frames_of(&out_b, "news").len() >= 4).await;
    // Several heartbeats, for any duplicate to show up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for out in [&out_a, &out_b] {
        let data: Vec<String> = frames_of(out, "news")
            .iter()
            .map(|f| f["data"].to_string())
            .collect();
        assert_eq!(data.len(), 4, "each once: {data:?}");
        let from = |node: &str| {
            data.iter()
                .filter(|d| d.contains(node))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(from("a"), [r#""\"a1\"""#, r#""\"a2\"""#], "a's in order");
        assert_eq!(from("b"), [r#""\"b1\"""#, r#""\"b2\"""#], "b's in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_silent_past_the_timeout_is_declared_dead_and_its_members_leave_once() {
    let bus = MemoryBus::new();
    let (a, b) = (Node::start(&bus, timing()), Node::start(&bus, timing()));
    let (_watcher, seen) = a.member("presence-room", "watcher");
    let (_gone, _) = b.member("presence-room", "gone");
    eventually("a sees b's member", || {
        frames_of(&seen, "pusher_internal:member_added").len() == 1
    })
    .await;
    b.transport.set_cut(true);
    eventually("a drops b's member", || {
        frames_of(&seen, "pusher_internal:member_removed").len() == 1
    })
    .await;
    assert!(
        !a.cluster.last_seen.lock().contains_key(&b.cluster.node_id),
        "b is dead to a"
    );
    // Well past another timeout: the member left once.
    tokio::time::sleep(timing().node_timeout * 2).await;
    let removed = frames_of(&seen, "pusher_internal:member_removed");
    assert_eq!(removed.len(), 1, "one member_removed: {removed:?}");
    let members = a.hub.app_by_key(KEY).unwrap().presence_members("presence-room");
    assert_eq!(members.len(), 1, "only the watcher is left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_moves_to_another_node_when_the_leader_stops() {
    let bus = MemoryBus::new();
    let a = Node::start(&bus, timing());
    eventually("a leads", || a.is_leader()).await;
    let b = Node::start(&bus, timing());
    tokio::time::sleep(timing().lease).await;
    assert!(a.is_leader() && !b.is_leader(), "one leader while it lives");
    drop(a);
    eventually("b leads", || b.is_leader()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_moves_to_another_node_when_the_leader_falls_silent() {
    let bus = MemoryBus::new();
    let a = Node::start(&bus, timing());
    eventually("a leads", || a.is_leader()).await;
    let b = Node::start(&bus, timing());
    a.transport.set_cut(true);
    eventually("b leads", || b.is_leader()).await;
    assert!(!a.is_leader(), "a node without Redis does not lead");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_shares_the_snapshot_at_once() {
    // Heartbeats far apart: only the reconnect can explain b's state reaching a in time.
    let slow = Timing {
        heartbeat: Duration::from_secs(30),
        node_timeout: Duration::from_secs(60),
        ..timing()
    };
    let bus = MemoryBus::new();
    let (a, b) = (Node::start(&bus, slow), Node::start(&bus, slow));
    let (_first, _) = b.subscriber("first");
    eventually("a sees b's first channel", || a.subscriptions("first") == 1).await;
    b.transport.set_cut(true);
    let (_later, _) = b.subscriber("later");
    // The change went out while b was cut off, and was lost.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(a.subscriptions("later"), 0);
    b.transport.set_cut(false);
    eventually("a sees b's later channel", || a.subscriptions("later") == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_keep_serving_local_clients_while_redis_is_down_and_resync_when_it_returns() {
    let bus = MemoryBus::new();
    let (a, b) = (Node::start(&bus, timing()), Node::start(&bus, timing()));
    let (_on_b, _) = b.subscriber("news");
    eventually("a sees b's subscriber", || a.subscriptions("news") == 1).await;
    bus.set_down(true);
    let (_on_a, out_a) = a.subscriber("news");
    a.publish("news", "\"local\"");
    assert_eq!(frames_of(&out_a, "news").len(), 1, "local delivery without Redis");
    eventually("a forgets the silent b", || a.subscriptions("news") == 1).await;
    bus.set_down(false);
    eventually("both see both subscribers again", || {
        a.subscriptions("news") == 2 && b.subscriptions("news") == 2
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_the_old_leader_reported_is_not_reported_again_by_the_new_one() {
    let bus = MemoryBus::new();
    let a = Node::start(&bus, timing());
    eventually("a leads", || a.is_leader()).await;
    let b = Node::start(&bus, timing());
    let (_early, _) = b.subscriber("early");
    eventually("a reports the early channel", || {
        a.reported() == [occupied("early")]
    })
    .await;
    eventually("the report is recorded", || {
        bus.set_members("t:reported:key:channels").contains("early")
    })
    .await;
    a.transport.set_cut(true);
    // Nobody leads while a's lease runs out: this channel is reported by whoever leads next.
    let (_late, _) = b.subscriber("late");
    eventually("b leads", || b.is_leader()).await;
    eventually("b reports the late channel", || {
        b.reported().contains(&occupied("late"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        b.reported(),
        [occupied("late")],
        "early was reported by a already"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_record_redis_did_not_take_is_written_once_it_is_back() {
    let bus = MemoryBus::new();
    let a = Node::start(&bus, timing());
    eventually("a leads", || a.is_leader()).await;
    bus.set_down(true);
    // The leader sent a webhook just as Redis went away: its record must not be lost, or the
    // next reconciliation would take the webhook as missing and send it again.
    a.cluster.emitted(KEY, "gap", None, true);
    tokio::time::sleep(timing().heartbeat * 4).await;
    bus.set_down(false);
    eventually("the record reaches Redis", || {
        bus.set_members("t:reported:key:channels").contains("gap")
    })
    .await;
}
