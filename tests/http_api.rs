//! How the HTTP API treats its connections (the requests themselves are tested with real SDKs in
//! tests/node): a connection that never finishes a request head is closed after
//! `REQUEST_HEAD_TIMEOUT` instead of being held forever, while everyone else is served.

mod common;

use common::{signed_target, start_server};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use webman_push::api_client::request;
use webman_push::server::REQUEST_HEAD_TIMEOUT;

#[tokio::test]
async fn a_connection_that_never_finishes_its_request_head_is_closed_after_the_timeout() {
    let server = start_server(serde_json::json!({}));
    let started = Instant::now();
    let mut stalled = TcpStream::connect(server.api_addr()).await.unwrap();
    stalled
        .write_all(b"POST /apps/1024/events HTTP/1.1\r\nHost: push\r\n")
        .await
        .unwrap();

    // Meanwhile a normal request is answered.
    let authority = server.api_addr().to_string();
    let answer = tokio::task::spawn_blocking(move || {
        let body = br#"{"name":"e","channel":"c","data":"{}"}"#;
        let target = signed_target("POST", "/apps/1024/events", body);
        request(&authority, "POST", &target, body, Duration::from_secs(5))
    })
    .await
    .unwrap()
    .expect("the API answers");
    assert_eq!(answer.status, 200);

    let mut rest = Vec::new();
    let read = tokio::time::timeout(
        REQUEST_HEAD_TIMEOUT + Duration::from_secs(5),
        stalled.read_to_end(&mut rest),
    )
    .await
    .expect("the stalled connection is closed by the server");
    let waited = started.elapsed();
    match read {
        Ok(_) => {} // end of stream
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    assert!(
        waited >= REQUEST_HEAD_TIMEOUT - Duration::from_secs(1),
        "closed after {waited:?}, before the {REQUEST_HEAD_TIMEOUT:?} timeout"
    );
}

/// hyper wakes its own task on every request body and yields on purpose after 16 pipelined
/// requests; both go through `InlineWake`. 100 requests written at once must all be answered, the
/// last one last, while another connection is served too.
#[tokio::test]
async fn a_hundred_pipelined_requests_are_all_answered_the_last_one_last() {
    let server = start_server(serde_json::json!({}));
    let mut pipelined = TcpStream::connect(server.api_addr()).await.unwrap();
    let mut burst = Vec::new();
    for n in 0..100 {
        let body = format!(r#"{{"name":"e","channel":"pipelined-{n}","data":"{{}}"}}"#);
        let target = signed_target("POST", "/apps/1024/events", body.as_bytes());
        burst.extend_from_slice(
            format!(
                "POST {target} HTTP/1.1\r\nHost: push\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    }
    // The last one is a GET whose answer names a channel, to tell where the answers end.
    let target = signed_target("GET", "/apps/1024/channels", b"");
    burst.extend_from_slice(
        format!("GET {target} HTTP/1.1\r\nHost: push\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    pipelined.write_all(&burst).await.unwrap();

    let authority = server.api_addr().to_string();
    let other = tokio::task::spawn_blocking(move || {
        let body = br#"{"name":"e","channel":"c","data":"{}"}"#;
        let target = signed_target("POST", "/apps/1024/events", body);
        request(&authority, "POST", &target, body, Duration::from_secs(5))
    });

    let mut answers = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), pipelined.read_to_end(&mut answers))
        .await
        .expect("all pipelined answers within 10 s")
        .unwrap();
    let answers = String::from_utf8_lossy(&answers);
    assert_eq!(answers.matches("HTTP/1.1 200 OK").count(), 101, "{answers}");
    assert!(answers.trim_end().ends_with(r#"{"channels":{}}"#), "{answers}");
    assert_eq!(
        other
            .await
            .unwrap()
            .expect("the other connection is answered")
            .status,
        200
    );
}
