//! What an HTTP API client can make the server hold before its signature is checked: a body that
//! trickles is answered 408 after `api_body_timeout`, a Content-Length over `max_request_body` is
//! answered 413 from the head alone, unfinished bodies are capped per client address and in
//! total, and bodies whose framing is not HTTP are answered 400; meanwhile a signed publish is
//! served as usual. Every request here is written as raw bytes.

mod common;

use common::{publish_head, signed_target, start_server};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A valid publish body of exactly `len` bytes (the event data pads it).
fn publish_body(len: usize) -> Vec<u8> {
    let empty = br#"{"name":"e","channel":"c","data":""}"#.len();
    format!(
        r#"{{"name":"e","channel":"c","data":"{}"}}"#,
        "x".repeat(len - empty)
    )
    .into_bytes()
}

/// Sends `bytes` on a new connection.
async fn send(server: &webman_push::server::PushServer, bytes: &[u8]) -> TcpStream {
    let mut conn = TcpStream::connect(server.api_addr()).await.unwrap();
    conn.write_all(bytes).await.unwrap();
    conn
}

/// The first answer on `conn` (its status line and what followed in the same read), within `within`.
async fn answer(conn: &mut TcpStream, within: Duration) -> String {
    let mut buf = vec![0u8; 8192];
    let n = tokio::time::timeout(within, conn.read(&mut buf))
        .await
        .expect("an answer in time")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// A whole signed publish on a new connection; its status line.
async fn signed_publish(server: &webman_push::server::PushServer) -> String {
    let body = publish_body(100);
    let mut conn = send(server, &[publish_head(&body).into_bytes(), body].concat()).await;
    let answer = answer(&mut conn, Duration::from_secs(5)).await;
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_body_still_trickling_after_api_body_timeout_is_answered_408() {
    let server = start_server(serde_json::json!({ "api_body_timeout": 0.5 }));
    let body = publish_body(1000);
    let mut conn = send(&server, &[publish_head(&body).as_bytes(), &body[..10]].concat()).await;
    let started = Instant::now();
    let mut answered = String::new();
    for byte in &body[10..] {
        // One byte every 50 ms: never idle, never done within the deadline.
        tokio::time::sleep(Duration::from_millis(50)).await;
        if conn.write_all(std::slice::from_ref(byte)).await.is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        if let Ok(Ok(n @ 1..)) = tokio::time::timeout(Duration::from_millis(1), conn.read(&mut buf)).await {
            answered = String::from_utf8_lossy(&buf[..n]).into_owned();
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "no answer within 5 s");
    }
    assert!(answered.starts_with("HTTP/1.1 408"), "{answered}");
    assert!(
        answered.contains(r#"{"error":"Request body not received within"#),
        "{answered}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    assert!(signed_publish(&server).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_content_length_over_max_request_body_is_answered_413_from_the_head() {
    let server = start_server(serde_json::json!({}));
    let target = signed_target("POST", "/apps/1024/events", b"");
    let head = format!("POST {target} HTTP/1.1\r\nHost: push\r\nContent-Length: 10000000000\r\n\r\n");
    let mut conn = send(&server, &[head.into_bytes(), vec![b'x'; 1024]].concat()).await;
    let answered = answer(&mut conn, Duration::from_secs(1)).await;
    assert!(answered.starts_with("HTTP/1.1 413"), "{answered}");
    assert!(
        answered.contains(r#"{"error":"Request body is larger than 1048576 bytes"}"#),
        "{answered}"
    );
}

#[tokio::test]
async fn the_per_address_cap_refuses_another_body_while_parked_ones_hold_it_and_not_after_they_drop() {
    let server = start_server(serde_json::json!({
        "api_pending_body_per_ip": 100_000, "api_pending_body_total": 1_000_000,
    }));
    let body = publish_body(60_000);
    let parked_head = [publish_head(&body).as_bytes(), &body[..100]].concat();
    let parked = send(&server, &parked_head).await;
    tokio::time::sleep(Duration::from_millis(100)).await; // the server parks it

    let mut refused = send(&server, &parked_head).await;
    let answered = answer(&mut refused, Duration::from_secs(2)).await;
    assert!(answered.starts_with("HTTP/1.1 429"), "{answered}");
    assert!(
        answered.contains("Too many unfinished request bodies from this address"),
        "{answered}"
    );
    assert!(
        signed_publish(&server).await.starts_with("HTTP/1.1 200"),
        "whole bodies are not parked"
    );

    drop(parked);
    tokio::time::sleep(Duration::from_millis(100)).await; // the server sees the close
    let mut accepted = send(&server, &parked_head).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    accepted.write_all(&body[100..]).await.unwrap();
    let answered = answer(&mut accepted, Duration::from_secs(2)).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

#[tokio::test]
async fn the_total_cap_refuses_a_body_from_any_address_while_parked_ones_hold_it() {
    let server = start_server(serde_json::json!({
        "api_pending_body_per_ip": 100_000, "api_pending_body_total": 100_000,
    }));
    let body = publish_body(60_000);
    let parked_head = [publish_head(&body).as_bytes(), &body[..100]].concat();
    let _parked = send(&server, &parked_head).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // 127.0.0.2 is another address on the same loopback interface.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = socket.connect(server.api_addr()).await.unwrap();
    other.write_all(&parked_head).await.unwrap();
    let answered = answer(&mut other, Duration::from_secs(2)).await;
    assert!(answered.starts_with("HTTP/1.1 503"), "{answered}");
    assert!(
        answered.contains(r#"{"error":"Too many unfinished request bodies, retry later"}"#),
        "{answered}"
    );
}

#[tokio::test]
async fn a_malformed_chunk_size_is_answered_400() {
    let server = start_server(serde_json::json!({}));
    let target = signed_target("POST", "/apps/1024/events", b"");
    let request = format!(
        "POST {target} HTTP/1.1\r\nHost: push\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
    );
    let mut conn = send(&server, request.as_bytes()).await;
    let answered = answer(&mut conn, Duration::from_secs(2)).await;
    assert!(answered.starts_with("HTTP/1.1 400"), "{answered}");
    assert!(
        answered.contains(r#"{"error":"Request body is malformed"#),
        "{answered}"
    );
}

/// The smuggling shape: a Content-Length that covers a second request, a chunked body that ends
/// before it. hyper frames the body by its chunks alone (RFC 9112 §6.3) and drops the
/// Content-Length before the API sees the request, then closes the connection after the answer:
/// the request is answered once (here 400, its empty body is no JSON) and nothing after it is
/// read as a request.
#[tokio::test]
async fn content_length_with_transfer_encoding_is_framed_by_chunks_and_nothing_after_it_is_served() {
    let server = start_server(serde_json::json!({}));
    let smuggled = format!(
        "GET {} HTTP/1.1\r\nHost: push\r\n\r\n",
        signed_target("GET", "/apps/1024/channels", b"")
    );
    let body = format!("0\r\n\r\n{smuggled}");
    let target = signed_target("POST", "/apps/1024/events", b"");
    let request = format!(
        "POST {target} HTTP/1.1\r\nHost: push\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{body}",
        body.len()
    );
    let mut conn = send(&server, request.as_bytes()).await;
    let mut answers = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answers))
        .await
        .expect("the server closes the connection")
        .unwrap();
    let answers = String::from_utf8_lossy(&answers);
    assert!(answers.starts_with("HTTP/1.1 400"), "{answers}");
    assert_eq!(answers.matches("HTTP/1.1 ").count(), 1, "{answers}");
}
