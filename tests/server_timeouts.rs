//! Stopping and the server's own timeouts, each set through its config key (`close_timeout`,
//! `stop_timeout`, `webhook_timeout`) so these tests wait fractions of a second instead of the
//! production defaults. Real server, raw WebSocket clients that misbehave on purpose.

mod common;
mod raw_ws;

use common::{start_server, KEY};
use raw_ws::RawWs;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use webman_push::server::PushServer;

/// Stops `server` on a plain thread (stop blocks) and returns how long it took.
async fn stop_timed(server: PushServer) -> Duration {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        server.stop();
        started.elapsed()
    })
    .await
    .expect("stop does not panic")
}

#[tokio::test]
async fn stopping_waits_only_close_timeout_for_a_client_that_never_answers_the_close_frame() {
    let server = start_server(json!({ "close_timeout": 0.1, "stop_timeout": 10 }));
    let mut silent = RawWs::open(server.websocket_addr(), KEY).await;
    let took = stop_timed(server).await;
    assert_eq!(silent.close_code().await, 4200);
    // Default close_timeout (1 s): stop would wait that long for the silent client's answer.
    assert!(took < Duration::from_millis(700), "stop took {took:?}");
}

#[tokio::test]
async fn stopping_gives_up_on_a_silent_client_at_stop_timeout() {
    let server = start_server(json!({ "close_timeout": 30, "stop_timeout": 0.2 }));
    let mut silent = RawWs::open(server.websocket_addr(), KEY).await;
    let took = stop_timed(server).await;
    // Default stop_timeout (1.5 s): stop would take at least 0.75 s with this client.
    assert!(took < Duration::from_millis(600), "stop took {took:?}");
    assert_eq!(
        silent.close_code().await,
        4200,
        "the client got its close frame before the end"
    );
}

#[tokio::test]
async fn a_webhook_receiver_that_never_answers_is_retried_after_webhook_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    // The first connection is read and never answered; later ones get 200.
    let receiver = tokio::spawn(async move {
        let (mut hanging, _) = listener.accept().await.unwrap();
        tokio::spawn(async move {
            let mut sink = [0u8; 4096];
            while matches!(hanging.read(&mut sink).await, Ok(n) if n > 0) {}
        });
        common::webhooks::receiver_on(listener, 200)
    });
    let server = start_server(json!({
        "channel_hook": url, "webhook_timeout": 0.2, "webhook_retry_interval": 0.05,
    }));
    let mut client = common::Client::connect(&server).await;
    client.subscribe("news").await;
    let mut received = receiver.await.unwrap();
    // Default webhook_timeout (10 s): the first attempt would still be waiting.
    let got = common::webhooks::next(&mut received, Duration::from_secs(3)).await;
    assert!(got.is_some(), "the webhook was delivered on a second attempt");
}
