//! The send side of one WebSocket connection: frames go straight to the socket when it can
//! take them, and queue only when it cannot.
//!
//! A publish writes each recipient's frame from the publishing thread with one non-blocking
//! `writev` (the frame header, built on the stack, plus the shared payload: nothing is copied
//! per recipient and no task is woken). Only when the kernel's send buffer is full, or frames
//! are already waiting, does a frame join the queue, which the connection's task writes in
//! batches once the socket is writable again. Bytes from tungstenite (pongs, close frames) take
//! the same path, so the byte stream stays in order. A client whose queue grows past
//! `max_send_queue` is closed with 4100 rather than letting memory grow without bound.

use crate::hub::{Frame, Outbox};
use crate::protocol::ErrorCode;
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

/// At most this many queued buffers go into one `writev`.
const BATCH: usize = 64;

/// Each queued buffer is whole frames, so dropping buffers never cuts a frame in two, except
/// the front one once a write took part of it.
#[derive(Default)]
struct Queue {
    buffers: VecDeque<Bytes>,
    bytes: usize,
    front_started: bool,
    close: Option<(u16, String)>,
    broken: bool,
}

pub(crate) struct ConnectionOutbox {
    stream: Arc<TcpStream>,
    queue: Mutex<Queue>,
    /// Wakes the connection task: something is queued, or a close was asked for.
    pending: Notify,
    max_bytes: usize,
}

/// What the connection task should do after flushing.
pub(crate) enum Flushed {
    Idle,
    Close(u16, String),
    Broken,
}

/// A text frame's header: FIN + text opcode + payload length (server frames are not masked).
fn text_header(len: usize, out: &mut [u8; 14]) -> usize {
    let header = FrameHeader {
        opcode: OpCode::Data(Data::Text),
        ..FrameHeader::default()
    };
    let mut cursor = io::Cursor::new(&mut out[..]);
    match header.format(len as u64, &mut cursor) {
        Ok(()) => cursor.position() as usize,
        Err(_) => 0,
    }
}

impl ConnectionOutbox {
    pub fn new(stream: Arc<TcpStream>, max_bytes: usize) -> ConnectionOutbox {
        ConnectionOutbox {
            stream,
            queue: Mutex::new(Queue::default()),
            pending: Notify::new(),
            max_bytes,
        }
    }

    /// Resolves when the task has work: queued bytes or a close request.
    pub async fn pending(&self) {
        self.pending.notified().await
    }

    /// Writes already-framed bytes (tungstenite's control frames) in order with everything else.
    pub fn send_raw(&self, bytes: Bytes) {
        let mut q = self.queue.lock();
        if q.broken {
            return;
        }
        if q.buffers.is_empty() {
            match self.stream.try_write(&bytes) {
                Ok(n) if n == bytes.len() => return,
                Ok(n) => {
                    self.enqueue(&mut q, bytes.slice(n..));
                    q.front_started = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.enqueue(&mut q, bytes),
                Err(_) => q.broken = true,
            }
        } else {
            self.enqueue(&mut q, bytes);
        }
        drop(q);
        self.pending.notify_one();
    }

    fn enqueue(&self, q: &mut Queue, bytes: Bytes) {
        if q.bytes + bytes.len() > self.max_bytes && q.close.is_none() {
            // Keep only a frame already half written, then say goodbye.
            q.buffers.truncate(usize::from(q.front_started));
            q.bytes = q.buffers.front().map_or(0, Bytes::len);
            let reason = "Client too slow: send queue overflowed";
            q.close = Some((ErrorCode::OverCapacity.code(), reason.into()));
            return;
        }
        if q.close.is_some() {
            return;
        }
        q.bytes += bytes.len();
        q.buffers.push_back(bytes);
    }

    /// Writes what is queued until the queue is empty, waiting for the socket as needed.
    pub async fn flush(&self) -> Flushed {
        loop {
            {
                let mut q = self.queue.lock();
                if q.broken {
                    return Flushed::Broken;
                }
                while !q.buffers.is_empty() {
                    let slices: Vec<IoSlice<'_>> =
                        q.buffers.iter().take(BATCH).map(|b| IoSlice::new(b)).collect();
                    match self.stream.try_write_vectored(&slices) {
                        Ok(written) => consume(&mut q, written),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            q.broken = true;
                            return Flushed::Broken;
                        }
                    }
                }
                if q.buffers.is_empty() {
                    return match q.close.take() {
                        Some((code, reason)) => Flushed::Close(code, reason),
                        None => Flushed::Idle,
                    };
                }
            }
            if self.stream.writable().await.is_err() {
                return Flushed::Broken;
            }
        }
    }
}

/// Header and payload as one buffer, minus the first `skip` bytes already written. Only frames
/// that must wait are copied; the direct path writes the shared payload in place.
fn framed(header: &[u8], payload: &Bytes, skip: usize) -> Bytes {
    let mut out = BytesMut::with_capacity(header.len() + payload.len());
    out.extend_from_slice(header);
    out.extend_from_slice(payload);
    out.freeze().slice(skip..)
}

/// Drops `written` bytes from the front of the queue.
fn consume(q: &mut Queue, mut written: usize) {
    q.bytes = q.bytes.saturating_sub(written);
    while written > 0 {
        let Some(front) = q.buffers.front_mut() else { break };
        if written >= front.len() {
            written -= front.len();
            q.buffers.pop_front();
            q.front_started = false;
        } else {
            *front = front.slice(written..);
            q.front_started = true;
            written = 0;
        }
    }
}

impl Outbox for ConnectionOutbox {
    fn send(&self, frame: Frame) {
        let payload = frame.into_bytes();
        let mut header = [0u8; 14];
        let header_len = text_header(payload.len(), &mut header);
        let mut q = self.queue.lock();
        if q.broken || q.close.is_some() {
            return;
        }
        if q.buffers.is_empty() {
            let slices = [IoSlice::new(&header[..header_len]), IoSlice::new(&payload)];
            let total = header_len + payload.len();
            match self.stream.try_write_vectored(&slices) {
                Ok(n) if n == total => return,
                Ok(n) => {
                    self.enqueue(&mut q, framed(&header[..header_len], &payload, n));
                    q.front_started = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.enqueue(&mut q, framed(&header[..header_len], &payload, 0));
                }
                Err(_) => q.broken = true,
            }
        } else {
            self.enqueue(&mut q, framed(&header[..header_len], &payload, 0));
        }
        drop(q);
        self.pending.notify_one();
    }

    fn close(&self, code: u16, reason: &str) {
        let mut q = self.queue.lock();
        if q.close.is_none() {
            q.close = Some((code, reason.to_owned()));
        }
        drop(q);
        self.pending.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::text_header;

    #[test]
    fn text_headers_encode_the_three_length_forms() {
        let header = |len| {
            let mut h = [0u8; 14];
            let n = text_header(len, &mut h);
            h[..n].to_vec()
        };
        assert_eq!(header(5), [0x81, 5]);
        assert_eq!(header(300), [0x81, 126, 1, 44]);
        assert_eq!(header(70_000), [0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
    }
}
