//! Several nodes sharing one real redis-server behave as one server.

mod common;
mod redis_servers;

use common::cluster::{assert_publishes_reach_every_node_once, eventually, publish, subscriber_known_on};
use common::{start_server, Client, KEY};
use redis_servers::RedisProcess;
use serde_json::{json, Value};
use std::time::Duration;
use webman_push::server::PushServer;

fn node(redis: &RedisProcess, extra: Value) -> PushServer {
    let mut config = json!({ "redis": redis.url(), "redis_prefix": format!("t{}", redis.port) });
    if let (Value::Object(c), Value::Object(e)) = (&mut config, extra) {
        c.extend(e);
    }
    start_server(config)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_on_one_node_reaches_subscribers_on_every_node_once() {
    let redis = RedisProcess::plain(&[]);
    let nodes: Vec<PushServer> = (0..3).map(|_| node(&redis, json!({}))).collect();
    assert_publishes_reach_every_node_once(&nodes).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn presence_is_cluster_wide_and_a_user_on_two_nodes_counts_once() {
    let redis = RedisProcess::plain(&[]);
    let (a, b, c) = (
        node(&redis, json!({})),
        node(&redis, json!({})),
        node(&redis, json!({})),
    );
    let mut watcher = Client::connect(&c).await;
    watcher
        .subscribe_presence("presence-room", r#"{"user_id":"watcher"}"#)
        .await;
    let app_c = c.hub().app_by_key(KEY).unwrap().clone();

    let mut alice_a = Client::connect(&a).await;
    alice_a
        .subscribe_presence("presence-room", r#"{"user_id":"alice"}"#)
        .await;
    let added = watcher.next_event().await.unwrap();
    assert_eq!(added["event"], "pusher_internal:member_added");
    eventually("alice is seen on node c", || {
        app_c.presence_members("presence-room").len() == 2
    })
    .await;
    // Node b learns the room from the others' snapshots; the count alice_b gets is b's view.
    let app_b = b.hub().app_by_key(KEY).unwrap().clone();
    eventually("watcher and alice are seen on node b", || {
        app_b.presence_members("presence-room").len() == 2
    })
    .await;

    let mut alice_b = Client::connect(&b).await;
    let ok = alice_b
        .subscribe_presence("presence-room", r#"{"user_id":"alice"}"#)
        .await;
    let presence: Value = serde_json::from_str(ok["data"].as_str().unwrap()).unwrap();
    assert_eq!(presence["presence"]["count"], 2, "watcher and alice, alice once");
    tokio::time::sleep(Duration::from_millis(300)).await;
    alice_a.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    alice_b.close().await;
    let removed = watcher.next_event().await.unwrap();
    assert_eq!(
        removed["event"], "pusher_internal:member_removed",
        "only after alice's last socket: {removed}"
    );
    assert!(
        watcher.next_event().await.is_none(),
        "no second member_added or member_removed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_node_takes_its_members_with_it() {
    let redis = RedisProcess::plain(&[]);
    let a = node(&redis, json!({}));
    let b = node(&redis, json!({}));
    let mut watcher = Client::connect(&a).await;
    watcher
        .subscribe_presence("presence-room", r#"{"user_id":"w"}"#)
        .await;
    let mut gone = Client::connect(&b).await;
    gone.subscribe_presence("presence-room", r#"{"user_id":"g"}"#)
        .await;
    assert_eq!(
        watcher.next_event().await.unwrap()["event"],
        "pusher_internal:member_added"
    );
    b.stop();
    let removed = watcher.next_event().await.unwrap();
    assert_eq!(removed["event"], "pusher_internal:member_removed");
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_keep_serving_local_clients_without_redis_and_resync_when_it_returns() {
    let redis = RedisProcess::plain(&[]);
    let port = redis.port;
    let a = node(&redis, json!({}));
    let b = node(&redis, json!({}));
    let mut on_b = subscriber_known_on(&b, &a, "news").await;
    let app_a = a.hub().app_by_key(KEY).unwrap().clone();
    drop(redis);
    let mut on_a = Client::connect(&a).await;
    on_a.subscribe("news").await;
    publish(&a, "news", "\"local\"");
    assert_eq!(
        on_a.next_event().await.unwrap()["data"],
        "\"local\"",
        "local delivery without Redis"
    );
    let _redis = RedisProcess::plain_on(port, &[]);
    let app_b = b.hub().app_by_key(KEY).unwrap().clone();
    eventually("a sees b's subscriber again", || {
        app_a.subscription_count("news") == 2
    })
    .await;
    eventually("b hears a again", || app_b.subscription_count("news") == 2).await;
    publish(&a, "news", "\"again\"");
    let mut got = on_b.next_event().await.unwrap();
    if got["data"] == "\"local\"" {
        got = on_b.next_event().await.unwrap();
    }
    assert_eq!(
        got["data"], "\"again\"",
        "cross-node delivery after Redis came back"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_webhooks_are_sent_once_by_the_leader() {
    use common::webhooks::{names_until_quiet, receiver};
    let redis = RedisProcess::plain(&[]);
    let (url, mut rx) = receiver(200).await;
    let hooks = json!({ "channel_hook": url, "webhook_delay": 0.3 });
    let nodes: Vec<PushServer> = (0..3).map(|_| node(&redis, hooks.clone())).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut clients = Vec::new();
    for n in &nodes {
        let mut c = Client::connect(n).await;
        c.subscribe("shared").await;
        clients.push(c);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        names_until_quiet(&mut rx, Duration::from_millis(1500)).await,
        vec!["channel_added"],
        "one channel_added for the whole cluster"
    );
    for c in clients {
        c.close().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        names_until_quiet(&mut rx, Duration::from_millis(2000)).await,
        vec!["channel_removed"],
        "one channel_removed, after the last node's client left"
    );
}
