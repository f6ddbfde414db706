//! A blocking HTTP/1.1 client for the push server's HTTP API over plain `http://` or its Unix socket
//! (`unix://`): the transport of the PHP `Api` class.
//!
//! Why not a general-purpose client: an `Api::trigger` is one small request and one small answer on
//! a kept-alive loopback or LAN connection, so what it costs is the round trip and the syscalls
//! around it. A general client spent 12 syscalls per call (timeouts set per call, liveness peeks,
//! head and body sent apart) and 66 µs of the caller's CPU. This one sends each request with one
//! `send`, keeps the socket non-blocking for its whole life and checks timeouts against a deadline,
//! and waits for the answer by retrying `recv` for a short while ([`SPIN`]) before sleeping in
//! `poll(2)`: on a VM, putting the caller to sleep and waking it again costs more than the server
//! needs to answer (bench/notes.md). Answers are read by `response`, failures worded by `error`,
//! and each connection is a `socket`.
//!
//! Connections are pooled per process and per [`Peer`] (`host:port` or socket path). A connection inherited through `fork()`
//! is never used by the child (both processes would read each other's answers); it is dropped there,
//! which closes only the child's descriptor. A connection goes back to the pool only after an answer
//! that ended exactly where the bytes received ended, and is taken from it only while nothing
//! unasked-for is waiting on it: a connection out of step with its requests would hand every later
//! caller the answer to an earlier request. Requests whose line or `Host` would carry a control
//! byte or space are refused before anything is sent, so no caller string can split a request.

mod error;
mod response;
mod socket;

pub use error::Error;
pub use socket::Peer;

use parking_lot::Mutex;
use response::Reader;
use socket::Socket;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long to keep retrying `recv` before sleeping: a push server answers a publish in tens of
/// microseconds, and a sleep/wake pair costs about as much again on each side.
pub const SPIN: Duration = Duration::from_micros(200);

/// Answers larger than this are refused rather than buffered.
const MAX_RESPONSE: usize = 16 << 20;

/// Kept-alive connections per process; more concurrent callers simply open more and close the extra.
const MAX_POOLED: usize = 8;

/// A complete answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends one request to `authority` (`host:port`) over TCP: [`request_to`] with [`Peer::Tcp`].
pub fn request(
    authority: &str,
    method: &str,
    target: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Response, Error> {
    request_to(Peer::Tcp(authority), method, target, body, timeout)
}

/// Sends one request to `peer` and reads the answer, reusing a pooled connection when there is
/// one. `target` is the request target (path and query). A request that fails on a reused
/// connection before any byte of an answer arrived is sent once more on a new connection: the
/// server closed an idle connection (or restarted), so it never saw the request.
pub fn request_to(
    peer: Peer<'_>,
    method: &str,
    target: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Response, Error> {
    let host = match peer {
        Peer::Tcp(authority) => authority,
        // The server routes by path only; a Unix socket has no host to name.
        Peer::Unix(_) => "localhost",
    };
    check_request(host, method, target)?;
    let deadline = Instant::now() + timeout;
    let message = encode_request(host, method, target, body);
    if let Some(conn) = take_pooled(peer) {
        match conn.exchange(&message, deadline) {
            Ok(done) => return Ok(done.finish()),
            Err(Failure {
                error: Error::Io(_),
                answered: false,
            }) => {}
            Err(Failure { error, .. }) => return Err(error),
        }
    }
    let conn = Conn::open(peer, deadline)?;
    conn.exchange(&message, deadline)
        .map(Done::finish)
        .map_err(|f| f.error)
}

/// Refuses what would not reach the server as exactly one request: a CR or LF in the target or
/// `Host` would end the line early and start an injected header or request.
fn check_request(host: &str, method: &str, target: &str) -> Result<(), Error> {
    let visible = |b: u8| b > b' ' && b < 0x7f;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::InvalidRequest("the method must be an uppercase word"));
    }
    if host.is_empty() || !host.bytes().all(|b| visible(b) && b != b'/') {
        return Err(Error::InvalidRequest(
            "the authority must be host:port without spaces or control bytes",
        ));
    }
    if !target.starts_with('/') || !target.bytes().all(visible) {
        return Err(Error::InvalidRequest(
            "the target must be a percent-encoded path and query",
        ));
    }
    Ok(())
}

fn encode_request(host: &str, method: &str, target: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + target.len() + body.len());
    let _ = write!(out, "{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    if method != "GET" || !body.is_empty() {
        let _ = write!(
            out,
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

static POOL: Mutex<Vec<Conn>> = Mutex::new(Vec::new());

fn take_pooled(peer: Peer<'_>) -> Option<Conn> {
    let pid = std::process::id();
    let mut pool = POOL.lock();
    // Connections inherited through fork() belong to the parent.
    pool.retain(|c| c.pid == pid);
    let i = pool.iter().rposition(|c| c.peer.is(peer))?;
    let conn = pool.swap_remove(i);
    drop(pool);
    // Stray bytes would be read as the next answer; an end of stream means the server closed it.
    conn.socket.idle_and_open().then_some(conn)
}

/// A [`Peer`] a pooled connection is kept for.
enum PeerKey {
    Tcp(String),
    Unix(PathBuf),
}

impl PeerKey {
    fn of(peer: Peer<'_>) -> PeerKey {
        match peer {
            Peer::Tcp(authority) => PeerKey::Tcp(authority.to_owned()),
            Peer::Unix(path) => PeerKey::Unix(path.to_owned()),
        }
    }

    fn is(&self, peer: Peer<'_>) -> bool {
        match (self, peer) {
            (PeerKey::Tcp(a), Peer::Tcp(b)) => a == b,
            (PeerKey::Unix(a), Peer::Unix(b)) => a.as_path() == b as &Path,
            _ => false,
        }
    }
}

struct Conn {
    peer: PeerKey,
    pid: u32,
    socket: Socket,
    buf: Vec<u8>,
}

/// A failed exchange, and whether any of an answer had arrived (then it must not be retried).
struct Failure {
    error: Error,
    answered: bool,
}

/// An exchange that got a whole answer.
struct Done {
    conn: Conn,
    response: Response,
    keep_alive: bool,
}

impl Done {
    fn finish(self) -> Response {
        if self.keep_alive {
            let mut pool = POOL.lock();
            if pool.len() < MAX_POOLED {
                pool.push(self.conn);
            }
        }
        self.response
    }
}

impl Conn {
    fn open(peer: Peer<'_>, deadline: Instant) -> Result<Conn, Error> {
        Ok(Conn {
            peer: PeerKey::of(peer),
            pid: std::process::id(),
            socket: Socket::connect(peer, deadline)?,
            buf: Vec::with_capacity(1024),
        })
    }

    fn exchange(mut self, message: &[u8], deadline: Instant) -> Result<Done, Failure> {
        let unanswered = |error| Failure {
            error,
            answered: false,
        };
        self.buf.clear();
        self.send_all(message, deadline).map_err(unanswered)?;
        let spin_until = Instant::now() + SPIN;
        let mut reader = Reader {
            conn: &mut self,
            deadline,
            spin_until,
            received: false,
        };
        let (response, keep_alive) = match reader.response() {
            Ok(r) => r,
            Err(error) => {
                let answered = reader.received;
                return Err(Failure { error, answered });
            }
        };
        Ok(Done {
            conn: self,
            response,
            keep_alive,
        })
    }

    fn send_all(&mut self, mut bytes: &[u8], deadline: Instant) -> Result<(), Error> {
        while !bytes.is_empty() {
            match self.socket.send(bytes) {
                Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.socket.wait(libc::POLLOUT, deadline)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
        Ok(())
    }
}
