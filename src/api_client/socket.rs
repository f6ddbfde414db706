//! The client's end of one connection: a non-blocking TCP or Unix stream socket.
//!
//! Both kinds are used the same way once connected (one `send` per request, `recv` until the answer
//! is whole, `poll(2)` against a deadline in between), so after connecting only the descriptor is
//! kept. Sends pass `MSG_NOSIGNAL`: a server that went away must be an error for the caller, not a
//! SIGPIPE for the PHP process (a plain `write` on a Unix socket would raise one).

use super::Error;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Instant;

/// Where requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer<'a> {
    /// `host:port` over TCP.
    Tcp(&'a str),
    /// The path of the server's `api_socket`.
    Unix(&'a Path),
}

pub(super) struct Socket(OwnedFd);

impl Socket {
    pub fn connect(peer: Peer<'_>, deadline: Instant) -> Result<Socket, Error> {
        match peer {
            Peer::Tcp(authority) => connect_tcp(authority, deadline),
            Peer::Unix(path) => connect_unix(path, deadline),
        }
    }

    pub fn send(&self, bytes: &[u8]) -> io::Result<usize> {
        // SAFETY: reads at most `bytes.len()` bytes from a live slice.
        let n = unsafe {
            libc::send(
                self.0.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_with(buf, 0)
    }

    /// Whether nothing arrived since the last answer and the server has not closed: one
    /// non-blocking peek.
    pub fn idle_and_open(&self) -> bool {
        matches!(self.recv_with(&mut [0u8; 1], libc::MSG_PEEK | libc::MSG_DONTWAIT),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    fn recv_with(&self, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
        // SAFETY: writes at most `buf.len()` bytes into a live, initialised slice.
        let n = unsafe { libc::recv(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), flags) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Sleeps until the socket is ready for `events` or the deadline passes.
    pub fn wait(&self, events: libc::c_short, deadline: Instant) -> Result<(), Error> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::TimedOut);
        }
        let mut fd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events,
            revents: 0,
        };
        // Round up so a sub-millisecond remainder still waits instead of spinning on poll(0).
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd that lives for the duration of the call.
        let ready = unsafe { libc::poll(&mut fd, 1, ms) };
        if ready < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(Error::Io(e))
            };
        }
        if ready == 0 && Instant::now() >= deadline {
            return Err(Error::TimedOut);
        }
        Ok(())
    }
}

fn connect_tcp(authority: &str, deadline: Instant) -> Result<Socket, Error> {
    let addrs: Vec<SocketAddr> = authority.to_socket_addrs().map_err(Error::Connect)?.collect();
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the address resolved to nothing");
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::TimedOut);
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                stream.set_nodelay(true).map_err(Error::Connect)?;
                stream.set_nonblocking(true).map_err(Error::Connect)?;
                return Ok(Socket(stream.into()));
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Err(Error::TimedOut),
            Err(e) => last = e,
        }
    }
    Err(Error::Connect(last))
}

/// A Unix `connect` waits only while the server's accept queue is full; `SO_SNDTIMEO` bounds
/// that wait by the deadline (Linux applies it to `connect` on Unix sockets).
fn connect_unix(path: &Path, deadline: Instant) -> Result<Socket, Error> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::TimedOut);
    }
    let address = socket2::SockAddr::unix(path).map_err(Error::Connect)?;
    let socket =
        socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).map_err(Error::Connect)?;
    socket.set_write_timeout(Some(left)).map_err(Error::Connect)?;
    match socket.connect(&address) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(Error::TimedOut),
        Err(e) => return Err(Error::Connect(e)),
    }
    socket.set_write_timeout(None).map_err(Error::Connect)?;
    socket.set_nonblocking(true).map_err(Error::Connect)?;
    Ok(Socket(UnixStream::from(socket).into()))
}
