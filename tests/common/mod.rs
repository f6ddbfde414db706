//! Helpers for the Rust integration tests: a real server on loopback ports and real clients.
#![allow(dead_code)]

pub mod cluster;
pub mod console;
pub mod http;
pub mod tls;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use webman_push::config::ServerConfig;
use webman_push::server::PushServer;

pub const KEY: &str = "test-key";
pub const SECRET: &str = "test-secret";

/// Starts a server on free loopback ports with `extra` merged into a minimal config.
pub fn start_server(extra: Value) -> PushServer {
    let mut config = serde_json::json!({
        "app_key": KEY, "app_secret": SECRET,
        "websocket": "websocket://127.0.0.1:0", "api": "http://127.0.0.1:0",
    });
    if let (Value::Object(c), Value::Object(e)) = (&mut config, extra) {
        c.extend(e);
    }
    let config = ServerConfig::from_json(&config.to_string()).expect("valid test config");
    PushServer::start(config).expect("server starts")
}

/// `path?query` signed for the HTTP API with the test app's key and secret, timestamped now.
pub fn signed_target(method: &str, path: &str, body: &[u8]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let query = webman_push::protocol::signature::sign_api_request(KEY, SECRET, method, path, body, now, &[]);
    format!("{path}?{query}")
}

/// The signed head of a publish carrying `body`, for tests that write requests by hand.
pub fn publish_head(body: &[u8]) -> String {
    let target = signed_target("POST", "/apps/1024/events", body);
    format!(
        "POST {target} HTTP/1.1\r\nHost: push\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
}

pub struct Client {
    ws: WebSocketStream<TcpStream>,
    pub socket_id: String,
}

impl Client {
    pub async fn connect(server: &PushServer) -> Client {
        let tcp = TcpStream::connect(server.websocket_addr())
            .await
            .expect("connect");
        Client::connect_over(server, tcp).await
    }

    /// Like [`Client::connect`] over a TCP connection the test set up itself.
    pub async fn connect_over(server: &PushServer, tcp: TcpStream) -> Client {
        let addr = server.websocket_addr();
        let url = format!("ws://{addr}/app/{KEY}?protocol=7");
        let (ws, _) = tokio_tungstenite::client_async(url, tcp)
            .await
            .expect("handshake");
        let mut client = Client {
            ws,
            socket_id: String::new(),
        };
        let established = client.next_event().await.expect("connection_established");
        let data: Value = serde_json::from_str(established["data"].as_str().unwrap()).unwrap();
        client.socket_id = data["socket_id"].as_str().unwrap().to_owned();
        client
    }

    pub async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .expect("send");
    }

    /// The next JSON frame, or None after 3 s of silence or a close.
    pub async fn next_event(&mut self) -> Option<Value> {
        loop {
            match tokio::time::timeout(Duration::from_secs(3), self.ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(t.as_str()).ok(),
                Ok(Some(Ok(Message::Ping(_)))) | Ok(Some(Ok(Message::Pong(_)))) => continue,
                _ => return None,
            }
        }
    }

    /// Reads past any text frames to the close frame and returns its code (None: no close in 5 s).
    pub async fn close_code(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    pub async fn subscribe(&mut self, channel: &str) -> Value {
        self.send(serde_json::json!({"event":"pusher:subscribe","data":{"channel":channel}}))
            .await;
        self.next_event().await.expect("subscription answer")
    }

    pub async fn subscribe_presence(&mut self, channel: &str, channel_data: &str) -> Value {
        let to_sign = format!("{}:{channel}:{channel_data}", self.socket_id);
        let auth = webman_push::protocol::signature::auth_token(KEY, SECRET, &to_sign);
        self.send(serde_json::json!({"event":"pusher:subscribe",
            "data":{"channel":channel,"auth":auth,"channel_data":channel_data}}))
            .await;
        self.next_event().await.expect("subscription answer")
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A real HTTP receiver for webhooks on loopback.
pub mod webhooks {
    use super::Client;
    use axum::http::HeaderMap;
    use axum::routing::post;
    use serde_json::Value;
    use std::time::Duration;
    use tokio::net::TcpListener;
    use tokio::sync::mpsc;
    use webman_push::server::PushServer;

    /// One webhook request as the receiver saw it.
    pub struct Received {
        pub key: String,
        pub signature: String,
        pub body: String,
    }

    impl Received {
        pub fn json(&self) -> Value {
            serde_json::from_str(&self.body).expect("webhook body is JSON")
        }
        pub fn names(&self) -> Vec<String> {
            self.json()["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned())
                .collect()
        }
    }

    /// A receiver answering `status` on `listener`, forwarding each request to the returned channel.
    pub fn receiver_on(listener: TcpListener, status: u16) -> mpsc::UnboundedReceiver<Received> {
        let (tx, rx) = mpsc::unbounded_channel();
        let app = axum::Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: String| {
                let tx = tx.clone();
                async move {
                    let header = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    let _ = tx.send(Received {
                        key: header("x-pusher-key"),
                        signature: header("x-pusher-signature"),
                        body,
                    });
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        rx
    }

    pub async fn receiver(status: u16) -> (String, mpsc::UnboundedReceiver<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        (url, receiver_on(listener, status))
    }

    /// A loopback port where no receiver listens (yet): a webhook destination that is down.
    pub async fn nobody_listening_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// A page refresh: a client subscribes to `channel` (its `channel_added` arrives on `rx`),
    /// leaves, and a new connection subscribes again at once. The new client is returned.
    pub async fn refresh(
        server: &PushServer,
        rx: &mut mpsc::UnboundedReceiver<Received>,
        channel: &str,
    ) -> Client {
        let mut first = Client::connect(server).await;
        first.subscribe(channel).await;
        next(rx, Duration::from_secs(2)).await.expect("channel_added");
        first.close().await;
        let mut again = Client::connect(server).await;
        again.subscribe(channel).await;
        again
    }

    /// The names of every event in the webhooks that arrive until none has for `quiet`.
    pub async fn names_until_quiet(
        rx: &mut mpsc::UnboundedReceiver<Received>,
        quiet: Duration,
    ) -> Vec<String> {
        let mut names = Vec::new();
        while let Some(got) = next(rx, quiet).await {
            names.extend(got.names());
        }
        names
    }

    pub async fn next(rx: &mut mpsc::UnboundedReceiver<Received>, within: Duration) -> Option<Received> {
        tokio::time::timeout(within, rx.recv()).await.ok().flatten()
    }
}
