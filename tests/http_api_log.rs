//! The HTTP API's debug log names who sent a refused request (`remote=`): the TCP peer, the
//! address a trusted proxy forwarded for (the WebSocket transport's rule), or `unix` for the
//! Unix socket. The lines are read through a `tracing` subscriber this test process installs
//! before any server starts (the server then keeps it instead of its own).

mod common;

use common::http::{exchange, json_request};
use common::{signed_target, start_server};
use serde_json::json;
use std::fmt::Write as _;
use std::sync::{Mutex, Once};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Every line the server logged, as `message key=value …`.
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Recorder;

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => write!(self.0, "{value:?}"),
            name => write!(self.0, " {name}={value:?}"),
        }
        .unwrap();
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.0.push_str(value),
            name => write!(self.0, " {name}={value}").unwrap(),
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("webman_push")
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = String::new();
        event.record(&mut Line(&mut line));
        LINES.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn record_log() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| tracing::subscriber::set_global_default(Recorder).expect("the first subscriber"));
}

/// The logged line that contains `marker`, waited for up to 5 s.
async fn line_with(marker: &str) -> String {
    for _ in 0..250 {
        let found = LINES.lock().unwrap().iter().find(|l| l.contains(marker)).cloned();
        if let Some(line) = found {
            return line;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no line with {marker}: {:?}", LINES.lock().unwrap());
}

/// A publish whose signature covers another body: refused (401) and logged at debug.
fn refused_publish(path: &str, headers: &str) -> String {
    let target = signed_target("POST", path, b"{\"other\":1}");
    json_request("POST", &target, headers, "{}")
}

/// Sends a refused publish over TCP to a server for `app_id` (with `config` added) and returns
/// the debug line it logged.
async fn logged_line_of_refused_publish(
    app_id: &str,
    mut config: serde_json::Value,
    headers: &str,
) -> String {
    record_log();
    config["app_id"] = app_id.into();
    let server = start_server(config);
    let raw = refused_publish(&format!("/apps/{app_id}/events"), headers);
    assert_eq!(exchange(server.api_addr(), &raw).await.0, 401);
    line_with(&format!("app={app_id}")).await
}

#[tokio::test]
async fn a_refused_publish_is_logged_with_the_peer_address() {
    let line = logged_line_of_refused_publish("log-peer", json!({}), "").await;
    assert!(line.contains(" remote=127.0.0.1"), "{line}");
}

#[tokio::test]
async fn a_refused_channels_query_is_logged_with_the_peer_address() {
    record_log();
    let server = start_server(json!({ "app_id": "log-query" }));
    let target =
        signed_target("GET", "/apps/log-query/channels", b"").replace("auth_signature=", "auth_signature=0");
    let raw = json_request("GET", &target, "", "");
    assert_eq!(exchange(server.api_addr(), &raw).await.0, 401);
    let line = line_with("app=log-query").await;
    assert!(line.contains(" remote=127.0.0.1"), "{line}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_log_names_the_address_it_forwarded_for() {
    let config = json!({ "trusted_proxies": ["127.0.0.1"] });
    let line =
        logged_line_of_refused_publish("log-proxied", config, "X-Forwarded-For: 203.0.113.9\r\n").await;
    assert!(line.contains(" remote=203.0.113.9"), "{line}");
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_the_logged_address() {
    let line =
        logged_line_of_refused_publish("log-forged", json!({}), "X-Forwarded-For: 203.0.113.9\r\n").await;
    assert!(line.contains(" remote=127.0.0.1"), "{line}");
}

#[tokio::test]
async fn a_request_over_the_unix_socket_is_logged_as_remote_unix() {
    record_log();
    let dir = std::env::temp_dir().join(format!("wp-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("push.sock");
    let server = start_server(json!({ "app_id": "log-unix", "api_socket": path }));
    let mut unix = UnixStream::connect(&path).await.expect("connect");
    let raw = refused_publish("/apps/log-unix/events", "");
    unix.write_all(raw.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), unix.read_to_end(&mut answer))
        .await
        .expect("answered in time")
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 401"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let line = line_with("app=log-unix").await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(line.contains(" remote=unix"), "{line}");
}
