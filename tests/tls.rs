//! Native TLS: `wss://` and `https://` with the certificate in `ssl`, reloaded without a restart.

mod common;

use common::tls::{http_exchange, leaf_der, peer_der, Pki};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use webman_push::config::ServerConfig;
use webman_push::server::PushServer;

type Wss = WebSocketStream<TlsStream<TcpStream>>;

fn tls_config(cert: &Path, key: &Path, extra: Value) -> ServerConfig {
    let mut config = json!({
        "app_key": common::KEY, "app_secret": common::SECRET,
        "websocket": "websocket://127.0.0.1:0", "api": "https://127.0.0.1:0",
        "ssl": {"local_cert": cert, "local_pk": key, "reload_interval": 0.05},
    });
    if let (Value::Object(c), Value::Object(e)) = (&mut config, extra) {
        c.extend(e);
    }
    ServerConfig::from_json(&config.to_string()).expect("valid test config")
}

fn start(cert: &Path, key: &Path) -> PushServer {
    PushServer::start(tls_config(cert, key, json!({}))).expect("server starts")
}

/// A `wss://` client past `connection_established`, and the certificate the server showed it.
async fn connect_wss(pki: &Pki, server: &PushServer) -> (Wss, Vec<u8>) {
    let tls = pki.connect(server.websocket_addr()).await;
    let cert = peer_der(&tls);
    let url = format!("wss://{}/app/{}?protocol=7", server.websocket_addr(), common::KEY);
    let (mut ws, _) = tokio_tungstenite::client_async(url, tls).await.expect("upgrade");
    let established = next_event(&mut ws).await.expect("connection_established");
    assert_eq!(established["event"], "pusher:connection_established");
    (ws, cert)
}

async fn next_event(ws: &mut Wss) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(t.as_str()).ok(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

async fn subscribe(ws: &mut Wss, channel: &str) {
    let frame = json!({"event":"pusher:subscribe","data":{"channel":channel}});
    ws.send(Message::text(frame.to_string())).await.expect("send");
    let answer = next_event(ws).await.expect("subscription answer");
    assert_eq!(answer["event"], "pusher_internal:subscription_succeeded");
}

/// Publishes over `https://` and returns the answer's status line.
async fn publish_over_https(pki: &Pki, server: &PushServer, channel: &str) -> String {
    let body = json!({"name":"greeting","channel":channel,"data":"{\"n\":1}"}).to_string();
    let mut tls = pki.connect(server.api_addr()).await;
    let answer = http_exchange(&mut tls, &common::publish_head(body.as_bytes()), body.as_bytes()).await;
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_wss_client_receives_an_event_published_over_https() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("server");
    let server = start(&cert, &key);
    let (mut ws, _) = connect_wss(&pki, &server).await;
    subscribe(&mut ws, "news").await;
    assert_eq!(publish_over_https(&pki, &server, "news").await, "HTTP/1.1 200 OK");
    let event = next_event(&mut ws).await.expect("event over wss");
    assert_eq!(
        (event["event"].as_str(), event["channel"].as_str()),
        (Some("greeting"), Some("news"))
    );
}

#[tokio::test]
async fn plain_http_to_either_tls_port_is_closed_at_once() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("server");
    let config = tls_config(
        &cert,
        &key,
        json!({"handshake_timeout": 30, "api_head_timeout": 30}),
    );
    let server = PushServer::start(config).expect("server starts");
    for addr in [server.websocket_addr(), server.api_addr()] {
        let started = Instant::now();
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"GET /app/test-key HTTP/1.1\r\nHost: push\r\n\r\n")
            .await
            .expect("write");
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(3), tcp.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "{addr} still open after 3 s");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{addr} took {:?}",
            started.elapsed()
        );
        assert!(
            !String::from_utf8_lossy(&answer).contains("HTTP/1.1"),
            "{addr} answered in plain HTTP"
        );
    }
}

#[tokio::test]
async fn a_client_that_never_starts_the_tls_handshake_is_closed_after_handshake_timeout() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("server");
    let server =
        PushServer::start(tls_config(&cert, &key, json!({"handshake_timeout": 0.3}))).expect("starts");
    let started = Instant::now();
    let mut tcp = TcpStream::connect(server.websocket_addr())
        .await
        .expect("connect");
    let mut sink = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut sink)).await;
    assert!(read.is_ok(), "still open after 5 s");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "closed before the timeout"
    );
}

#[test]
fn a_missing_certificate_or_key_fails_start_naming_the_file() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("server");
    let missing = pki.dir.join("absent.pem");
    for (c, k) in [(&missing, &key), (&cert, &missing)] {
        let error = PushServer::start(tls_config(c, k, json!({})))
            .err()
            .expect("start fails");
        let error = error.to_string();
        assert!(error.contains(&*missing.to_string_lossy()), "{error}");
    }
}

#[test]
fn a_key_that_does_not_belong_to_the_certificate_fails_start() {
    let pki = Pki::new();
    let (cert, _) = pki.issue("server");
    let (_, other_key) = pki.issue("other");
    let error = PushServer::start(tls_config(&cert, &other_key, json!({})))
        .err()
        .expect("start fails");
    assert!(error.to_string().contains("ssl.local_pk"), "{error}");
}

/// Copies `name`'s certificate and key over the files the server was started with.
fn swap_in(pki: &Pki, name: &str, cert: &Path, key: &Path) -> Vec<u8> {
    let (new_cert, new_key) = pki.issue(name);
    std::fs::copy(&new_key, key).expect("key");
    std::fs::copy(&new_cert, cert).expect("cert");
    leaf_der(cert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_swapped_on_disk_serves_new_clients_while_100_connected_stay() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("server");
    let old = leaf_der(&cert);
    let server = start(&cert, &key);
    let mut clients = Vec::new();
    for _ in 0..100 {
        let (mut ws, seen) = connect_wss(&pki, &server).await;
        assert_eq!(seen, old);
        subscribe(&mut ws, "news").await;
        clients.push(ws);
    }
    let new = swap_in(&pki, "renewed", &cert, &key);
    assert_ne!(new, old);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, seen) = connect_wss(&pki, &server).await;
        if seen == new {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "new clients still get the old certificate"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(publish_over_https(&pki, &server, "news").await, "HTTP/1.1 200 OK");
    for (i, ws) in clients.iter_mut().enumerate() {
        let event = next_event(ws).await;
        assert_eq!(
            event
                .and_then(|e| e["event"].as_str().map(str::to_owned))
                .as_deref(),
            Some("greeting"),
            "client {i}"
        );
    }
}

#[tokio::test]
async fn a_bad_certificate_at_reload_keeps_the_previous_one() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("server");
    let old = leaf_der(&cert);
    let server = start(&cert, &key);
    std::fs::write(&cert, "not a certificate").expect("overwrite");
    let error = server.reload_tls().expect_err("reload refuses it");
    assert!(error.contains(&*cert.to_string_lossy()), "{error}");
    // The watcher sees the change too, and keeps the old certificate as well.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (mut ws, seen) = connect_wss(&pki, &server).await;
    assert_eq!(seen, old);
    subscribe(&mut ws, "news").await;
}

#[tokio::test]
async fn reload_tls_takes_a_new_certificate_at_once() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("server");
    let config = tls_config(
        &cert,
        &key,
        json!({"ssl": {"local_cert": cert, "local_pk": key, "reload_interval": 3600}}),
    );
    let server = PushServer::start(config).expect("server starts");
    let new = swap_in(&pki, "renewed", &cert, &key);
    server.reload_tls().expect("reload");
    let (_, seen) = connect_wss(&pki, &server).await;
    assert_eq!(seen, new);
}

#[tokio::test]
async fn per_ip_limits_count_the_tls_clients_own_address() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("server");
    let server =
        PushServer::start(tls_config(&cert, &key, json!({"max_connections_per_ip": 1}))).expect("starts");
    let upgrade = |source: [u8; 4]| {
        let (pki, server) = (&pki, &server);
        async move {
            let tls = pki.connect_from(source.into(), server.websocket_addr()).await;
            let url = format!("wss://{}/app/{}?protocol=7", server.websocket_addr(), common::KEY);
            tokio_tungstenite::client_async(url, tls).await.map(|(ws, _)| ws)
        }
    };
    let _first = upgrade([127, 0, 0, 1])
        .await
        .expect("first connection from 127.0.0.1");
    let second = upgrade([127, 0, 0, 1])
        .await
        .expect_err("second from 127.0.0.1 refused");
    assert!(second.to_string().contains("429"), "{second}");
    upgrade([127, 0, 0, 2])
        .await
        .expect("127.0.0.2 is another client");
}

#[tokio::test]
async fn stopping_the_server_closes_wss_clients_with_4200() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("server");
    let server = start(&cert, &key);
    let (mut ws, _) = connect_wss(&pki, &server).await;
    let stopped = tokio::task::spawn_blocking(move || server.stop());
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(code, Some(4200));
    stopped.await.expect("stop");
}
