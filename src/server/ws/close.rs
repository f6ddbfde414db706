//! Ending a WebSocket connection: our close frame and a short wait for the client's, the
//! answer to a client's close, and the RFC 6455 close code for what a client did wrong. Every
//! wait is bounded by `close_timeout`, so a client that never answers cannot hold a connection.

use super::Ws;
use crate::hub::{Frame, Outbox};
use crate::protocol::error::{CLOSE_INVALID_PAYLOAD, CLOSE_MESSAGE_TOO_BIG, CLOSE_PROTOCOL_ERROR};
use crate::protocol::message::error_frame;
use crate::protocol::ErrorCode;
use crate::server::send::{finish, ConnectionOutbox, Flushed};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Writes what is queued, then closes the connection, our side first ([`finish`]), all within
/// `close_timeout`.
pub(super) async fn end_connection(outbox: &ConnectionOutbox, stream: &TcpStream, close_timeout: Duration) {
    let _ = tokio::time::timeout(close_timeout, async {
        if matches!(outbox.flush().await, Flushed::Idle) {
            finish(stream).await;
        }
    })
    .await;
}

pub(super) async fn refuse(
    ws: &mut Ws,
    outbox: &ConnectionOutbox,
    code: ErrorCode,
    message: &str,
    close_timeout: Duration,
) {
    outbox.send(Frame::from(error_frame(Some(code.code()), message)));
    close_gracefully(ws, outbox, code.code(), message, close_timeout).await;
}

/// Sends a close frame and waits (briefly) for the client's reply before the socket is closed:
/// a browser whose closing frame meets a reset reports 1006 instead of our code, and would
/// then reconnect even after a 40xx close. After a protocol error the stream reads nothing
/// more, and [`finish`] discards what the client still sends.
pub(super) async fn close_gracefully(
    ws: &mut Ws,
    outbox: &ConnectionOutbox,
    code: u16,
    reason: &str,
    within: Duration,
) {
    let _ = ws.close(Some(close_frame(code, reason))).await;
    let _ = tokio::time::timeout(within, async {
        if !matches!(outbox.flush().await, Flushed::Idle) {
            return;
        }
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() {
                break;
            }
        }
        if matches!(outbox.flush().await, Flushed::Idle) {
            finish(ws.get_ref().stream()).await;
        }
    })
    .await;
}

/// The client closed first: send tungstenite's answer (the client's code echoed, or 1002 for a
/// code no endpoint may send), then close the connection.
pub(super) async fn answer_close(ws: &mut Ws, outbox: &ConnectionOutbox, close_timeout: Duration) {
    let _ = ws.flush().await;
    end_connection(outbox, ws.get_ref().stream(), close_timeout).await;
}

/// The close code RFC 6455 §7.4.1 gives what the client did wrong; None when it is simply gone.
pub(super) fn close_for(error: &WsError) -> Option<(u16, String)> {
    match error {
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => Some((
            CLOSE_MESSAGE_TOO_BIG,
            format!("Message of {size} bytes exceeds the limit of {max_size}"),
        )),
        WsError::Capacity(e) => Some((CLOSE_MESSAGE_TOO_BIG, e.to_string())),
        WsError::Utf8(_) => Some((
            CLOSE_INVALID_PAYLOAD,
            "Invalid UTF-8 in a text message or close reason".into(),
        )),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        WsError::Protocol(e) => Some((CLOSE_PROTOCOL_ERROR, format!("Protocol error: {e}"))),
        _ => None,
    }
}

pub(super) fn close_frame(code: u16, reason: &str) -> CloseFrame {
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
