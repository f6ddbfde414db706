//! Scale-out over a 3-shard Redis Cluster: three push nodes carry messages, presence and
//! webhooks between them over sharded pub/sub, on the one shard that owns the bus's slot.

mod common;
mod redis_servers;

use common::cluster::{
    assert_h_joining_is_heard, assert_publishes_reach_every_node_once, eventually, first_publish_through,
};
use common::{start_server, Client, KEY};
use redis_servers::RedisClusterSet;
use serde_json::{json, Value};
use std::time::Duration;
use webman_push::server::PushServer;

fn nodes(cluster: &RedisClusterSet, extra: Value) -> Vec<PushServer> {
    (0..3)
        .map(|_| {
            let mut config = json!({ "redis_cluster": cluster.seeds(), "redis_prefix": "rc" });
            if let (Value::Object(c), Value::Object(e)) = (&mut config, extra.clone()) {
                c.extend(e);
            }
            start_server(config)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_reaches_every_node_over_sharded_pub_sub_on_one_shard() {
    let cluster = RedisClusterSet::start(3);
    let nodes = nodes(&cluster, json!({}));
    assert_publishes_reach_every_node_once(&nodes).await;
    let holding: Vec<String> = cluster
        .nodes
        .iter()
        .map(|n| n.cli(&["PUBSUB", "SHARDCHANNELS"]))
        .filter(|channels| !channels.is_empty())
        .collect();
    assert_eq!(
        holding,
        vec!["{rc}:bus".to_owned()],
        "the bus is one shard channel, hash-tagged"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn presence_is_cluster_wide_over_a_redis_cluster() {
    let cluster = RedisClusterSet::start(3);
    let nodes = nodes(&cluster, json!({}));
    let mut watcher = Client::connect(&nodes[2]).await;
    watcher
        .subscribe_presence("presence-room", r#"{"user_id":"watcher"}"#)
        .await;
    let mut alice = Client::connect(&nodes[0]).await;
    alice
        .subscribe_presence("presence-room", r#"{"user_id":"alice"}"#)
        .await;
    let added = watcher
        .next_event()
        .await
        .expect("member_added from another node");
    assert_eq!(added["event"], "pusher_internal:member_added");
    let app_b = nodes[1].hub().app_by_key(KEY).unwrap().clone();
    eventually("the third node sees both members", || {
        app_b.presence_members("presence-room").len() == 2
    })
    .await;
    alice.close().await;
    let removed = watcher
        .next_event()
        .await
        .expect("member_removed from another node");
    assert_eq!(removed["event"], "pusher_internal:member_removed");
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_webhooks_are_sent_once_over_a_redis_cluster() {
    use common::webhooks::{names_until_quiet, receiver};
    let cluster = RedisClusterSet::start(3);
    let (url, mut rx) = receiver(200).await;
    let nodes = nodes(&cluster, json!({ "channel_hook": url, "webhook_delay": 0.3 }));
    let leader_elected = || {
        cluster
            .nodes
            .iter()
            .any(|n| n.cli(&["-c", "EXISTS", "{rc}:leader"]) == "1")
    };
    eventually("a leader holds the lease", leader_elected).await;
    let mut clients = Vec::new();
    for n in &nodes {
        let mut c = Client::connect(n).await;
        c.subscribe("shared").await;
        clients.push(c);
    }
    assert_eq!(
        names_until_quiet(&mut rx, Duration::from_millis(1500)).await,
        vec!["channel_added"],
        "one channel_added for the whole cluster"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_bus_shard_fails_over_publishes_and_presence_still_cross_nodes() {
    let mut cluster = RedisClusterSet::with_replicas(3, 1);
    let nodes = nodes(&cluster, json!({ "cluster_node_timeout": 15 }));
    let mut watcher = Client::connect(&nodes[0]).await;
    watcher
        .subscribe_presence("presence-room", r#"{"user_id":"w"}"#)
        .await;
    let mut g = Client::connect(&nodes[1]).await;
    g.subscribe_presence("presence-room", r#"{"user_id":"g"}"#).await;
    assert_eq!(
        watcher.next_event().await.unwrap()["event"],
        "pusher_internal:member_added"
    );
    let mut on_b = Client::connect(&nodes[1]).await;
    on_b.subscribe("news").await;
    first_publish_through(&nodes[0], &mut on_b, "before").await;

    let owner = cluster
        .nodes
        .iter()
        .position(|n| !n.cli(&["PUBSUB", "SHARDCHANNELS"]).is_empty())
        .expect("a shard holds the bus");
    cluster.nodes[owner].kill();
    let survivor = (owner + 1) % cluster.nodes.len();
    let promoted = tokio::task::spawn_blocking(move || {
        redis_servers::wait_until("the bus's slot has a master again", || {
            cluster.nodes[survivor].cli(&["-c", "SET", "{rc}:probe", "1"]) == "OK"
        });
        cluster
    });
    let _cluster = promoted.await.unwrap();

    first_publish_through(&nodes[0], &mut on_b, "after").await;
    let _h = assert_h_joining_is_heard(&mut watcher, &nodes[1]).await;
}
