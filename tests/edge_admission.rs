//! Who may connect, over raw TCP: pages from origins outside an app's `allowed_origins` get 403
//! before the upgrade, a client address over `max_connections_per_ip` or `connection_rate_per_ip`
//! gets 429 (counted by the forwarded address only behind a trusted proxy), and an app key over
//! its `api_rate_limit` gets 429 with `Retry-After` from the HTTP API. Clients already connected
//! are never disturbed by refusals.

mod common;
mod raw_ws;

use common::{publish_head, start_server, KEY};
use raw_ws::*;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use webman_push::server::PushServer;

/// An upgrade request for `key` with `headers` (each ending in `\r\n`) added.
fn request(key: &str, headers: &str) -> Vec<u8> {
    upgrade_request(&format!("/app/{key}?protocol=7"))
        .replace("Host: localhost\r\n", &format!("Host: localhost\r\n{headers}"))
        .into_bytes()
}

/// Upgrades with `headers` and reads `connection_established`.
async fn connect(server: &PushServer, key: &str, headers: &str) -> RawWs {
    let mut ws = RawWs::upgrade(server.websocket_addr(), &request(key, headers)).await;
    assert!(ws.next_text().await.contains("pusher:connection_established"));
    ws
}

/// The whole answer to an upgrade with `headers`, which must be refused with `status`.
async fn refused(server: &PushServer, key: &str, headers: &str, status: u16) -> String {
    let answer = http_exchange(server.websocket_addr(), &request(key, headers)).await;
    assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{answer}");
    answer
}

#[tokio::test]
async fn an_upgrade_from_an_unlisted_origin_gets_403_and_connected_clients_carry_on() {
    let server = start_server(json!({ "allowed_origins": ["https://good.test", "https://*.example.com"] }));
    let mut good = connect(&server, KEY, "Origin: https://good.test\r\n").await;
    let mut sub = connect(&server, KEY, "Origin: https://a.EXAMPLE.com:443\r\n").await;
    let answer = refused(&server, KEY, "Origin: https://evil.test\r\n", 403).await;
    assert!(answer.contains("Origin not allowed for this app"), "{answer}");
    refused(&server, KEY, "Origin: https://example.com\r\n", 403).await;
    good.still_works().await;
    sub.still_works().await;
}

#[tokio::test]
async fn an_upgrade_without_origin_is_allowed_unless_the_app_is_strict() {
    let server = start_server(json!({ "allowed_origins": ["https://good.test"] }));
    connect(&server, KEY, "").await.still_works().await;
    let strict =
        start_server(json!({ "allowed_origins": ["https://good.test"], "allowed_origins_strict": true }));
    let answer = refused(&strict, KEY, "", 403).await;
    assert!(
        answer.contains("only accepts connections that send an Origin"),
        "{answer}"
    );
    connect(&strict, KEY, "Origin: https://good.test\r\n").await;
}

#[tokio::test]
async fn each_app_has_its_own_allowed_origins() {
    let server = start_server(json!({
        "allowed_origins": ["https://main.test"],
        "apps": [{ "key": "other", "secret": "s", "allowed_origins": ["https://other.test"] }]
    }));
    connect(&server, "other", "Origin: https://other.test\r\n").await;
    refused(&server, "other", "Origin: https://main.test\r\n", 403).await;
    refused(&server, KEY, "Origin: https://other.test\r\n", 403).await;
}

#[tokio::test]
async fn an_address_over_max_connections_per_ip_gets_429_until_one_of_its_connections_ends() {
    let server = start_server(json!({ "max_connections_per_ip": 2 }));
    let mut first = connect(&server, KEY, "").await;
    let second = connect(&server, KEY, "").await;
    let answer = refused(&server, KEY, "", 429).await;
    assert!(
        answer.contains("Too many connections from this address"),
        "{answer}"
    );
    first.still_works().await;
    drop(second);
    // The slot is released when the server sees the connection end.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let answer = http_exchange_head(&server, &request(KEY, "")).await;
        if answer.starts_with("HTTP/1.1 101 ") {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn new_connections_faster_than_connection_rate_per_ip_get_429_with_retry_after() {
    let server = start_server(json!({ "connection_rate_per_ip": 3 }));
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&server, KEY, "").await);
    }
    let answer = refused(&server, KEY, "", 429).await;
    assert!(answer.contains("Retry-After: 1\r\n"), "{answer}");
    assert!(answer.contains("Too many new connections"), "{answer}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    connect(&server, KEY, "").await;
    held[0].still_works().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_one_counted() {
    let server = start_server(json!({ "max_connections_per_ip": 1, "trusted_proxies": ["127.0.0.0/8"] }));
    let _a = connect(&server, KEY, "X-Forwarded-For: 198.51.100.1\r\n").await;
    let _b = connect(&server, KEY, "X-Forwarded-For: 198.51.100.2\r\n").await;
    let _c = connect(&server, KEY, "X-Real-IP: 198.51.100.3\r\n").await;
    // A forged first entry does not make the same client another one.
    refused(&server, KEY, "X-Forwarded-For: 6.6.6.6, 198.51.100.1\r\n", 429).await;
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let server = start_server(json!({ "max_connections_per_ip": 1 }));
    let _a = connect(&server, KEY, "X-Forwarded-For: 198.51.100.1\r\n").await;
    refused(&server, KEY, "X-Forwarded-For: 198.51.100.2\r\n", 429).await;
}

#[tokio::test]
async fn an_app_over_its_api_rate_limit_gets_429_with_retry_after() {
    let server = start_server(json!({ "api_rate_limit": 3 }));
    for _ in 0..3 {
        assert!(publish(&server).await.starts_with("HTTP/1.1 200"));
    }
    let answer = publish(&server).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains(r#"{"error":"Over this app's api_rate_limit of 3"#),
        "{answer}"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(publish(&server).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn unsigned_requests_do_not_spend_an_apps_api_rate_limit() {
    let server = start_server(json!({ "api_rate_limit": 2 }));
    for _ in 0..5 {
        let body = br#"{"name":"e","channel":"c","data":"x"}"#;
        let forged = publish_head(body).replace("auth_signature=", "auth_signature=0");
        let answer = api_exchange(&server, &[forged.as_bytes(), body].concat()).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
    assert!(publish(&server).await.starts_with("HTTP/1.1 200"));
}

/// A signed publish on a new connection; the answer's head and body.
async fn publish(server: &PushServer) -> String {
    let body = br#"{"name":"e","channel":"c","data":"x"}"#;
    api_exchange(server, &[publish_head(body).as_bytes(), body].concat()).await
}

async fn api_exchange(server: &PushServer, request: &[u8]) -> String {
    let mut conn = TcpStream::connect(server.api_addr()).await.unwrap();
    conn.write_all(request).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(3), conn.read(&mut buf))
        .await
        .expect("an answer within 3 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// The first bytes of the answer to an upgrade (the connection may stay open after a 101).
async fn http_exchange_head(server: &PushServer, request: &[u8]) -> String {
    let mut conn = TcpStream::connect(server.websocket_addr()).await.unwrap();
    conn.write_all(request).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), conn.read(&mut buf))
        .await
        .expect("an answer within 3 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}
