//! Helpers for the scale-out tests: several nodes sharing one Redis (plain, Sentinel, Cluster)
//! are eventually consistent, so these publish on one node and poll, within a bound, until the
//! others have caught up.

use super::{Client, KEY};
use std::time::Duration;
use webman_push::hub::Publish;
use webman_push::protocol::ChannelName;
use webman_push::server::PushServer;

/// Publishes a "news" event with `data` on `channel` straight into `server`'s hub, as the
/// HTTP API would.
pub fn publish(server: &PushServer, channel: &str, data: &str) {
    let app = server.hub().app_by_key(KEY).unwrap().clone();
    app.publish(&Publish {
        channel: ChannelName::parse(channel, 200).unwrap(),
        event: "news".into(),
        data: data.into(),
        except: None,
        user_id: None,
        from_client: false,
    });
}

/// Waits until `check` holds, at most 10 s.
pub async fn eventually(what: &str, check: impl Fn() -> bool) {
    eventually_within(what, Duration::from_secs(10), check).await
}

/// Polls `check` every 20 ms until it holds, for at most `limit`.
pub async fn eventually_within(what: &str, limit: Duration, check: impl Fn() -> bool) {
    for _ in 0..limit.as_millis() / 20 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never happened: {what}");
}

/// A client on `on` subscribed to `channel`, returned once `known_on` counts it (and nothing
/// else) among the channel's subscribers.
pub async fn subscriber_known_on(on: &PushServer, known_on: &PushServer, channel: &str) -> Client {
    let mut client = Client::connect(on).await;
    client.subscribe(channel).await;
    let app = known_on.hub().app_by_key(KEY).unwrap().clone();
    eventually("the subscriber is known on the other node", || {
        app.subscription_count(channel) == 1
    })
    .await;
    client
}

/// A "news" subscriber on every node; once the first node counts them all, two publishes on
/// the second reach each subscriber once, in order.
pub async fn assert_publishes_reach_every_node_once(nodes: &[PushServer]) {
    let mut clients = Vec::new();
    for n in nodes {
        let mut c = Client::connect(n).await;
        c.subscribe("news").await;
        clients.push(c);
    }
    let app = nodes[0].hub().app_by_key(KEY).unwrap().clone();
    eventually("every subscription is known cluster-wide", || {
        app.subscription_count("news") == nodes.len()
    })
    .await;
    publish(&nodes[1], "news", "\"one\"");
    publish(&nodes[1], "news", "\"two\"");
    for c in &mut clients {
        assert_eq!(c.next_event().await.unwrap()["data"], "\"one\"");
        assert_eq!(c.next_event().await.unwrap()["data"], "\"two\"", "in order, once");
    }
}

/// Publishes `tag`ged probes on `from` until `to` hears one (the nodes reconnect on their own
/// schedule after Redis failed over), at most 20 s; probes of earlier calls still arriving
/// are skipped.
pub async fn first_publish_through(from: &PushServer, to: &mut Client, tag: &str) {
    for i in 0..100 {
        publish(from, "news", &format!("\"{tag} {i}\""));
        let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
        while let Ok(Some(got)) = tokio::time::timeout_at(deadline, to.next_event()).await {
            if got["data"]
                .as_str()
                .unwrap_or_default()
                .starts_with(&format!("\"{tag} "))
            {
                return;
            }
        }
    }
    panic!("no {tag} publish on the first node reached the second");
}

/// User "h" joins "presence-room" on `on`; `watcher` (subscribed there before) must hear it as
/// the next event, so no member that was there before was removed in between. The new member's
/// client is returned, to stay in the room.
pub async fn assert_h_joining_is_heard(watcher: &mut Client, on: &PushServer) -> Client {
    let mut h = Client::connect(on).await;
    h.subscribe_presence("presence-room", r#"{"user_id":"h"}"#).await;
    let added = watcher.next_event().await.expect("the watcher hears h join");
    assert_eq!(
        added["event"], "pusher_internal:member_added",
        "g never left: {added}"
    );
    assert!(added["data"].as_str().unwrap().contains("\"h\""), "{added}");
    h
}
