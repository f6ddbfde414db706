//! Waiting a few microseconds for a quick caller's next request by asking its socket directly.
//!
//! A caller such as `Api::trigger` in a loop sends its next request a few microseconds after it
//! reads an answer. By then the server thread has gone to sleep in epoll, and waking it again
//! (on a VM: an inter-processor interrupt and a halted vCPU to resume) takes longer than the
//! request's own work, so it sets the pace of the whole loop. [`BusyPoll`] reads the socket with
//! `recv(MSG_DONTWAIT)` for up to `window` after each answer instead, but only while waiting
//! costs nobody else anything:
//! - the caller was quick last time (its request came within `window` of the answer before);
//!   a caller that pauses pays for one unanswered window, then waits in epoll until it is quick
//!   again;
//! - no other connection's request came in the last [`SHARED_FOR`]: callers that take turns
//!   keep both threads busy anyway, and a thread waiting for one would keep the others waiting;
//! - no flusher has frames to write (a publish's deliveries go first);
//! - after [`MAX_HITS_IN_ROW`] requests caught this way, one goes through epoll, so the thread
//!   sees the other sockets' events.

use super::send::Pending;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long after another connection's request the server counts as shared between callers.
const SHARED_FOR: Duration = Duration::from_millis(1);

/// Requests caught by polling before one goes through epoll.
const MAX_HITS_IN_ROW: u32 = 8;

/// What one server's HTTP API connections know of each other, and of the flushers.
pub(crate) struct Callers {
    window: Duration,
    flushers: Pending,
    started: Instant,
    next_id: AtomicU64,
    /// The connection that read the last request.
    last_reader: AtomicU64,
    /// Until when (nanoseconds since `started`) callers count as taking turns.
    shared_until: AtomicU64,
}

impl Callers {
    /// `window` zero turns polling off: connections then behave exactly as their socket.
    pub fn new(window: Duration, flushers: Pending) -> Arc<Callers> {
        Arc::new(Callers {
            window,
            flushers,
            started: Instant::now(),
            next_id: AtomicU64::new(1),
            last_reader: AtomicU64::new(0),
            shared_until: AtomicU64::new(0),
        })
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_nanos() as u64
    }

    fn shared(&self) -> bool {
        self.now() < self.shared_until.load(Ordering::Relaxed)
    }

    /// Connection `id` read a request; if another one read the last, callers are taking turns.
    fn request_read_by(&self, id: u64) {
        if self.last_reader.swap(id, Ordering::Relaxed) != id {
            let until = self.now() + SHARED_FOR.as_nanos() as u64;
            self.shared_until.store(until, Ordering::Relaxed);
        }
    }
}

/// A connected socket (TCP or Unix: `recv` works the same on both) that polls for a quick caller.
pub(crate) struct BusyPoll<S> {
    id: u64,
    stream: S,
    callers: Arc<Callers>,
    /// When the last answer was written, until the next request settles whether it was quick.
    answered_at: Option<Instant>,
    /// Whether the last request came within `window` of the answer before it.
    quick: bool,
    hits_in_row: u32,
}

impl<S: AsRawFd> BusyPoll<S> {
    pub fn new(stream: S, callers: Arc<Callers>) -> BusyPoll<S> {
        BusyPoll {
            id: callers.next_id.fetch_add(1, Ordering::Relaxed),
            stream,
            quick: !callers.window.is_zero(),
            callers,
            answered_at: None,
            hits_in_row: 0,
        }
    }

    fn may_poll(&self, buf: &ReadBuf<'_>) -> bool {
        // An empty buffer would read 0 bytes, which the caller would take for the end of stream.
        buf.remaining() > 0
            && self.quick
            && self.hits_in_row < MAX_HITS_IN_ROW
            && !self.callers.shared()
            && self.callers.flushers.all_flushed()
    }

    /// Reads until data, end of stream or an error arrives (`Some`), or until `window` after
    /// `since` has passed or a flusher got work (`None`).
    fn poll_socket(&self, buf: &mut ReadBuf<'_>, since: Instant) -> Option<io::Result<()>> {
        let fd = self.stream.as_raw_fd();
        loop {
            // SAFETY: `recv` writes at most `unfilled.len()` bytes into the unfilled (possibly
            // uninitialised) part of the buffer and returns how many; exactly those are then
            // marked initialised and filled, as tokio's own `TcpStream::poll_read` does.
            let n = unsafe {
                let unfilled = buf.unfilled_mut();
                libc::recv(
                    fd,
                    unfilled.as_mut_ptr().cast(),
                    unfilled.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n >= 0 {
                let n = n as usize;
                // SAFETY: the kernel initialised these `n` bytes.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                return Some(Ok(()));
            }
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::WouldBlock => {}
                io::ErrorKind::Interrupted => continue,
                _ => return Some(Err(err)),
            }
            if since.elapsed() >= self.callers.window || !self.callers.flushers.all_flushed() {
                return None;
            }
            // Yield rather than spin: the caller may be waiting for this very core.
            std::thread::yield_now();
        }
    }

    /// A request arrived through epoll: was it quick, and was it another connection's turn?
    fn note_request(&mut self) {
        if let Some(answered_at) = self.answered_at.take() {
            self.quick = answered_at.elapsed() < self.callers.window;
        }
        self.hits_in_row = 0;
        self.callers.request_read_by(self.id);
    }
}

impl<S: AsyncRead + AsRawFd + Unpin> AsyncRead for BusyPoll<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(answered_at) = this.answered_at {
            if this.may_poll(buf) {
                if let Some(read) = this.poll_socket(buf, answered_at) {
                    this.answered_at = None;
                    this.hits_in_row += 1;
                    return Poll::Ready(read);
                }
                if answered_at.elapsed() >= this.callers.window {
                    this.quick = false;
                }
            }
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if read.is_ready() && buf.filled().len() > before {
            this.note_request();
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for BusyPoll<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        if !self.callers.window.is_zero() && matches!(written, Poll::Ready(Ok(_))) {
            self.answered_at = Some(Instant::now());
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::send::Flushers;

    /// Callers whose connection 1 read a request, longer ago than `SHARED_FOR`.
    fn callers_after_connection_1() -> Arc<Callers> {
        let callers = Callers::new(Duration::from_micros(50), Flushers::new(1).pending());
        callers.request_read_by(1);
        std::thread::sleep(SHARED_FOR * 2);
        callers
    }

    #[test]
    fn one_connection_reading_alone_has_the_server_to_itself() {
        let callers = callers_after_connection_1();
        callers.request_read_by(1);
        callers.request_read_by(1);
        assert!(!callers.shared());
    }

    #[test]
    fn a_request_on_another_connection_shares_the_server_for_a_while() {
        let callers = callers_after_connection_1();
        callers.request_read_by(2);
        assert!(callers.shared());
        std::thread::sleep(SHARED_FOR * 2);
        assert!(!callers.shared());
    }
}
