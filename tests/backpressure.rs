//! What the server does when a subscriber reads more slowly than events arrive: it queues (up to
//! `max_send_queue` bytes per connection), delivers everything in order once the client reads, and
//! closes a client that falls too far behind with 4100 while everyone else keeps receiving.

mod common;

use common::{signed_target, start_server, Client};
use std::time::Duration;
use tokio::net::TcpSocket;
use webman_push::api_client::request;
use webman_push::server::PushServer;

/// A subscriber whose kernel receive buffer is tiny, so the server's socket fills after a few KB.
async fn slow_subscriber(server: &PushServer, channel: &str) -> Client {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.websocket_addr()).await.unwrap();
    let mut client = Client::connect_over(server, tcp).await;
    client.subscribe(channel).await;
    client
}

/// Publishes `count` events of about `size` bytes through the signed HTTP API, numbered from 0.
async fn publish_many(server: &PushServer, channel: &str, count: usize, size: usize) {
    let authority = server.api_addr().to_string();
    let channel = channel.to_owned();
    tokio::task::spawn_blocking(move || {
        for n in 0..count {
            let data = format!("{n}:{}", "x".repeat(size));
            let body = serde_json::json!({"name": "bulk", "channel": channel, "data": data}).to_string();
            let target = signed_target("POST", "/apps/1024/events", body.as_bytes());
            let answer = request(
                &authority,
                "POST",
                &target,
                body.as_bytes(),
                Duration::from_secs(5),
            )
            .expect("the API answers");
            assert_eq!(answer.status, 200);
        }
    })
    .await
    .unwrap();
}

fn sequence_number(event: &serde_json::Value) -> usize {
    let data = event["data"].as_str().expect("string data");
    data.split(':').next().unwrap().parse().expect("numbered data")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_reads_late_receives_every_event_in_order() {
    let server = start_server(serde_json::json!({"max_send_queue": 16 << 20}));
    let mut late = slow_subscriber(&server, "bulk").await;
    // 8 MB: more than the kernel's socket buffers hold (at most 4 MiB on Linux by default), so
    // the server's writes hit EAGAIN and the rest waits in the connection's send queue.
    publish_many(&server, "bulk", 160, 50_000).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for expected in 0..160 {
        let event = late.next_event().await.expect("every event arrives");
        assert_eq!(sequence_number(&event), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_falls_behind_its_send_queue_is_closed_with_4100_and_others_keep_receiving() {
    let server = start_server(serde_json::json!({}));
    let mut stuck = slow_subscriber(&server, "bulk").await;
    let mut reader = Client::connect(&server).await;
    reader.subscribe("bulk").await;
    let count = 200;
    let read_all = tokio::spawn(async move {
        let mut seen = Vec::new();
        while seen.len() < count {
            match reader.next_event().await {
                Some(event) => seen.push(sequence_number(&event)),
                None => break,
            }
        }
        seen
    });
    // 10 MB for a subscriber who reads nothing: past the kernel's buffers (at most 4 MiB) and its
    // 1 MiB send queue.
    publish_many(&server, "bulk", count, 50_000).await;
    assert_eq!(read_all.await.unwrap(), (0..count).collect::<Vec<_>>());
    assert_eq!(stuck.close_code().await, Some(4100));
}
