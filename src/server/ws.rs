//! The WebSocket transport: handshake on `/app/{key}`, then one task per connection that reads
//! client frames into its [`Session`] and flushes whatever its outbox could not write at once
//! (the hub writes frames to the socket directly when it can take them; see [`super::outbox`]).
//!
//! Idle detection costs no per-message timer work: the task sleeps until the connection's
//! deadline and only then compares it with the time of the last frame it read.

use super::flusher::{Batch, Flusher, Flushers};
use super::outbox::{ConnectionOutbox, Flushed};
use super::socket::Socket;
use super::Limits;
use crate::hub::{AppHub, Frame, Hub, Outbox, Session};
use crate::protocol::error::CLOSE_MESSAGE_TOO_BIG;
use crate::protocol::message::{connection_established_frame, error_frame, PING_FRAME};
use crate::protocol::{ErrorCode, SocketId};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// A client has this long to complete the WebSocket handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A batch of frames that cannot be written in this long means the peer is gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

type Ws = WebSocketStream<Socket>;

pub(crate) async fn serve(
    listener: TcpListener,
    hub: Arc<Hub>,
    limits: Arc<Limits>,
    flushers: Arc<Flushers>,
    shutdown: watch::Receiver<bool>,
) {
    // Socket ids are `<prefix>.<counter>`; a random prefix keeps them unique across restarts and nodes.
    let prefix = random_prefix();
    let mut counter = 1u64;
    let stop = shutdown.clone();
    super::accept_loop(listener, "WebSocket connections", stop, |stream| {
        let id = counter;
        counter += 1;
        let flusher = flushers.for_connection(id);
        tokio::spawn(connection(
            stream,
            hub.clone(),
            limits.clone(),
            flusher,
            shutdown.clone(),
            prefix,
            id,
        ));
    })
    .await;
}

fn random_prefix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    (h.finish() % 1_000_000_000) as u32
}

/// The app key of a connect path: the segment after the first `/app/` (a proxy prefix may precede it).
fn app_key_of(path: &str) -> Option<&str> {
    let start = path.find("/app/")? + "/app/".len();
    let key = path[start..].split('/').next()?;
    (!key.is_empty()).then_some(key)
}

async fn connection(
    stream: TcpStream,
    hub: Arc<Hub>,
    limits: Arc<Limits>,
    flusher: Arc<Flusher>,
    shutdown: watch::Receiver<bool>,
    prefix: u32,
    id: u64,
) {
    let mut key = None;
    // tungstenite's Callback fixes this signature (a rejection is a whole HTTP response).
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        match app_key_of(req.uri().path()) {
            Some(k) => {
                key = Some(k.to_owned());
                Ok(resp)
            }
            None => {
                let mut not_found = ErrorResponse::new(Some("Not found: connect to /app/{app_key}\n".into()));
                *not_found.status_mut() = StatusCode::NOT_FOUND;
                Err(not_found)
            }
        }
    };
    // Small buffers: most clients send a few short frames. tungstenite's defaults (128 KiB
    // each way) would dominate the memory of an idle connection.
    let config = WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_write_buffer_size(usize::MAX)
        .max_message_size(Some(limits.max_message_size))
        .max_frame_size(Some(limits.max_message_size));
    let stream = Arc::new(stream);
    let outbox = ConnectionOutbox::new(stream.clone(), limits.max_send_queue, flusher);
    let socket = Socket::new(stream, outbox.clone());
    // Boxed: the handshake's state is large and only needed for a moment; unboxed, every
    // connection's task would keep room for it for the connection's whole life.
    let handshake = Box::pin(tokio_tungstenite::accept_hdr_async_with_config(
        socket,
        callback,
        Some(config),
    ));
    let mut ws = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(ws)) => ws,
        _ => {
            // A refused handshake (404) still has its answer to deliver.
            let _ = tokio::time::timeout(Duration::from_secs(1), outbox.flush()).await;
            return;
        }
    };
    let key = key.unwrap_or_default();
    let Some(app) = hub.app_by_key(&key).cloned() else {
        let message = format!("App key {key} does not exist on this server");
        Box::pin(refuse(&mut ws, &outbox, ErrorCode::AppNotFound, &message)).await;
        return;
    };
    let slot = match app.try_connect() {
        Ok(slot) => slot,
        Err(code) => {
            let message = match code {
                ErrorCode::AppDisabled => "Application disabled".to_owned(),
                _ => format!(
                    "Application is over its connection quota of {}",
                    app.config.max_connections
                ),
            };
            Box::pin(refuse(&mut ws, &outbox, code, &message)).await;
            return;
        }
    };
    let socket_id = SocketId::new(prefix, id);
    outbox.send(Frame::from(connection_established_frame(
        socket_id.as_str(),
        limits.activity_timeout.as_secs(),
    )));
    let session = Session::new(slot, id, socket_id, outbox.clone());
    run(ws, session, &outbox, &app, &limits, shutdown).await;
}

async fn refuse(ws: &mut Ws, outbox: &ConnectionOutbox, code: ErrorCode, message: &str) {
    outbox.send(Frame::from(error_frame(Some(code.code()), message)));
    close_gracefully(ws, outbox, code.code(), message).await;
}

/// Sends a close frame and waits (briefly) for the client's reply before the socket is dropped:
/// a browser whose closing frame meets a reset reports 1006 instead of our code, and would
/// then reconnect even after a 40xx close.
async fn close_gracefully(ws: &mut Ws, outbox: &ConnectionOutbox, code: u16, reason: &str) {
    let _ = ws.close(Some(close_frame(code, reason))).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        if !matches!(outbox.flush().await, Flushed::Idle) {
            return;
        }
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() {
                break;
            }
        }
        outbox.flush().await;
    })
    .await;
}

fn close_frame(code: u16, reason: &str) -> CloseFrame {
    // A close reason must fit in a control frame (125 bytes including the code).
    let mut end = reason.len().min(120);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from(&reason[..end]),
    }
}

/// Why the connection loop ended, and what (if anything) to tell the client.
enum End {
    Gone,
    Close(u16, String),
}

async fn run(
    mut ws: Ws,
    mut session: Session,
    outbox: &ConnectionOutbox,
    app: &AppHub,
    limits: &Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last_seen = Instant::now();
    // Apps that require it close connections that neither sign in nor join a private channel in time.
    let auth_timeout = app.config.user_authentication_timeout;
    let mut auth_deadline = (auth_timeout > 0).then(|| last_seen + Duration::from_secs(auth_timeout));
    let mut pinged_at: Option<Instant> = None;
    let mut deadline = last_seen + limits.activity_timeout;
    let end = loop {
        tokio::select! {
            biased;
            // Boxed (here and below): rare paths whose state would otherwise enlarge every
            // connection's task for its whole life.
            _ = outbox.pending() => match Box::pin(tokio::time::timeout(WRITE_TIMEOUT, outbox.flush())).await {
                Ok(Flushed::Idle) => {}
                Ok(Flushed::Close(code, reason)) => break End::Close(code, reason),
                Ok(Flushed::Broken) | Err(_) => break End::Gone,
            },
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    last_seen = Instant::now();
                    // A client event fans out like a publish.
                    let _scheduling = Batch::begin();
                    session.handle_text(text.as_str());
                }
                Some(Ok(Message::Binary(_))) => {
                    last_seen = Instant::now();
                    outbox.send(Frame::from(error_frame(None, "Binary frames are not supported; send JSON text frames")));
                }
                Some(Ok(Message::Ping(_))) | Some(Ok(Message::Pong(_))) => {
                    last_seen = Instant::now();
                    // tungstenite queued the pong; send it now.
                    if ws.flush().await.is_err() {
                        break End::Gone;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Ok(Message::Frame(_))) | None => break End::Gone,
                Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, max_size }))) => {
                    break End::Close(CLOSE_MESSAGE_TOO_BIG, format!("Message of {size} bytes exceeds the limit of {max_size}"));
                }
                Some(Err(_)) => break End::Gone,
            },
            // One timer per connection: the earlier of the idle and the authorisation deadline.
            _ = tokio::time::sleep_until(auth_deadline.map_or(deadline, |a| a.min(deadline))) => {
                let now = Instant::now();
                if auth_deadline.is_some_and(|a| a <= now) {
                    if !session.is_authorized() {
                        let reason = "Connection not authorized within timeout";
                        outbox.send(Frame::from(error_frame(Some(ErrorCode::Unauthorized.code()), reason)));
                        break End::Close(ErrorCode::Unauthorized.code(), reason.into());
                    }
                    auth_deadline = None;
                }
                if now < deadline {
                    continue;
                }
                match pinged_at {
                    Some(at) if last_seen <= at => {
                        break End::Close(ErrorCode::PongNotReceived.code(), "Pong reply not received".into());
                    }
                    _ if now >= last_seen + limits.activity_timeout => {
                        pinged_at = Some(now);
                        deadline = now + limits.pong_timeout;
                        outbox.send(Frame::from(PING_FRAME));
                    }
                    _ => {
                        pinged_at = None;
                        deadline = last_seen + limits.activity_timeout;
                    }
                }
            }
            _ = shutdown.changed() => {
                break End::Close(ErrorCode::ReconnectNow.code(), "Server shutting down".into());
            }
        }
    };
    // Leave channels (member_removed, counts) before the socket is closed.
    drop(session);
    if let End::Close(code, reason) = end {
        Box::pin(close_gracefully(&mut ws, outbox, code, &reason)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::app_key_of;

    #[test]
    fn app_key_is_the_segment_after_app() {
        assert_eq!(app_key_of("/app/abc"), Some("abc"));
        assert_eq!(app_key_of("/app/abc/"), Some("abc"));
        assert_eq!(app_key_of("/ws/app/abc"), Some("abc"));
        assert_eq!(app_key_of("/app/"), None);
        assert_eq!(app_key_of("/"), None);
        assert_eq!(app_key_of("/apps/abc"), None);
    }
}
