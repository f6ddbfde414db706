//! The byte stream tungstenite sees: reads straight from the shared TCP socket, writes into the
//! connection's [`ConnectionOutbox`] so that its handshake answer, pongs and close frames stay
//! in order with the frames the hub writes directly. It also owns the end of the connection
//! ([`finish`]).

use super::outbox::ConnectionOutbox;
use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub(crate) struct Socket {
    stream: Arc<TcpStream>,
    outbox: Arc<ConnectionOutbox>,
}

impl Socket {
    pub fn new(stream: Arc<TcpStream>, outbox: Arc<ConnectionOutbox>) -> Socket {
        Socket { stream, outbox }
    }
}

impl Socket {
    /// The TCP connection itself.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

/// Ends a connection whose last bytes are written, as RFC 6455 §7.1.1 asks of a server: send FIN
/// first, then read (and drop) whatever the client still sends until it closes too. Closing with
/// unread bytes would make the kernel answer with a reset, which can overtake our close frame or
/// HTTP answer: the client would then report 1006 or a failed connection instead. The caller
/// bounds the wait; nothing read is kept.
pub(crate) async fn finish(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain call on a file descriptor `stream` keeps open for the duration of the call.
    unsafe { libc::shutdown(stream.as_raw_fd(), libc::SHUT_WR) };
    let mut sink = [0u8; 256];
    loop {
        match stream.try_read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if stream.readable().await.is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.stream.poll_read_ready(cx))?;
            match self.stream.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // Accepted at once; the outbox writes or queues it, bounded by max_send_queue.
        self.outbox.send_raw(Bytes::copy_from_slice(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
