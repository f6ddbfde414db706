//! The WebSocket transport: handshake on `/app/{key}` (see [`super::upgrade`]), then one task per
//! connection that reads client frames into its [`Session`] and flushes whatever its outbox could
//! not write at once (the hub writes frames to the socket directly when it can take them; see
//! [`super::send`]). A client that breaks RFC 6455 gets the close code for what it did (1002,
//! 1007, 1009) before the connection is closed, so it can tell that from a network failure.
//!
//! Idle detection costs no per-message timer work: the task sleeps until the connection's
//! deadline and only then compares it with the time of the last frame it read.

mod close;

use super::ip_limits::IpSlot;
use super::send::{self, ConnectionOutbox, Flushed, Flusher, Flushers, Socket};
use super::shutdown::Shutdown;
use super::tls::{self, Certificate};
use super::upgrade::{self, Outcome};
use super::Limits;
use crate::hub::{AppHub, Frame, Hub, Outbox, Session};
use crate::protocol::message::{connection_established_frame, error_frame, PING_FRAME};
use crate::protocol::{ErrorCode, SocketId};
use bytes::Bytes;
use close::{answer_close, close_for, close_gracefully, end_connection, refuse};
use futures_util::{SinkExt, StreamExt};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type Ws = WebSocketStream<Socket>;

pub(crate) async fn serve(
    listener: TcpListener,
    hub: Arc<Hub>,
    limits: Arc<Limits>,
    flushers: Arc<Flushers>,
    tls: Option<Arc<Certificate>>,
    shutdown: Shutdown,
) {
    // Socket ids are `<prefix>.<counter>`; a random prefix keeps them unique across restarts and nodes.
    let prefix = (super::random::random_u64() % 1_000_000_000) as u32;
    let mut counter = 1u64;
    let stop = shutdown.clone();
    super::accept_loop(listener, "WebSocket connections", stop, |stream| {
        let id = counter;
        counter += 1;
        let flusher = flushers.for_connection(id);
        let (hub, limits, shutdown) = (hub.clone(), limits.clone(), shutdown.clone());
        let Some(certificate) = &tls else {
            tokio::spawn(connection(
                stream, FromSocket, hub, limits, flusher, shutdown, prefix, id,
            ));
            return;
        };
        // The relayed socket has no address of its own: the client's is passed along.
        let peer = stream
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let timeout = limits.handshake_timeout;
        tokio::spawn(tls::terminate(
            stream,
            certificate.acceptor(),
            timeout,
            move |inner| connection(inner, peer, hub, limits, flusher, shutdown, prefix, id),
        ));
    })
    .await;
}

/// Where a connection's client address comes from: its socket ([`FromSocket`]), or, for a
/// connection relayed from TLS, whose socket has no address, the TLS connection's (`IpAddr`).
/// Generic so that a plain connection's task carries nothing for it.
trait PeerAddr: Send + 'static {
    fn resolve(self, stream: &TcpStream) -> IpAddr;
}

struct FromSocket;

impl PeerAddr for FromSocket {
    fn resolve(self, stream: &TcpStream) -> IpAddr {
        stream
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip())
    }
}

impl PeerAddr for IpAddr {
    fn resolve(self, _: &TcpStream) -> IpAddr {
        self
    }
}

/// Serves one connection.
#[allow(clippy::too_many_arguments)]
async fn connection(
    stream: TcpStream,
    peer: impl PeerAddr,
    hub: Arc<Hub>,
    limits: Arc<Limits>,
    flusher: Arc<Flusher>,
    shutdown: Shutdown,
    prefix: u32,
    id: u64,
) {
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
    // Boxed: the handshake's state is only needed for a moment; unboxed, every connection's task
    // would keep room for it for the connection's whole life.
    let request = Box::pin(tokio::time::timeout(
        limits.handshake_timeout,
        upgrade::read_request(&stream),
    ));
    let upgrade = match request.await {
        Ok(Outcome::Upgrade(upgrade)) => upgrade,
        Ok(Outcome::Refuse(refusal)) => {
            outbox.send_raw(Bytes::from(refusal.response()));
            Box::pin(end_connection(&outbox, &stream, limits.close_timeout)).await;
            return;
        }
        Ok(Outcome::Gone) | Err(_) => return,
    };
    // Held until the connection ends: it counts against the client's address. Boxed: with the
    // per-IP limits off (the default) it costs every connection's task one pointer, not 32 bytes.
    let _ip_slot = match admit(&upgrade, &stream, peer, &hub, &limits) {
        Ok(slot) => slot.map(Box::new),
        Err(refusal) => {
            outbox.send_raw(Bytes::from(refusal.response()));
            Box::pin(end_connection(&outbox, &stream, limits.close_timeout)).await;
            return;
        }
    };
    outbox.send_raw(Bytes::from(upgrade.response));
    let socket = Socket::new(stream, outbox.clone());
    // Boxed for the same reason; the head's buffer is gone, only the bytes behind it are kept.
    let mut ws = Box::pin(WebSocketStream::from_partially_read(
        socket,
        upgrade.rest,
        Role::Server,
        Some(config),
    ))
    .await;
    let key = upgrade.app_key;
    let Some(app) = hub.app_by_key(&key).cloned() else {
        let message = format!("App key {key} does not exist on this server");
        Box::pin(refuse(
            &mut ws,
            &outbox,
            ErrorCode::AppNotFound,
            &message,
            limits.close_timeout,
        ))
        .await;
        return;
    };
    drop(key);
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
            Box::pin(refuse(&mut ws, &outbox, code, &message, limits.close_timeout)).await;
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

/// Checks who is connecting before the upgrade is answered: the page's origin against the app's
/// `allowed_origins` (403), then the client's address against the per-IP limits (429).
fn admit(
    upgrade: &upgrade::Upgrade,
    stream: &TcpStream,
    peer: impl PeerAddr,
    hub: &Hub,
    limits: &Arc<Limits>,
) -> Result<Option<IpSlot>, upgrade::Refusal> {
    let edge = &upgrade.edge;
    let client = limits.trusted_proxies.client_ip(
        peer.resolve(stream),
        edge.forwarded_for.as_deref().into_iter(),
        edge.real_ip.as_deref(),
    );
    let refused = |status, message| {
        tracing::debug!(app_key = %upgrade.app_key, client = %client, reason = message, "connection refused");
        upgrade::Refusal { status, message }
    };
    match hub.app_by_key(&upgrade.app_key) {
        Some(app) => {
            let origins = &app.config.allowed_origins;
            if !origins.allows(edge.origin.as_deref(), app.config.allowed_origins_strict) {
                return Err(refused(
                    403,
                    match edge.origin {
                        Some(_) => "Origin not allowed for this app",
                        None => "This app only accepts connections that send an Origin header",
                    },
                ));
            }
        }
        // Refused after the upgrade, with 4001, so a Pusher client stops retrying.
        None => {
            tracing::debug!(app_key = %upgrade.app_key, client = %client, "connection refused: unknown app key")
        }
    }
    limits
        .ip_limits
        .admit(client, Instant::now().into_std())
        .map_err(|over| refused(429, over.message()))
}

/// Why the connection loop ended, and what (if anything) to tell the client.
enum End {
    Gone,
    Close(u16, String),
    /// The client sent a close frame (with this code; 1005 without one); it waits for ours.
    ClosedByClient(u16),
}

/// Close code 1006: the connection dropped without a close frame.
const CLOSE_ABNORMAL: u16 = 1006;

async fn run(
    mut ws: Ws,
    mut session: Session,
    outbox: &ConnectionOutbox,
    app: &AppHub,
    limits: &Limits,
    shutdown: Shutdown,
) {
    let mut last_seen = Instant::now();
    // Apps that require it close connections that neither sign in nor join a private channel in time.
    let auth_timeout = app.config.user_authentication_timeout;
    let mut auth_deadline = (auth_timeout > 0).then(|| last_seen + Duration::from_secs(auth_timeout));
    let mut pinged_at: Option<Instant> = None;
    let mut deadline = last_seen + limits.activity_timeout;
    limits.console.tap.connection_opened(app, &session);
    let end = loop {
        tokio::select! {
            biased;
            // Boxed (here and below): rare paths whose state would otherwise enlarge every
            // connection's task for its whole life.
            _ = outbox.pending() => match Box::pin(outbox.write_when_writable(limits.write_timeout)).await {
                Flushed::Idle => {}
                Flushed::Close(code, reason) => break End::Close(code, reason),
                Flushed::Broken => break End::Gone,
            },
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    last_seen = Instant::now();
                    send::client_message(&mut session, text.as_str(), &*limits.console.tap);
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
                Some(Ok(Message::Close(frame))) => {
                    break End::ClosedByClient(frame.map_or(1005, |f| u16::from(f.code)));
                }
                Some(Ok(Message::Frame(_))) | None => break End::Gone,
                Some(Err(error)) => match close_for(&error) {
                    Some((code, reason)) => break End::Close(code, reason),
                    None => break End::Gone,
                },
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
            _ = shutdown.cancelled() => {
                break End::Close(ErrorCode::ReconnectNow.code(), "Server shutting down".into());
            }
        }
    };
    let code = match end {
        End::Close(code, _) | End::ClosedByClient(code) => code,
        End::Gone => CLOSE_ABNORMAL,
    };
    // Counted before the connection leaves the gauge, so a scrape never sees it in neither.
    app.counters.connection_closed(code);
    limits.console.tap.connection_closed(app, &session, code);
    // Leave channels (member_removed, counts) before the socket is closed.
    drop(session);
    match end {
        End::Close(code, reason) => {
            Box::pin(close_gracefully(
                &mut ws,
                outbox,
                code,
                &reason,
                limits.close_timeout,
            ))
            .await
        }
        End::ClosedByClient(_) => Box::pin(answer_close(&mut ws, outbox, limits.close_timeout)).await,
        End::Gone => {}
    }
}
