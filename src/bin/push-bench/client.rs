//! The two kinds of client: Pusher WebSocket subscribers and a signed HTTP API publisher
//! (HTTP/1.1 keep-alive). Every network wait has a timeout, so nothing here can hang the bench.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use webman_push::protocol::signature::sign_api_request;

pub use crate::rawws::RawWs as Ws;
use crate::rawws::{close_reason, tcp_connect, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Client source addresses, used round-robin so that many connections to one server port do not
/// run out of ephemeral ports on a single source address.
pub struct Sources {
    addrs: Vec<IpAddr>,
    next: AtomicUsize,
}

impl Sources {
    /// `127.0.0.2-127.0.0.9`, `127.0.0.2,127.0.0.3` or a single address.
    pub fn parse(spec: &str) -> Result<Sources, String> {
        let mut addrs = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some((a, b)) = part.split_once('-') {
                let a: Ipv4Addr = a.trim().parse().map_err(|_| format!("bad address {a}"))?;
                let b: Ipv4Addr = b.trim().parse().map_err(|_| format!("bad address {b}"))?;
                let (a, b) = (u32::from(a), u32::from(b));
                if b < a || b - a > 1024 {
                    return Err(format!("bad source range {part}"));
                }
                addrs.extend((a..=b).map(|v| IpAddr::V4(Ipv4Addr::from(v))));
            } else {
                addrs.push(part.parse().map_err(|_| format!("bad address {part}"))?);
            }
        }
        if addrs.is_empty() {
            return Err("no source addresses".into());
        }
        Ok(Sources {
            addrs,
            next: AtomicUsize::new(0),
        })
    }

    pub fn next(&self) -> IpAddr {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.addrs[i % self.addrs.len()]
    }

    pub fn describe(&self) -> String {
        match self.addrs.as_slice() {
            [one] => one.to_string(),
            [first, .., last] => format!("{first}-{last} ({} addresses)", self.addrs.len()),
            [] => String::new(),
        }
    }
}

/// An error message without the source address it came from (at most 80 characters), so that
/// errors can be counted by kind.
pub fn error_kind(e: &str) -> String {
    let kind = match e.split_once(" from ") {
        Some((head, tail)) => format!("{head}: {}", tail.split_once(": ").map_or(tail, |t| t.1)),
        None => e.to_owned(),
    };
    kind.chars().take(80).collect()
}

/// The path a Pusher client connects to.
pub fn app_path(key: &str) -> String {
    format!("/app/{key}?protocol=7&client=push-bench&version=1.0")
}

/// Opens a Pusher connection and subscribes it to `channel`; returns once the server confirmed
/// the subscription (`pusher_internal:subscription_succeeded`).
pub async fn open_subscribed(
    source: IpAddr,
    server: SocketAddr,
    key: &str,
    channel: &str,
) -> Result<Ws, String> {
    let work = async {
        let mut ws = Ws::connect(source, server, &app_path(key)).await?;
        await_established(&mut ws).await?;
        let subscribe = serde_json::json!({"event": "pusher:subscribe", "data": {"channel": channel}});
        subscribe_all(&mut ws, &[subscribe]).await?;
        Ok(ws)
    };
    tokio::time::timeout(IO_TIMEOUT * 2, work)
        .await
        .map_err(|_| "connect/subscribe timed out".to_string())?
}

/// Reads the server's first message, `pusher:connection_established`; returns the socket id.
pub async fn await_established(ws: &mut Ws) -> Result<String, String> {
    let first = next_text(ws).await?;
    if !first.contains("pusher:connection_established") {
        return Err(format!("expected connection_established, got {first}"));
    }
    let socket_id = serde_json::from_str::<serde_json::Value>(&first)
        .ok()
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v["data"].as_str()?).ok())
        .and_then(|d| d["socket_id"].as_str().map(str::to_owned));
    socket_id.ok_or_else(|| format!("no socket_id in {first}"))
}

/// Sends every `pusher:subscribe` message in `subscribes` at once, then waits until the server
/// confirmed as many subscriptions; a `pusher:error` is an error.
pub async fn subscribe_all(ws: &mut Ws, subscribes: &[serde_json::Value]) -> Result<(), String> {
    for s in subscribes {
        ws.send(OP_TEXT, s.to_string().as_bytes())
            .await
            .map_err(|e| format!("send subscribe: {e}"))?;
    }
    let mut confirmed = 0;
    while confirmed < subscribes.len() {
        let text = next_text(ws).await?;
        if text.contains("pusher_internal:subscription_succeeded") {
            confirmed += 1;
        } else if text.contains("pusher:error") {
            return Err(format!("subscribe refused: {text}"));
        }
    }
    Ok(())
}

/// The next text message (unfragmented; the handshake phase only).
pub async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        while let Some(f) = ws.next_frame()? {
            match f.opcode {
                OP_TEXT if f.fin => {
                    return Ok(String::from_utf8_lossy(ws.payload(&f)).into_owned());
                }
                OP_CLOSE => return Err(format!("closed by server: {}", close_reason(ws.payload(&f)))),
                OP_PING => {
                    let p = ws.payload(&f).to_vec();
                    ws.send(OP_PONG, &p).await?;
                }
                _ => {}
            }
        }
        ws.fill().await?;
    }
}

/// A keep-alive HTTP/1.1 connection to the HTTP API that signs every request.
pub struct Publisher {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    key: String,
    secret: String,
    app_id: String,
    /// (timestamp, path, body) → query of the last request, reused while all three repeat.
    cache: Option<(u64, String, Bytes, String)>,
}

pub struct Response {
    pub status: u16,
    pub body: Bytes,
}

/// Prints why a publish did not get its 200, the first time only (`*first` is then cleared), so a
/// failing run says why once instead of once per request.
pub fn report_first_failure(first: &mut bool, outcome: &Result<Response, String>) {
    if !std::mem::take(first) {
        return;
    }
    match outcome {
        Ok(r) => eprintln!(
            "  publish answered {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ),
        Err(e) => eprintln!("  publish failed: {e}"),
    }
}

impl Publisher {
    pub async fn connect(
        source: IpAddr,
        api: SocketAddr,
        key: &str,
        secret: &str,
        app_id: &str,
    ) -> Result<Publisher, String> {
        let stream = tcp_connect(source, api).await?;
        let (sender, conn) = tokio::time::timeout(
            IO_TIMEOUT,
            hyper::client::conn::http1::handshake(TokioIo::new(stream)),
        )
        .await
        .map_err(|_| "HTTP handshake timed out".to_string())?
        .map_err(|e| format!("HTTP handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Publisher {
            sender,
            host: api.to_string(),
            key: key.to_owned(),
            secret: secret.to_owned(),
            app_id: app_id.to_owned(),
            cache: None,
        })
    }

    /// `POST /apps/{id}/{what}` with a JSON body, signed.
    pub async fn post(&mut self, what: &str, body: Bytes) -> Result<Response, String> {
        let path = format!("/apps/{}/{what}", self.app_id);
        let ts = crate::stats::unix_now();
        let query = match &self.cache {
            Some((t, p, b, q)) if *t == ts && *p == path && *b == body => q.clone(),
            _ => {
                let q = sign_api_request(&self.key, &self.secret, "POST", &path, &body, ts, &[]);
                self.cache = Some((ts, path.clone(), body.clone(), q.clone()));
                q
            }
        };
        self.request("POST", format!("{path}?{query}"), body).await
    }

    /// `GET /apps/{id}/{what}?params`, signed.
    pub async fn get(&mut self, what: &str, params: &[(&str, &str)]) -> Result<Response, String> {
        let path = format!("/apps/{}/{what}", self.app_id);
        let extra: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let query = sign_api_request(
            &self.key,
            &self.secret,
            "GET",
            &path,
            b"",
            crate::stats::unix_now(),
            &extra,
        );
        self.request("GET", format!("{path}?{query}"), Bytes::new()).await
    }

    async fn request(&mut self, method: &str, uri: String, body: Bytes) -> Result<Response, String> {
        let work = async {
            self.sender
                .ready()
                .await
                .map_err(|e| format!("HTTP connection: {e}"))?;
            let req = hyper::Request::builder()
                .method(method)
                .uri(uri)
                .header(hyper::header::HOST, &self.host)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(body))
                .map_err(|e| format!("request: {e}"))?;
            let resp = self
                .sender
                .send_request(req)
                .await
                .map_err(|e| format!("HTTP: {e}"))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("HTTP body: {e}"))?
                .to_bytes();
            Ok(Response { status, body })
        };
        tokio::time::timeout(IO_TIMEOUT, work)
            .await
            .map_err(|_| "HTTP request timed out".to_string())?
    }
}

/// The JSON body of `POST /events` for one channel.
pub fn event_body(channel: &str, event: &str, data: &str) -> Bytes {
    Bytes::from(serde_json::json!({"name": event, "data": data, "channels": [channel]}).to_string())
}
