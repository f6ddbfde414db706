//! A WebSocket client that writes frames byte for byte, for tests that send what a client library
//! never would (RFC 6455 violations, odd fragmentations, requests with broken upgrade heads) and
//! read exactly what the server answers, down to the TCP close.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// How long any single expected answer may take.
const WAIT: Duration = Duration::from_secs(3);

/// A frame as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// A masked client frame: `rsv` holds the three reserved bits (0b100 is RSV1).
pub fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(fin, rsv, opcode, payload.len(), true);
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// A final, masked frame without reserved bits.
pub fn whole(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(true, 0, opcode, payload)
}

/// A client frame without a mask (which RFC 6455 §5.1 forbids).
pub fn unmasked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(true, 0, opcode, payload.len(), false);
    out.extend_from_slice(payload);
    out
}

/// A close frame's payload: the code, then the reason bytes.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

fn header(fin: bool, rsv: u8, opcode: u8, len: usize, masked: bool) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | ((rsv & 7) << 4) | (opcode & 0xf)];
    let mask_bit = if masked { 0x80 } else { 0 };
    match len {
        0..=125 => out.push(mask_bit | len as u8),
        126..=65535 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out
}

/// `pusher:ping` padded to exactly `len` bytes (at least 40).
pub fn pusher_ping(len: usize) -> String {
    let (head, tail) = (r#"{"event":"pusher:ping","data":{"p":""#, r#""}}"#);
    assert!(len >= head.len() + tail.len(), "a pusher:ping needs 40 bytes");
    format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
}

/// The server's answer to `pusher:ping`.
pub const PUSHER_PONG: &str = r#"{"event":"pusher:pong","data":"{}"}"#;

/// A standard upgrade request for `path`.
pub fn upgrade_request(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Sends `request` as is and returns everything the server answers up to its closing the
/// connection (panics if it does not close within 3 s).
pub async fn http_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send request");
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes the connection within 3 s")
        .expect("the connection ends with FIN, not a reset");
    String::from_utf8_lossy(&answer).into_owned()
}

pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawWs {
    /// Upgrades on `/app/{key}` and reads `pusher:connection_established`.
    pub async fn open(addr: SocketAddr, key: &str) -> RawWs {
        let request = upgrade_request(&format!("/app/{key}?protocol=7"));
        let mut ws = RawWs::upgrade(addr, request.as_bytes()).await;
        let established = ws.next_text().await;
        assert!(
            established.contains("pusher:connection_established"),
            "{established}"
        );
        ws
    }

    /// Sends `request` and reads the `101` answer (panics on anything else).
    pub async fn upgrade(addr: SocketAddr, request: &[u8]) -> RawWs {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request).await.expect("send request");
        let mut ws = RawWs {
            stream,
            buf: Vec::new(),
        };
        let end = loop {
            if let Some(end) = ws.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            assert!(ws.fill().await, "connection ended during the handshake");
        };
        let head = String::from_utf8_lossy(&ws.buf[..end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        ws.buf.drain(..end);
        ws
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// Writes `bytes` `chunk` bytes at a time, so the server sees them in separate reads.
    pub async fn send_in_chops(&mut self, bytes: &[u8], chunk: usize) {
        for part in bytes.chunks(chunk) {
            self.send(part).await;
            self.stream.flush().await.expect("flush");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.send(&whole(TEXT, text.as_bytes())).await;
    }

    /// Reads more bytes; false at the end of the stream.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(WAIT, self.stream.read(&mut chunk))
            .await
            .expect("the server answers within 3 s")
            .expect("the connection is not reset");
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// The next frame, or None if the server closed the TCP connection first.
    pub async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            if !self.fill().await {
                assert!(self.buf.is_empty(), "connection ended inside a frame");
                return None;
            }
        }
    }

    /// The next frame, which must be a final text frame.
    pub async fn next_text(&mut self) -> String {
        let frame = self
            .next_frame()
            .await
            .expect("a text frame, not the end of the connection");
        assert_eq!((frame.fin, frame.opcode), (true, TEXT), "{frame:?}");
        String::from_utf8(frame.payload).expect("UTF-8 text")
    }

    /// The close frame that must come next (text frames before it are skipped), then the end of the
    /// TCP connection, which the server must begin. Returns the close payload.
    pub async fn closed(&mut self) -> Vec<u8> {
        let payload = loop {
            match self.next_frame().await {
                Some(Frame {
                    opcode: CLOSE,
                    payload,
                    ..
                }) => break payload,
                Some(Frame { opcode: TEXT, .. }) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        };
        assert_eq!(
            self.next_frame().await,
            None,
            "the server closes TCP after its close frame"
        );
        payload
    }

    /// The close code of [`RawWs::closed`].
    pub async fn close_code(&mut self) -> u16 {
        let payload = self.closed().await;
        assert!(payload.len() >= 2, "close frame without a code: {payload:?}");
        u16::from_be_bytes([payload[0], payload[1]])
    }

    /// `pusher:ping` gets `pusher:pong`: the connection still works.
    pub async fn still_works(&mut self) {
        self.send_text(&pusher_ping(40)).await;
        assert_eq!(self.next_text().await, PUSHER_PONG);
    }
}

fn parse_frame(buf: &[u8]) -> Option<(Frame, usize)> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    assert_eq!(b1 & 0x80, 0, "server frames are not masked");
    let (len, at) = match b1 & 0x7f {
        126 => (u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize, 4),
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize, 10),
        n => (n as usize, 2),
    };
    let payload = buf.get(at..at + len)?.to_vec();
    Some((
        Frame {
            fin: b0 & 0x80 != 0,
            opcode: b0 & 0x0f,
            payload,
        },
        at + len,
    ))
}
