//! Scale-out through Redis Sentinel: the nodes find the master through the sentinels, and when
//! the master dies and a replica is promoted they follow it, with messages and presence intact.

mod common;
mod redis_servers;

use common::cluster::{assert_h_joining_is_heard, eventually_within, first_publish_through};
use common::{start_server, Client, KEY};
use redis_servers::{cli, wait_until, RedisProcess, Scratch};
use serde_json::{json, Value};
use std::time::Duration;

/// One master, one replica and three sentinels that agree on both.
struct SentinelSetup {
    master: RedisProcess,
    replica: RedisProcess,
    sentinels: Vec<RedisProcess>,
    _dir: Scratch,
}

impl SentinelSetup {
    fn start() -> SentinelSetup {
        let dir = Scratch::new("sentinel");
        // Replication writes an RDB file even with saving off: into the scratch directory.
        let data = dir.path("");
        let master = RedisProcess::plain(&["--dir", &data]);
        let master_port = master.port.to_string();
        let replica = RedisProcess::plain(&["--replicaof", "127.0.0.1", &master_port, "--dir", &data]);
        wait_until("the replica is in sync", || {
            replica
                .cli(&["INFO", "replication"])
                .contains("master_link_status:up")
        });
        let sentinels: Vec<RedisProcess> = (0..3)
            .map(|_| RedisProcess::sentinel(&dir, master.port))
            .collect();
        // A failover needs the sentinels to know each other and the replica.
        for s in &sentinels {
            wait_until("each sentinel knows the others and the replica", || {
                let info = s.cli(&["SENTINEL", "MASTER", "mymaster"]);
                let field = |name: &str| {
                    let mut lines = info.lines();
                    lines
                        .find(|l| *l == name)
                        .and_then(|_| lines.next())
                        .map(str::to_owned)
                };
                field("num-other-sentinels").as_deref() == Some("2")
                    && field("num-slaves").as_deref() == Some("1")
            });
        }
        SentinelSetup {
            master,
            replica,
            sentinels,
            _dir: dir,
        }
    }

    fn config(&self) -> Value {
        let urls: Vec<String> = self.sentinels.iter().map(RedisProcess::url).collect();
        json!({
            "redis_sentinels": urls, "redis_master": "mymaster", "redis_prefix": "sentinel",
            // Longer than a failover, so nodes that only lost Redis for it are not taken as dead.
            "cluster_node_timeout": 15,
        })
    }

    /// The master's port as the first sentinel reports it.
    fn master_port(&self) -> String {
        cli(
            self.sentinels[0].port,
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
        )
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_owned()
    }
}

/// Kills the master and waits (off the runtime's threads) until the sentinels have promoted
/// the replica; the setup stays alive for the caller.
async fn fail_over(mut setup: SentinelSetup) -> SentinelSetup {
    setup.master.kill();
    let replica_port = setup.replica.port.to_string();
    let promoted = tokio::task::spawn_blocking(move || {
        wait_until("the sentinels promote the replica", || {
            setup.master_port() == replica_port
        });
        setup
    });
    promoted.await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_find_the_master_through_the_sentinels() {
    let setup = SentinelSetup::start();
    let a = start_server(setup.config());
    let b = start_server(setup.config());
    let mut on_b = Client::connect(&b).await;
    on_b.subscribe("news").await;
    first_publish_through(&a, &mut on_b, "probe").await;
    assert_eq!(
        setup.master.cli(&["EXISTS", "sentinel:leader"]),
        "1",
        "the lease is on the master"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_master_dies_and_a_replica_is_promoted_publishes_and_presence_still_cross_nodes() {
    let setup = SentinelSetup::start();
    let a = start_server(setup.config());
    let b = start_server(setup.config());
    let mut watcher = Client::connect(&a).await;
    watcher
        .subscribe_presence("presence-room", r#"{"user_id":"w"}"#)
        .await;
    let mut g = Client::connect(&b).await;
    g.subscribe_presence("presence-room", r#"{"user_id":"g"}"#).await;
    assert_eq!(
        watcher.next_event().await.unwrap()["event"],
        "pusher_internal:member_added"
    );
    let mut on_b = Client::connect(&b).await;
    on_b.subscribe("news").await;
    first_publish_through(&a, &mut on_b, "before").await;

    let _setup = fail_over(setup).await;

    first_publish_through(&a, &mut on_b, "after").await;
    let _h = assert_h_joining_is_heard(&mut watcher, &b).await;
    let app_a = a.hub().app_by_key(KEY).unwrap().clone();
    eventually_within("a sees w, g and h", Duration::from_secs(20), || {
        app_a.presence_members("presence-room").len() == 3
    })
    .await;
}

/// `(name, channel)` of every webhook event that arrives until none has for `quiet`.
async fn webhook_events(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<common::webhooks::Received>,
    quiet: Duration,
) -> Vec<(String, String)> {
    let mut events = Vec::new();
    while let Some(got) = common::webhooks::next(rx, quiet).await {
        for e in got.json()["events"].as_array().unwrap() {
            events.push((
                e["name"].as_str().unwrap().to_owned(),
                e["channel"].as_str().unwrap().to_owned(),
            ));
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_are_neither_lost_nor_doubled_across_a_sentinel_failover() {
    let setup = SentinelSetup::start();
    let (url, mut rx) = common::webhooks::receiver(200).await;
    let mut config = setup.config();
    config["channel_hook"] = json!(url);
    let a = start_server(config.clone());
    let b = start_server(config);
    let mut on_b = Client::connect(&b).await;
    on_b.subscribe("news").await;
    first_publish_through(&a, &mut on_b, "before").await;
    let added = |channel: &str| ("channel_added".to_owned(), channel.to_owned());
    assert_eq!(
        webhook_events(&mut rx, Duration::from_millis(1500)).await,
        vec![added("news")]
    );

    let _setup = fail_over(setup).await;
    first_publish_through(&a, &mut on_b, "after").await;
    let mut on_a = Client::connect(&a).await;
    on_a.subscribe("later").await;
    assert_eq!(
        webhook_events(&mut rx, Duration::from_millis(2500)).await,
        vec![added("later")],
        "the channel that joined after the failover once, the one before not again"
    );
}
