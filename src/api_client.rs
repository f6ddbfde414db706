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
//! needs to answer (bench/notes.md). Response heads are parsed by `httparse`; bodies are read by
//! Content-Length, chunked, or to the end of the stream.
//!
//! Connections are pooled per process and per [`Peer`] (`host:port` or socket path). A connection inherited through `fork()`
//! is never used by the child (both processes would read each other's answers); it is dropped there,
//! which closes only the child's descriptor. A connection goes back to the pool only after an answer
//! that ended exactly where the bytes received ended, and is taken from it only while nothing
//! unasked-for is waiting on it: a connection out of step with its requests would hand every later
//! caller the answer to an earlier request. Requests whose line or `Host` would carry a control
//! byte or space are refused before anything is sent, so no caller string can split a request.

mod socket;

pub use socket::Peer;

use parking_lot::Mutex;
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

/// Why a request got no answer.
#[derive(Debug)]
pub enum Error {
    /// The address did not resolve or refused every connection attempt.
    Connect(io::Error),
    /// The connection failed while sending or receiving.
    Io(io::Error),
    /// The deadline passed.
    TimedOut,
    /// The server's answer is not HTTP/1.x this client understands.
    Malformed(&'static str),
    /// The request would not be one well-formed request line and `Host` (nothing was sent).
    InvalidRequest(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Connect(e) => write!(f, "cannot connect: {e}"),
            Error::Io(e) => write!(f, "connection failed: {e}"),
            Error::TimedOut => write!(f, "timed out"),
            Error::Malformed(why) => write!(f, "malformed response: {why}"),
            Error::InvalidRequest(why) => write!(f, "invalid request: {why}"),
        }
    }
}

impl std::error::Error for Error {}

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

/// Reads one response from a connection's buffer, refilling it as needed.
struct Reader<'a> {
    conn: &'a mut Conn,
    deadline: Instant,
    spin_until: Instant,
    /// Whether any byte of an answer arrived.
    received: bool,
}

impl Reader<'_> {
    /// The answer, and whether the connection can carry another request.
    fn response(&mut self) -> Result<(Response, bool), Error> {
        loop {
            let (status, head_len, framing, close) = self.head()?;
            self.conn.buf.drain(..head_len);
            if (100..200).contains(&status) {
                continue; // an interim answer (100 Continue); the real one follows
            }
            let (body, keep_alive) = match framing {
                Framing::Length(n) => (self.exact(n)?, !close),
                Framing::Chunked => (self.chunked()?, !close),
                Framing::UntilClose => (self.until_close()?, false),
            };
            // Bytes past the answer belong to no request of ours: the connection is out of step.
            let in_step = self.conn.buf.is_empty();
            return Ok((Response { status, body }, keep_alive && in_step));
        }
    }

    fn head(&mut self) -> Result<(u16, usize, Framing, bool), Error> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(&self.conn.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let status = parsed.code.ok_or(Error::Malformed("no status code"))?;
                    let mut framing = Framing::UntilClose;
                    let mut close = parsed.version == Some(0);
                    for h in parsed.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            let n = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .ok_or(Error::Malformed("bad Content-Length"))?;
                            if n > MAX_RESPONSE {
                                return Err(Error::Malformed("response too large"));
                            }
                            framing = Framing::Length(n);
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            framing = Framing::Chunked;
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            close = h.value.eq_ignore_ascii_case(b"close");
                        }
                    }
                    if status == 204 || status == 304 {
                        framing = Framing::Length(0);
                    }
                    return Ok((status, len, framing, close));
                }
                Ok(httparse::Status::Partial) => {
                    if self.fill()? == 0 {
                        return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
                    }
                }
                Err(_) => return Err(Error::Malformed("unparsable response head")),
            }
        }
    }

    fn exact(&mut self, n: usize) -> Result<Vec<u8>, Error> {
        while self.conn.buf.len() < n {
            if self.fill()? == 0 {
                return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        }
        Ok(self.conn.buf.drain(..n).collect())
    }

    fn chunked(&mut self) -> Result<Vec<u8>, Error> {
        let mut body = Vec::new();
        loop {
            let (header_len, size) = loop {
                match httparse::parse_chunk_size(&self.conn.buf) {
                    Ok(httparse::Status::Complete(found)) => break found,
                    Ok(httparse::Status::Partial) => {
                        if self.fill()? == 0 {
                            return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
                        }
                    }
                    Err(_) => return Err(Error::Malformed("bad chunk size")),
                }
            };
            let size = usize::try_from(size)
                .ok()
                .filter(|s| body.len() + s <= MAX_RESPONSE)
                .ok_or(Error::Malformed("response too large"))?;
            self.conn.buf.drain(..header_len);
            if size == 0 {
                // Trailers, if any, end with an empty line.
                loop {
                    if let Some(end) = find(&self.conn.buf, b"\r\n") {
                        let line_empty = end == 0;
                        self.conn.buf.drain(..end + 2);
                        if line_empty {
                            return Ok(body);
                        }
                    } else if self.fill()? == 0 {
                        return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
                    }
                }
            }
            let data = self.exact(size + 2)?;
            if !data.ends_with(b"\r\n") {
                return Err(Error::Malformed("chunk not followed by CRLF"));
            }
            body.extend_from_slice(&data[..size]);
        }
    }

    fn until_close(&mut self) -> Result<Vec<u8>, Error> {
        while self.fill()? > 0 {}
        Ok(std::mem::take(&mut self.conn.buf))
    }

    /// Reads more into the buffer; 0 at the end of the stream.
    fn fill(&mut self) -> Result<usize, Error> {
        if self.conn.buf.len() > MAX_RESPONSE + 64 * 1024 {
            return Err(Error::Malformed("response too large"));
        }
        let mut chunk = [0u8; 8192];
        loop {
            match self.conn.socket.recv(&mut chunk) {
                Ok(n) => {
                    self.received |= n > 0;
                    self.conn.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() < self.spin_until {
                        // (Pausing longer between attempts measured slower: 21k vs 24k calls/s.)
                        std::hint::spin_loop();
                    } else {
                        self.conn.socket.wait(libc::POLLIN, self.deadline)?;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
