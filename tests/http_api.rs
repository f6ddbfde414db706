//! How the HTTP API treats its connections (the requests themselves are tested with real SDKs in
//! tests/node): a connection that never finishes a request head is closed after
//! `api_head_timeout` instead of being held forever, while everyone else is served; pipelined
//! requests; and a quick caller whose next request the server polls for (`api_busy_poll_us`) is
//! answered exactly as one it waits for in epoll.

mod common;

use common::{publish_head, signed_target, start_server};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use webman_push::api_client::request;

#[tokio::test]
async fn a_connection_that_never_finishes_its_request_head_is_closed_after_the_timeout() {
    const HEAD_TIMEOUT: Duration = Duration::from_secs(1);
    let server = start_server(serde_json::json!({ "api_head_timeout": HEAD_TIMEOUT.as_secs_f64() }));
    let started = Instant::now();
    let mut stalled = TcpStream::connect(server.api_addr()).await.unwrap();
    stalled
        .write_all(b"POST /apps/1024/events HTTP/1.1\r\nHost: push\r\n")
        .await
        .unwrap();

    // Meanwhile a normal request is answered.
    let authority = server.api_addr().to_string();
    let status = tokio::task::spawn_blocking(move || publish(&authority, "c", 0))
        .await
        .unwrap();
    assert_eq!(status, 200);

    let mut rest = Vec::new();
    let read = tokio::time::timeout(
        HEAD_TIMEOUT + Duration::from_secs(5),
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
        waited >= HEAD_TIMEOUT - Duration::from_millis(100),
        "closed after {waited:?}, before the {HEAD_TIMEOUT:?} timeout"
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
        burst.extend_from_slice(publish_head(body.as_bytes()).as_bytes());
        burst.extend_from_slice(body.as_bytes());
    }
    // The last one is a GET whose answer names a channel, to tell where the answers end.
    let target = signed_target("GET", "/apps/1024/channels", b"");
    burst.extend_from_slice(
        format!("GET {target} HTTP/1.1\r\nHost: push\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    pipelined.write_all(&burst).await.unwrap();

    let authority = server.api_addr().to_string();
    let other = tokio::task::spawn_blocking(move || publish(&authority, "c", 0));

    let mut answers = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), pipelined.read_to_end(&mut answers))
        .await
        .expect("all pipelined answers within 10 s")
        .unwrap();
    let answers = String::from_utf8_lossy(&answers);
    assert_eq!(answers.matches("HTTP/1.1 200 OK").count(), 101, "{answers}");
    assert!(answers.trim_end().ends_with(r#"{"channels":{}}"#), "{answers}");
    assert_eq!(other.await.unwrap(), 200, "the other connection is answered");
}

/// Publishes event `e` with data `n` to `channel` over the Api's pooled keep-alive connection.
fn publish(authority: &str, channel: &str, n: usize) -> u16 {
    let body = format!(r#"{{"name":"e","channel":"{channel}","data":"{n}"}}"#);
    let target = signed_target("POST", "/apps/1024/events", body.as_bytes());
    request(
        authority,
        "POST",
        &target,
        body.as_bytes(),
        Duration::from_secs(5),
    )
    .expect("the API answers")
    .status
}

/// A caller that sends its next request right after each answer (as `Api::trigger` in a loop) is
/// waited for by polling its socket (`api_busy_poll_us`): every request is still answered, the
/// events it publishes reach their subscriber in order, and another connection is served
/// meanwhile.
#[tokio::test]
async fn a_quick_caller_is_answered_every_time_and_its_events_arrive_in_order() {
    let server = start_server(serde_json::json!({}));
    let mut subscriber = common::Client::connect(&server).await;
    subscriber.subscribe("quick").await;

    let authority = server.api_addr().to_string();
    let quick = tokio::task::spawn_blocking(move || {
        (0..500)
            .map(|n| publish(&authority, "quick", n))
            .collect::<Vec<_>>()
    });
    let authority = server.api_addr().to_string();
    let other = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(5));
        publish(&authority, "other", 0)
    });

    for n in 0..500 {
        let event = tokio::time::timeout(Duration::from_secs(5), subscriber.next_event())
            .await
            .expect("each event arrives")
            .expect("the connection stays open");
        assert_eq!(event["event"], "e");
        assert_eq!(event["data"], n.to_string(), "{event}");
    }
    assert!(quick.await.unwrap().iter().all(|&status| status == 200));
    assert_eq!(other.await.unwrap(), 200);
}

/// A request whose body comes a while after its head, and a request after a pause longer than
/// the polling window, are both read through epoll as usual and answered.
#[tokio::test]
async fn requests_after_a_pause_or_split_by_one_are_answered() {
    let server = start_server(serde_json::json!({}));
    let mut conn = TcpStream::connect(server.api_addr()).await.unwrap();
    for pause_ms in [0u64, 20, 0, 20] {
        let body = br#"{"name":"e","channel":"c","data":"{}"}"#;
        conn.write_all(publish_head(body).as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        conn.write_all(body).await.unwrap();

        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut answer))
            .await
            .expect("answered")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("{}"), "one whole answer per request: {answer}");
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
    }
}

/// A caller that half-closes its side right after an answer gets the end of the stream, whether
/// the server is polling the socket for a next request (a quick caller) or waiting in epoll.
#[tokio::test]
async fn a_caller_that_half_closes_after_an_answer_gets_the_end_of_the_stream() {
    for busy_poll in [50, 0] {
        let server = start_server(serde_json::json!({ "api_busy_poll_us": busy_poll }));
        let addr = server.api_addr();
        let rest = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut conn = std::net::TcpStream::connect(addr).unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let body = br#"{"name":"e","channel":"c","data":"{}"}"#;
            for n in 0..10 {
                conn.write_all(&[publish_head(body).as_bytes(), body].concat())
                    .unwrap();
                let mut answer = [0u8; 4096];
                let len = conn.read(&mut answer).unwrap();
                let answer = String::from_utf8_lossy(&answer[..len]);
                assert!(
                    answer.starts_with("HTTP/1.1 200 OK"),
                    "busy poll {busy_poll}: {answer}"
                );
                if n == 0 {
                    // Past the time a new connection counts as taking turns with another.
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            conn.shutdown(std::net::Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            conn.read_to_end(&mut rest).map(|_| rest)
        })
        .await
        .unwrap()
        .expect("the server closes its side");
        assert!(rest.is_empty(), "nothing after the last answer: {rest:?}");
    }
}
