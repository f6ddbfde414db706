//! The debug console's client side for the tests: requests, login, and the event stream read
//! line by line.

use super::{http, signed_target};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

/// One request on its own connection: status, head and body.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &str,
    body: &str,
) -> (u16, String, String) {
    http::exchange(addr, &http::json_request(method, target, headers, body)).await
}

/// A server started with `extra` (as [`super::start_server`]) and its app's console event stream,
/// opened by logging in with the app's key and secret.
pub async fn watched_server(extra: Value) -> (super::PushServer, Stream) {
    let server = super::start_server(extra);
    let addr = server.api_addr();
    let cookie = login(
        addr,
        serde_json::json!({ "key": super::KEY, "secret": super::SECRET }),
    )
    .await;
    let stream = Stream::open(addr, &cookie, None).await;
    (server, stream)
}

/// Logs in with `credentials` and returns the `Cookie:` header line for the session.
pub async fn login(addr: SocketAddr, credentials: Value) -> String {
    let (status, head, body) = request(addr, "POST", "/console/login", "", &credentials.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a session cookie");
    let pair = cookie.split(';').next().unwrap();
    format!("Cookie: {pair}\r\n")
}

/// An open `/console/stream`, read line by line; HTTP/1.0 so the body is not chunked.
pub struct Stream {
    lines: BufReader<TcpStream>,
}

impl Stream {
    pub async fn open(addr: SocketAddr, cookie: &str, receive_buffer: Option<u32>) -> Stream {
        let socket = TcpSocket::new_v4().unwrap();
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let mut tcp = socket.connect(addr).await.expect("connect");
        let raw = format!("GET /console/stream HTTP/1.0\r\nHost: push\r\n{cookie}\r\n");
        tcp.write_all(raw.as_bytes()).await.unwrap();
        let mut stream = Stream {
            lines: BufReader::new(tcp),
        };
        let first = stream.next().await.expect("the stream opens");
        assert_eq!(first["type"], "stream_opened");
        stream
    }

    /// The next event, or None when the stream ends or stays quiet for 5 s.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(Duration::from_secs(5), self.lines.read_line(&mut line));
            match read.await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
            if let Some(data) = line.trim_end().strip_prefix("data: ") {
                return Some(serde_json::from_str(data).expect("JSON events"));
            }
        }
    }

    /// The next event of `kind`, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let event = self.next().await.unwrap_or_else(|| panic!("no {kind} event"));
            if event["type"] == kind {
                return event;
            }
        }
    }
}

/// Publishes `body` through the signed HTTP API; returns the status.
pub async fn api_post(addr: SocketAddr, path: &str, body: &str) -> u16 {
    let target = signed_target("POST", path, body.as_bytes());
    request(addr, "POST", &target, "", body).await.0
}
