//! Frames on the wire: one connection's queue of whole WebSocket frames, and the system calls
//! that write it. Knows nothing of who writes (a flusher or the connection's task) or when; the
//! outbox decides that.

use bytes::Bytes;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, RawFd};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

/// At most this many frames go into one `writev`.
const BATCH: usize = 64;

/// Whole WebSocket frames, as they go on the wire, oldest first.
#[derive(Default)]
pub(super) struct Frames {
    chunks: VecDeque<Bytes>,
    bytes: usize,
    /// Bytes of the front chunk already written.
    front_written: usize,
}

/// How far one write got.
pub(super) enum Attempt {
    /// The queue is empty.
    Done,
    /// The socket is full.
    Blocked,
    Failed,
}

/// How a write reaches the kernel.
#[derive(Clone, Copy)]
pub(super) enum Via {
    /// Through tokio, which tracks readiness: the connection task, which may wait for the socket.
    Tokio,
    /// Straight to the socket: the flusher, which never waits. Saves tokio's readiness bookkeeping
    /// and, for a single frame (the common case in a fan-out), writev's iovec handling. On EAGAIN
    /// the connection task takes over, and its first write through tokio clears the readiness
    /// tokio still believes in.
    Direct,
}

impl Frames {
    /// Queued bytes, which `max_send_queue` bounds.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn push(&mut self, chunk: Bytes) {
        self.bytes += chunk.len();
        self.chunks.push_back(chunk);
    }

    /// Drops every frame not yet started: a frame already half written stays, or the stream
    /// would be cut mid-frame.
    pub fn drop_unstarted(&mut self) {
        let keep = usize::from(self.front_written > 0);
        self.chunks.truncate(keep);
        self.bytes = self.chunks.front().map_or(0, Bytes::len);
    }

    /// Writes queued frames until the queue is empty or the socket is full.
    pub fn write(&mut self, stream: &TcpStream, via: Via) -> Attempt {
        while !self.chunks.is_empty() {
            let mut slices = [IoSlice::new(&[]); BATCH];
            let mut n = 0;
            for (i, chunk) in self.chunks.iter().take(BATCH).enumerate() {
                let skip = if i == 0 { self.front_written } else { 0 };
                slices[n] = IoSlice::new(&chunk[skip..]);
                n += 1;
            }
            let written = match via {
                Via::Tokio => stream.try_write_vectored(&slices[..n]),
                Via::Direct => send_now(stream.as_raw_fd(), &slices[..n]),
            };
            match written {
                Ok(written) => self.consume(written),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Attempt::Blocked,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Attempt::Failed,
            }
        }
        Attempt::Done
    }

    /// Drops `written` bytes from the front of the queue.
    fn consume(&mut self, written: usize) {
        self.bytes = self.bytes.saturating_sub(written);
        let mut left = self.front_written + written;
        while let Some(front) = self.chunks.front() {
            if left < front.len() {
                break;
            }
            left -= front.len();
            self.chunks.pop_front();
        }
        self.front_written = left;
    }
}

/// `payload` as one unmasked WebSocket text frame (FIN, text opcode, length, payload).
pub(super) fn text_frame(payload: &[u8]) -> Bytes {
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
