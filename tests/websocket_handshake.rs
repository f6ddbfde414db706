//! The WebSocket opening handshake over raw TCP (RFC 6455 §4.2): a good upgrade request gets
//! 101, every bad one an HTTP answer that names the problem (§4.2.2), then the server closes
//! the connection; a client that does not finish its request in `handshake_timeout` is dropped.

mod common;
mod raw_ws;

use common::{start_server, KEY};
use raw_ws::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use webman_push::server::PushServer;

fn server() -> PushServer {
    start_server(serde_json::json!({}))
}

/// A standard upgrade request for the test app with `edit` applied to its head.
fn request_with(edit: impl FnOnce(String) -> String) -> Vec<u8> {
    edit(upgrade_request(&format!("/app/{KEY}?protocol=7"))).into_bytes()
}

/// The answer to `request`, which must have `status` and name `message` in its body.
async fn refused(request: &[u8], status: u16, message: &str) -> String {
    let server = server();
    let answer = http_exchange(server.websocket_addr(), request).await;
    let status_line = answer.lines().next().unwrap_or_default();
    assert!(
        status_line.starts_with(&format!("HTTP/1.1 {status} ")),
        "{answer}"
    );
    assert!(answer.contains(message), "{answer}");
    answer
}

#[tokio::test]
async fn a_good_upgrade_gets_101_with_the_accept_key_of_rfc_6455() {
    let server = server();
    let answer = http_exchange_until_head(&server, &request_with(|r| r)).await;
    assert!(
        answer.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{answer}"
    );
    // Header names are case-insensitive.
    let accept = answer.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("sec-websocket-accept:")
            .map(|_| l[21..].trim().to_owned())
    });
    assert_eq!(
        accept.as_deref(),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{answer}"
    );
}

/// The head of the answer to `request` (the connection stays open after a 101).
async fn http_exchange_until_head(server: &PushServer, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.websocket_addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut chunk = [0u8; 512];
        let n = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut chunk))
            .await
            .expect("an answer within 3 s")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_missing_key_gets_400() {
    let request = request_with(|r| r.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""));
    refused(&request, 400, "Sec-WebSocket-Key").await;
}

#[tokio::test]
async fn two_keys_get_400() {
    let request = request_with(|r| {
        r.replace(
            "\r\n\r\n",
            "\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n",
        )
    });
    refused(&request, 400, "exactly one Sec-WebSocket-Key").await;
}

#[tokio::test]
async fn a_key_that_is_not_base64_gets_400() {
    let request = request_with(|r| r.replace("dGhlIHNhbXBsZSBub25jZQ==", "not*base64*at*all*here=="));
    refused(&request, 400, "base64 of 16 bytes").await;
}

#[tokio::test]
async fn a_key_of_15_bytes_gets_400() {
    let request = request_with(|r| r.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j"));
    refused(&request, 400, "base64 of 16 bytes").await;
}

#[tokio::test]
async fn an_8_kib_key_gets_400() {
    let request = request_with(|r| r.replace("dGhlIHNhbXBsZSBub25jZQ==", &"QUFB".repeat(2048)));
    refused(&request, 400, "base64 of 16 bytes").await;
}

#[tokio::test]
async fn version_8_gets_426_naming_version_13() {
    let request = request_with(|r| r.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"));
    let answer = refused(&request, 426, "version 13").await;
    assert!(answer.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{answer}");
}

#[tokio::test]
async fn a_missing_version_gets_426() {
    let request = request_with(|r| r.replace("Sec-WebSocket-Version: 13\r\n", ""));
    refused(&request, 426, "version 13").await;
}

#[tokio::test]
async fn a_request_without_upgrade_websocket_gets_400() {
    let request = request_with(|r| r.replace("Upgrade: websocket\r\n", ""));
    refused(&request, 400, "Upgrade: websocket").await;
}

#[tokio::test]
async fn a_request_without_connection_upgrade_gets_400() {
    let request = request_with(|r| r.replace("Connection: Upgrade", "Connection: keep-alive"));
    refused(&request, 400, "Connection: Upgrade").await;
}

#[tokio::test]
async fn a_post_gets_400() {
    let request = request_with(|r| r.replacen("GET", "POST", 1));
    refused(&request, 400, "GET").await;
}

#[tokio::test]
async fn http_1_0_gets_400() {
    let request = request_with(|r| r.replacen("HTTP/1.1", "HTTP/1.0", 1));
    refused(&request, 400, "HTTP/1.1").await;
}

#[tokio::test]
async fn a_path_without_app_key_gets_404() {
    let request = upgrade_request("/nothing/here").into_bytes();
    refused(&request, 404, "/app/{app_key}").await;
}

#[tokio::test]
async fn a_head_over_16_kib_gets_431() {
    let request =
        request_with(|r| r.replace("\r\n\r\n", &format!("\r\nCookie: {}\r\n\r\n", "c".repeat(17_000))));
    refused(&request, 431, "too large").await;
}

#[tokio::test]
async fn garbage_instead_of_a_request_gets_400() {
    refused(
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        400,
        "Malformed",
    )
    .await;
}

#[tokio::test]
async fn a_first_frame_sent_with_the_head_is_read() {
    let server = server();
    let mut request = request_with(|r| r);
    request.extend(whole(PING, b"eager"));
    let mut ws = RawWs::upgrade(server.websocket_addr(), &request).await;
    assert!(ws.next_text().await.contains("pusher:connection_established"));
    assert_eq!(ws.next_frame().await.unwrap().payload, b"eager");
}

#[tokio::test]
async fn a_proxy_prefix_and_a_query_still_connect() {
    let server = server();
    let request = upgrade_request(&format!("/ws/app/{KEY}?protocol=7&client=js&version=8.4.0"));
    let mut ws = RawWs::upgrade(server.websocket_addr(), request.as_bytes()).await;
    assert!(ws.next_text().await.contains("pusher:connection_established"));
}

#[tokio::test]
async fn an_unknown_app_key_is_upgraded_then_closed_with_4001() {
    let server = server();
    let mut ws = RawWs::upgrade(server.websocket_addr(), upgrade_request("/app/nope").as_bytes()).await;
    assert_eq!(ws.close_code().await, 4001);
}

#[tokio::test]
async fn half_a_head_is_dropped_after_handshake_timeout() {
    let server = start_server(serde_json::json!({ "handshake_timeout": 0.3 }));
    let mut stream = TcpStream::connect(server.websocket_addr()).await.unwrap();
    stream
        .write_all(b"GET /app/test-key HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut rest)).await;
    assert!(
        matches!(read, Ok(Ok(0))),
        "closed without an answer: {read:?} {rest:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}
