//! Webhooks, end to end: a real server, real WebSocket clients and a real HTTP receiver on loopback.

mod common;

use common::webhooks::{next, nobody_listening_port, receiver, receiver_on, refresh};
use common::{start_server, Client, KEY, SECRET};
use serde_json::json;
use std::time::Duration;
use tokio::net::TcpListener;
use webman_push::protocol::signature::verify_hmac_sha256_hex;

#[tokio::test]
async fn channel_added_is_sent_promptly_and_signed() {
    let (url, mut rx) = receiver(200).await;
    let server = start_server(json!({ "channel_hook": url }));
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    let got = next(&mut rx, Duration::from_secs(2)).await.expect("a webhook");
    assert_eq!(got.key, KEY);
    assert!(
        verify_hmac_sha256_hex(SECRET, &got.body, &got.signature),
        "signature covers the body"
    );
    let body = got.json();
    assert_eq!(
        body["events"],
        json!([{"name": "channel_added", "channel": "news"}])
    );
    assert!(
        body["time_ms"].as_u64().unwrap() > 1_000_000_000_000,
        "time_ms is in milliseconds"
    );
}

#[tokio::test]
async fn channel_removed_waits_for_the_grace_period() {
    let (url, mut rx) = receiver(200).await;
    let server = start_server(json!({ "channel_hook": url, "webhook_delay": 1.0 }));
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    next(&mut rx, Duration::from_secs(2))
        .await
        .expect("channel_added");
    client.close().await;
    assert!(
        next(&mut rx, Duration::from_millis(500)).await.is_none(),
        "not before the grace period"
    );
    let got = next(&mut rx, Duration::from_secs(3))
        .await
        .expect("channel_removed after the grace period");
    assert_eq!(
        got.json()["events"],
        json!([{"name": "channel_removed", "channel": "news"}])
    );
}

#[tokio::test]
async fn a_refresh_within_the_grace_period_sends_nothing() {
    let (url, mut rx) = receiver(200).await;
    let server = start_server(json!({ "channel_hook": url, "webhook_delay": 1.0 }));
    let _again = refresh(&server, &mut rx, "news").await;
    assert!(
        next(&mut rx, Duration::from_secs(2)).await.is_none(),
        "no removed, no added"
    );
}

#[tokio::test]
async fn members_are_reported_with_pusher_names_once_per_user() {
    let (url, mut rx) = receiver(200).await;
    let server =
        start_server(json!({ "channel_hook": url, "webhook_names": "pusher", "webhook_delay": 0.2 }));
    let mut a = Client::connect(&server).await;
    let mut a2 = Client::connect(&server).await;
    a.subscribe_presence("presence-room", r#"{"user_id":"alice"}"#)
        .await;
    let got = next(&mut rx, Duration::from_secs(2))
        .await
        .expect("occupied and member_added");
    assert_eq!(
        got.json()["events"],
        json!([{"name":"channel_occupied","channel":"presence-room"},
               {"name":"member_added","channel":"presence-room","user_id":"alice"}])
    );
    a2.subscribe_presence("presence-room", r#"{"user_id":"alice"}"#)
        .await;
    a.close().await;
    assert!(
        next(&mut rx, Duration::from_millis(800)).await.is_none(),
        "alice is still there on her second socket"
    );
    a2.close().await;
    let mut names = Vec::new();
    while let Some(got) = next(&mut rx, Duration::from_secs(2)).await {
        names.extend(got.names());
        if names.len() >= 2 {
            break;
        }
    }
    assert_eq!(names, vec!["member_removed", "channel_vacated"]);
}

#[tokio::test]
async fn webman_names_send_members_only_to_the_user_hook() {
    let (channel_url, mut channels) = receiver(200).await;
    let (user_url, mut users) = receiver(200).await;
    let server = start_server(json!({ "channel_hook": channel_url, "user_hook": user_url }));
    let mut a = Client::connect(&server).await;
    a.subscribe_presence("presence-room", r#"{"user_id":7,"user_info":{"name":"Tom"}}"#)
        .await;
    let got = next(&mut users, Duration::from_secs(2))
        .await
        .expect("user_added");
    assert_eq!(
        got.json()["events"],
        json!([{"name":"user_added","channel":"presence-room","user_id":"7"}])
    );
    let got = next(&mut channels, Duration::from_secs(2))
        .await
        .expect("channel_added");
    assert_eq!(got.names(), vec!["channel_added"]);
}

#[tokio::test]
async fn client_events_are_reported_when_enabled() {
    let (url, mut rx) = receiver(200).await;
    let server = start_server(
        json!({ "channel_hook": url, "webhook_client_events": true, "webhook_names": "pusher" }),
    );
    let mut a = Client::connect(&server).await;
    a.subscribe_presence("presence-chat", r#"{"user_id":"a"}"#).await;
    next(&mut rx, Duration::from_secs(2))
        .await
        .expect("occupied + member_added");
    a.send(json!({"event":"client-typing","channel":"presence-chat","data":{"on":true}}))
        .await;
    let got = next(&mut rx, Duration::from_secs(2)).await.expect("client_event");
    assert_eq!(
        got.json()["events"],
        json!([{"name":"client_event","channel":"presence-chat","event":"client-typing",
                "data":"{\"on\":true}","socket_id":a.socket_id,"user_id":"a"}])
    );
}

#[tokio::test]
async fn a_receiver_that_comes_back_gets_the_events_after_a_retry() {
    // Reserve a port, then free it: the receiver is "down" until it binds again.
    let port = nobody_listening_port().await;
    let server = start_server(json!({ "channel_hook": format!("http://127.0.0.1:{port}/hook") }));
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.webhook_backlog().queued, 1, "waiting for the receiver");
    let mut rx = receiver_on(TcpListener::bind(("127.0.0.1", port)).await.unwrap(), 200);
    let got = next(&mut rx, Duration::from_secs(5))
        .await
        .expect("delivered on retry");
    assert_eq!(got.names(), vec!["channel_added"]);
}

#[tokio::test]
async fn a_receiver_down_for_good_keeps_memory_bounded_and_the_server_serving() {
    let port = nobody_listening_port().await;
    let server = start_server(json!({
        "channel_hook": format!("http://127.0.0.1:{port}/hook"), "webhook_queue": 3, "webhook_delay": 0
    }));
    let mut client = Client::connect(&server).await;
    for i in 0..20 {
        client.subscribe(&format!("c{i}")).await;
        // Separate requests: each subscription is its own batch.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let backlog = server.webhook_backlog();
    assert!(backlog.queued <= 3, "queue is bounded: {backlog:?}");
    assert!(backlog.dropped >= 10, "oldest requests dropped: {backlog:?}");
    let answer = client.subscribe("still-serving").await;
    assert_eq!(answer["event"], "pusher_internal:subscription_succeeded");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_not_forgotten() {
    let (url, mut rx) = receiver(500).await;
    let server = start_server(json!({ "channel_hook": url }));
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    let first = next(&mut rx, Duration::from_secs(2))
        .await
        .expect("first attempt");
    let second = next(&mut rx, Duration::from_secs(3))
        .await
        .expect("a retry after a 500");
    assert_eq!(first.body, second.body, "the same request is retried");
}

#[tokio::test]
async fn subscription_counts_are_reported_when_the_app_counts_subscriptions() {
    let (url, mut rx) = receiver(200).await;
    let server =
        start_server(json!({ "channel_hook": url, "webhook_names": "pusher", "subscription_count": true }));
    let mut a = Client::connect(&server).await;
    a.subscribe("room").await;
    let mut b = Client::connect(&server).await;
    b.subscribe("room").await;
    let mut events = Vec::new();
    while let Some(got) = next(&mut rx, Duration::from_millis(800)).await {
        events.extend(got.json()["events"].as_array().unwrap().clone());
    }
    let counts: Vec<u64> = events
        .iter()
        .filter(|e| e["name"] == "subscription_count")
        .map(|e| e["subscription_count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, vec![1, 2]);
}

#[tokio::test]
async fn header_names_are_title_cased_on_the_wire() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let server = start_server(json!({ "channel_hook": url }));
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(2), listener.accept())
        .await
        .expect("a webhook connection")
        .unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf))
            .await
            .expect("the request head")
            .unwrap();
        assert!(n > 0, "connection closed before the head ended");
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    for name in ["X-Pusher-Key: ", "X-Pusher-Signature: ", "Content-Type: "] {
        assert!(
            head.lines().any(|l| l.starts_with(name)),
            "{name:?} in Pusher's casing: {head}"
        );
    }
    let _ = socket
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        .await;
}

#[tokio::test]
async fn a_receiver_that_comes_back_gets_the_backlog_and_new_events_at_once() {
    let port = nobody_listening_port().await;
    let server = start_server(json!({
        "channel_hook": format!("http://127.0.0.1:{port}/hook"), "webhook_retry_interval": 0.2
    }));
    let mut client = Client::connect(&server).await;
    client.subscribe("during-outage").await;
    // Long enough for a doubling back-off (1, 2, 4 s) to be waiting far beyond the retry interval.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let mut rx = receiver_on(TcpListener::bind(("127.0.0.1", port)).await.unwrap(), 200);
    client.subscribe("after-recovery").await;
    let mut channels = Vec::new();
    while channels.len() < 2 {
        let got = next(&mut rx, Duration::from_millis(1500))
            .await
            .expect("backlog and new event within a retry interval of the recovery");
        for event in got.json()["events"].as_array().unwrap() {
            channels.push(event["channel"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(channels, ["during-outage", "after-recovery"], "in order");
    assert!(
        next(&mut rx, Duration::from_millis(500)).await.is_none(),
        "nothing is sent twice"
    );
}
