//! The HTTP API on a Unix socket (`api_socket`): the file's life (mode, a stale file replaced,
//! a live socket or a non-socket file refused, removal on stop), the same API over it through the
//! Api's client, reconnecting after a restart, and the pending-body cap for its callers.

mod common;

use common::{publish_head, signed_target, start_server, Client};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use webman_push::api_client::{request_to, Peer, Response};
use webman_push::config::ServerConfig;
use webman_push::server::PushServer;

/// A fresh directory for one test's socket, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("wp-sock-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn socket(&self) -> PathBuf {
        self.0.join("push.sock")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start_on(path: &Path, extra: serde_json::Value) -> PushServer {
    let mut config = serde_json::json!({ "api_socket": path });
    if let (serde_json::Value::Object(c), serde_json::Value::Object(e)) = (&mut config, extra) {
        c.extend(e);
    }
    start_server(config)
}

fn start_error(path: &Path) -> String {
    let config = serde_json::json!({
        "app_key": common::KEY, "app_secret": common::SECRET, "api_socket": path,
        "websocket": "websocket://127.0.0.1:0", "api": "http://127.0.0.1:0",
    });
    match PushServer::start(ServerConfig::from_json(&config.to_string()).unwrap()) {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A signed request through the Api's client over the socket, off the test's runtime threads.
async fn over_socket(path: &Path, method: &'static str, api_path: &str, body: &'static [u8]) -> Response {
    let path = path.to_owned();
    let target = signed_target(method, api_path, body);
    tokio::task::spawn_blocking(move || {
        request_to(Peer::Unix(&path), method, &target, body, Duration::from_secs(2))
    })
    .await
    .unwrap()
    .expect("an answer")
}

#[tokio::test]
async fn the_socket_file_is_created_with_mode_0660_by_default() {
    let dir = TempDir::new();
    let server = start_on(&dir.socket(), serde_json::json!({}));
    assert!(std::fs::metadata(dir.socket()).unwrap().file_type().is_socket());
    assert_eq!(mode_of(&dir.socket()), 0o660);
    assert_eq!(server.api_socket(), Some(dir.socket().as_path()));
}

#[tokio::test]
async fn api_socket_mode_sets_the_socket_files_mode() {
    let dir = TempDir::new();
    let _server = start_on(&dir.socket(), serde_json::json!({ "api_socket_mode": "0600" }));
    assert_eq!(mode_of(&dir.socket()), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_over_the_socket_reaches_subscribers() {
    let dir = TempDir::new();
    let server = start_on(&dir.socket(), serde_json::json!({}));
    let mut sub = Client::connect(&server).await;
    sub.subscribe("news").await;
    let body = br#"{"name":"flash","channel":"news","data":"hi"}"#;
    let answer = over_socket(&dir.socket(), "POST", "/apps/1024/events", body).await;
    assert_eq!((answer.status, answer.body.as_slice()), (200, &b"{}"[..]));
    let event = sub.next_event().await.expect("the event");
    assert_eq!(
        (event["event"].as_str(), event["data"].as_str()),
        (Some("flash"), Some("hi"))
    );
}

#[tokio::test]
async fn a_stale_socket_file_from_a_crashed_run_is_replaced() {
    let dir = TempDir::new();
    // A crashed run leaves its file; nobody listens on it any more.
    drop(std::os::unix::net::UnixListener::bind(dir.socket()).unwrap());
    assert!(dir.socket().exists());
    let _server = start_on(&dir.socket(), serde_json::json!({}));
    let answer = over_socket(&dir.socket(), "GET", "/apps/1024/channels", b"").await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn a_socket_another_server_listens_on_is_refused_as_already_in_use() {
    let dir = TempDir::new();
    let _first = start_on(&dir.socket(), serde_json::json!({}));
    let error = start_error(&dir.socket());
    assert!(error.contains(&dir.socket().display().to_string()), "{error}");
    assert!(error.contains("already in use"), "{error}");
    let answer = over_socket(&dir.socket(), "GET", "/apps/1024/channels", b"").await;
    assert_eq!(answer.status, 200, "the first server keeps its socket");
}

#[tokio::test]
async fn a_file_that_is_not_a_socket_is_a_start_error_naming_the_path_and_is_left_alone() {
    let dir = TempDir::new();
    std::fs::write(dir.socket(), "precious").unwrap();
    let error = start_error(&dir.socket());
    assert!(error.contains(&dir.socket().display().to_string()), "{error}");
    assert!(error.contains("not a socket"), "{error}");
    assert_eq!(std::fs::read_to_string(dir.socket()).unwrap(), "precious");
}

#[tokio::test]
async fn the_socket_file_is_removed_on_stop() {
    let dir = TempDir::new();
    let server = start_on(&dir.socket(), serde_json::json!({}));
    assert!(dir.socket().exists());
    server.stop();
    assert!(!dir.socket().exists());
}

#[tokio::test]
async fn a_pooled_connection_to_a_restarted_server_reconnects_on_the_next_call() {
    let dir = TempDir::new();
    let server = start_on(&dir.socket(), serde_json::json!({}));
    let first = over_socket(&dir.socket(), "GET", "/apps/1024/channels", b"").await;
    assert_eq!(first.status, 200);
    // The connection that answered stays in the client's pool while the server goes away.
    server.stop();
    let _restarted = start_on(&dir.socket(), serde_json::json!({}));
    let next = over_socket(&dir.socket(), "GET", "/apps/1024/channels", b"").await;
    assert_eq!(next.status, 200);
}

#[tokio::test]
async fn unix_socket_callers_share_one_pending_body_budget() {
    let dir = TempDir::new();
    let _server = start_on(
        &dir.socket(),
        serde_json::json!({ "api_pending_body_per_ip": 100_000, "api_pending_body_total": 1_000_000 }),
    );
    let body = format!(r#"{{"name":"e","channel":"c","data":"{}"}}"#, "x".repeat(60_000));
    let parked_head = [publish_head(body.as_bytes()).as_bytes(), &body.as_bytes()[..100]].concat();
    let mut parked = UnixStream::connect(dir.socket()).await.unwrap();
    parked.write_all(&parked_head).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await; // the server parks it

    // Another connection, another process even: the same local peer.
    let mut refused = UnixStream::connect(dir.socket()).await.unwrap();
    refused.write_all(&parked_head).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(2), refused.read(&mut buf))
        .await
        .expect("an answer in time")
        .unwrap();
    let answered = String::from_utf8_lossy(&buf[..n]);
    assert!(answered.starts_with("HTTP/1.1 429"), "{answered}");
}
