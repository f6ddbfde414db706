//! The send side of one WebSocket connection: a queue of whole frames, written in batches.
//!
//! The hub appends frames from whatever thread publishes (each message is framed for WebSocket
//! once, by its first recipient, and every queue holds a reference to the same bytes: nothing is
//! copied or encoded per recipient) and schedules the connection on its [`Flusher`]. When the
//! socket cannot take everything, the connection's own task waits for it to become writable and
//! continues. Bytes from tungstenite (handshake, pongs, close frames) use the same queue, so the
//! stream stays in order. A client whose queue grows past `max_send_queue` is closed with 4100
//! instead of growing memory without bound.

use super::flusher::{Batch, Flusher};
use crate::hub::{Frame, Outbox};
use crate::protocol::ErrorCode;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Weak};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

/// At most this many frames go into one `writev`.
const BATCH: usize = 64;

#[derive(Default)]
struct Queue {
    /// Whole WebSocket frames, as they go on the wire.
    chunks: VecDeque<Bytes>,
    bytes: usize,
    /// Bytes of the front chunk already written.
    front_written: usize,
    /// On its flusher's list.
    scheduled: bool,
    /// The connection task waits for writability and will write.
    waiting: bool,
    close: Option<(u16, String)>,
    broken: bool,
}

pub(crate) struct ConnectionOutbox {
    stream: Arc<TcpStream>,
    queue: Mutex<Queue>,
    /// Wakes the connection task: the socket was full, or a close was asked for.
    pending: Notify,
    max_bytes: usize,
    /// Weak: the flusher's list holds outboxes, and a cycle would keep sockets open forever.
    flusher: Weak<Flusher>,
    me: Weak<ConnectionOutbox>,
}

/// What the connection task should do after flushing.
pub(crate) enum Flushed {
    Idle,
    Close(u16, String),
    Broken,
}

/// `payload` as one unmasked WebSocket text frame (FIN, text opcode, length, payload).
fn text_frame(payload: &[u8]) -> Bytes {
    let header = FrameHeader {
        opcode: OpCode::Data(Data::Text),
        ..FrameHeader::default()
    };
    let mut out = Vec::with_capacity(10 + payload.len());
    // Writing into a Vec cannot fail.
    let _ = header.format(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    Bytes::from(out)
}

enum Attempt {
    Done,
    Blocked,
    Failed,
}

impl ConnectionOutbox {
    pub fn new(stream: Arc<TcpStream>, max_bytes: usize, flusher: Arc<Flusher>) -> Arc<ConnectionOutbox> {
        Arc::new_cyclic(|me| ConnectionOutbox {
            stream,
            queue: Mutex::new(Queue::default()),
            pending: Notify::new(),
            max_bytes,
            flusher: Arc::downgrade(&flusher),
            me: me.clone(),
        })
    }

    /// Resolves when the task has work: a full socket to wait for, or a close request.
    pub async fn pending(&self) {
        self.pending.notified().await
    }

    /// Queues already-framed bytes (tungstenite's handshake answer and control frames).
    pub fn send_raw(&self, bytes: Bytes) {
        self.push(bytes);
    }

    fn push(&self, chunk: Bytes) {
        let mut q = self.queue.lock();
        if q.broken || q.close.is_some() {
            return;
        }
        if q.bytes + chunk.len() > self.max_bytes {
            // Keep only a frame already half written, then say goodbye.
            let keep = usize::from(q.front_written > 0);
            q.chunks.truncate(keep);
            q.bytes = q.chunks.front().map_or(0, Bytes::len);
            q.close = Some((
                ErrorCode::OverCapacity.code(),
                "Client too slow: send queue overflowed".into(),
            ));
            drop(q);
            self.pending.notify_one();
            return;
        }
        q.bytes += chunk.len();
        q.chunks.push_back(chunk);
        let schedule = !q.scheduled && !q.waiting;
        q.scheduled |= schedule;
        drop(q);
        if !schedule {
            return;
        }
        let Some(me) = self.me.upgrade() else {
            return; // being dropped: nobody is left to write to
        };
        let Err(me) = Batch::defer(&self.flusher, me) else {
            return;
        };
        match self.flusher.upgrade() {
            Some(flusher) => flusher.schedule(me),
            // Shutting down: the connection task writes what is left.
            None => self.pending.notify_one(),
        }
    }

    /// Writes as much as the socket takes now; called by the flusher.
    pub fn write_now(&self) {
        let mut q = self.queue.lock();
        q.scheduled = false;
        if q.waiting {
            return;
        }
        match write_queue(&self.stream, &mut q, Via::Direct) {
            Attempt::Done => {}
            Attempt::Blocked => {
                q.waiting = true;
                drop(q);
                self.pending.notify_one();
            }
            Attempt::Failed => {
                q.broken = true;
                drop(q);
                self.pending.notify_one();
            }
        }
    }

    /// Writes everything queued, waiting for the socket as needed (the connection task).
    pub async fn flush(&self) -> Flushed {
        loop {
            {
                let mut q = self.queue.lock();
                if q.broken {
                    return Flushed::Broken;
                }
                match write_queue(&self.stream, &mut q, Via::Tokio) {
                    Attempt::Done => {
                        q.waiting = false;
                        return match q.close.take() {
                            Some((code, reason)) => Flushed::Close(code, reason),
                            None => Flushed::Idle,
                        };
                    }
                    Attempt::Blocked => q.waiting = true,
                    Attempt::Failed => {
                        q.broken = true;
                        return Flushed::Broken;
                    }
                }
            }
            if self.stream.writable().await.is_err() {
                return Flushed::Broken;
            }
        }
    }
}

/// How a write reaches the kernel.
#[derive(Clone, Copy)]
enum Via {
    /// Through tokio, which tracks readiness: the connection task, which may wait for the socket.
    Tokio,
    /// Straight to the socket: the flusher, which never waits. Saves tokio's readiness bookkeeping
    /// and, for a single frame (the common case in a fan-out), writev's iovec handling. On EAGAIN
    /// the connection task takes over, and its first write through tokio clears the readiness
    /// tokio still believes in.
    Direct,
}

/// Writes queued frames until the queue is empty or the socket is full.
fn write_queue(stream: &TcpStream, q: &mut Queue, via: Via) -> Attempt {
    while !q.chunks.is_empty() {
        let mut slices = [IoSlice::new(&[]); BATCH];
        let mut n = 0;
        for (i, chunk) in q.chunks.iter().take(BATCH).enumerate() {
            let skip = if i == 0 { q.front_written } else { 0 };
            slices[n] = IoSlice::new(&chunk[skip..]);
            n += 1;
        }
        let written = match via {
            Via::Tokio => stream.try_write_vectored(&slices[..n]),
            Via::Direct => send_now(stream.as_raw_fd(), &slices[..n]),
        };
        match written {
            Ok(written) => consume(q, written),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Attempt::Blocked,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Attempt::Failed,
        }
    }
    Attempt::Done
}

/// One non-blocking `send(2)`, or `sendmsg(2)` for several slices; never raises SIGPIPE.
fn send_now(fd: RawFd, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    let sent = if let [one] = slices {
        // SAFETY: the pointer and length come from a live slice.
        unsafe { libc::send(fd, one.as_ptr().cast(), one.len(), flags) }
    } else {
        // SAFETY: IoSlice is guaranteed ABI-compatible with iovec on Unix; the slices outlive the
        // call and the kernel only reads them; every other msghdr field is zero (no address,
        // no control data).
        unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = slices.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = slices.len() as _;
            libc::sendmsg(fd, &msg, flags)
        }
    };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

/// Drops `written` bytes from the front of the queue.
fn consume(q: &mut Queue, written: usize) {
    q.bytes = q.bytes.saturating_sub(written);
    let mut left = q.front_written + written;
    while let Some(front) = q.chunks.front() {
        if left < front.len() {
            break;
        }
        left -= front.len();
        q.chunks.pop_front();
    }
    q.front_written = left;
}

impl Outbox for ConnectionOutbox {
    fn send(&self, frame: Frame) {
        self.push(frame.encoded(text_frame));
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
    use super::text_frame;

    #[test]
    fn text_frames_carry_the_three_length_forms_then_the_payload() {
        let header = |len: usize| {
            let frame = text_frame(&vec![b'x'; len]);
            assert_eq!(&frame[frame.len() - len..], &vec![b'x'; len][..]);
            frame[..frame.len() - len].to_vec()
        };
        assert_eq!(header(5), [0x81, 5]);
        assert_eq!(header(300), [0x81, 126, 1, 44]);
        assert_eq!(header(70_000), [0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
    }
}
