//! Webhook state is bounded in bytes (`webhook_max_pending_bytes`): a real server, real WebSocket
//! clients churning long-named channels, and real HTTP receivers that are dead, slow or healthy.

mod common;

use axum::routing::post;
use common::webhooks::{next, receiver, receiver_on, refresh, Received};
use common::{start_server, Client};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use webman_push::server::PushServer;

const BOUND: usize = 64 * 1024;

/// A valid channel name of 200 characters, unique per round and index.
fn long_name(round: usize, i: usize) -> String {
    format!("{:x>180}-{round:04}-{i:08}", "")
}

/// Asserts the accounted webhook bytes are within `bound` right now.
fn assert_within(server: &PushServer, bound: usize) {
    let backlog = server.webhook_backlog();
    assert!(
        backlog.pending_bytes <= bound,
        "webhook state {} bytes over the bound {bound}: {backlog:?}",
        backlog.pending_bytes
    );
}

/// `rounds` times: one connection subscribes `channels` long-named channels, then drops. The
/// accounted bytes are checked against `bound` every 50 subscriptions. The servers churned here
/// turn `subscription_rate` off: it would stop one connection's churn long before the byte bound
/// is reached, and the bound must hold against many connections churning within their rate too.
async fn churn(server: &PushServer, bound: usize, rounds: usize, channels: usize) {
    for round in 0..rounds {
        let mut client = Client::connect(server).await;
        for i in 0..channels {
            let channel = long_name(round, i);
            client
                .send(json!({"event":"pusher:subscribe","data":{"channel":channel}}))
                .await;
            if i % 50 == 0 {
                assert_within(server, bound);
            }
        }
        for _ in 0..channels {
            let answer = client.next_event().await.expect("subscription answer");
            assert_eq!(answer["event"], "pusher_internal:subscription_succeeded");
        }
        assert_within(server, bound);
        client.close().await;
    }
}

/// A loopback port nothing listens on yet.
async fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A receiver that takes `delay` to answer each request with 200.
async fn slow_receiver(delay: Duration) -> (String, mpsc::UnboundedReceiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let tx = tx.clone();
            async move {
                tokio::time::sleep(delay).await;
                let _ = tx.send(serde_json::from_str(&body).unwrap_or(Value::Null));
                axum::http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// Waits (at most `within`) until no webhook state is held.
async fn wait_drained(server: &PushServer, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while server.webhook_backlog().pending_bytes > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "webhook state never drained: {:?}",
            server.webhook_backlog()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn channels_of(got: &Received) -> Vec<String> {
    got.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["channel"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn churning_channels_with_a_dead_receiver_stays_within_the_byte_bound_and_recovers() {
    let port = dead_port().await;
    let server = start_server(json!({
        "channel_hook": format!("http://127.0.0.1:{port}/hook"), "webhook_delay": 0.3,
        "webhook_max_pending_bytes": BOUND, "webhook_retry_interval": 0.1, "subscription_rate": 0,
    }));
    churn(&server, BOUND, 4, 500).await;
    // The departures come out of the grace period against a full budget.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_within(&server, BOUND);
    let backlog = server.webhook_backlog();
    assert!(backlog.dropped_events > 1000, "drops are counted: {backlog:?}");

    let mut rx = receiver_on(TcpListener::bind(("127.0.0.1", port)).await.unwrap(), 200);
    wait_drained(&server, Duration::from_secs(5)).await;
    let mut client = Client::connect(&server).await;
    client.subscribe("after-recovery").await;
    loop {
        let got = next(&mut rx, Duration::from_secs(2))
            .await
            .expect("new events flow once the receiver is back");
        if channels_of(&got).iter().any(|c| c == "after-recovery") {
            break;
        }
    }
}

#[tokio::test]
async fn churning_channels_with_a_slow_receiver_stays_within_the_byte_bound() {
    let (url, mut rx) = slow_receiver(Duration::from_millis(50)).await;
    let server = start_server(json!({
        "channel_hook": url, "webhook_delay": 0.3, "webhook_max_pending_bytes": BOUND,
        "subscription_rate": 0,
    }));
    churn(&server, BOUND, 4, 500).await;
    assert!(
        server.webhook_backlog().dropped_events > 0,
        "the slow receiver could not keep up: {:?}",
        server.webhook_backlog()
    );
    wait_drained(&server, Duration::from_secs(8)).await;
    assert!(rx.recv().await.is_some(), "the receiver got requests");
}

#[tokio::test]
async fn events_under_the_bound_are_all_delivered_and_their_bytes_released() {
    let (url, mut rx) = receiver(200).await;
    let bound = 1024 * 1024;
    let server = start_server(json!({
        "channel_hook": url, "webhook_delay": 0.2, "webhook_max_pending_bytes": bound,
        "subscription_rate": 0,
    }));
    churn(&server, bound, 1, 300).await;
    let mut added = 0;
    let mut removed = 0;
    while added + removed < 600 {
        let got = next(&mut rx, Duration::from_secs(3))
            .await
            .unwrap_or_else(|| panic!("only {added} added and {removed} removed arrived"));
        for name in got.names() {
            match name.as_str() {
                "channel_added" => added += 1,
                "channel_removed" => removed += 1,
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!((added, removed), (300, 300));
    wait_drained(&server, Duration::from_secs(2)).await;
    assert_eq!(server.webhook_backlog().dropped_events, 0);
}

#[tokio::test]
async fn a_refresh_within_the_grace_period_releases_its_bytes() {
    let (url, mut rx) = receiver(200).await;
    let server = start_server(json!({ "channel_hook": url, "webhook_delay": 0.3 }));
    let _again = refresh(&server, &mut rx, "news").await;
    // Past the grace period, the cancelled departure's bookkeeping is gone too.
    tokio::time::sleep(Duration::from_millis(400)).await;
    wait_drained(&server, Duration::from_secs(2)).await;
    assert!(
        next(&mut rx, Duration::from_millis(200)).await.is_none(),
        "a refresh is not news"
    );
}
