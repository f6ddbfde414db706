//! Why a request got no answer, and how that reads for the person who has to fix it.
//!
//! The variants say what failed (tests and callers match on them); [`Error::describe`] adds where
//! and how long was waited, so a PHP developer reading `Api::lastError()` sees "connect to
//! 127.0.0.1:3232 failed: Connection refused" rather than a bare status 0.

use super::Peer;
use std::io;
use std::time::Duration;

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

impl Error {
    /// The failure as one sentence naming the peer: what `Api::lastError()` and `get()` report.
    pub fn describe(&self, peer: Peer<'_>, timeout: Duration) -> String {
        let peer = match peer {
            Peer::Tcp(authority) => authority.to_owned(),
            Peer::Unix(path) => format!("unix socket {}", path.display()),
        };
        match self {
            Error::Connect(e) => format!("connect to {peer} failed: {e}"),
            Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                format!("{peer} closed the connection before answering")
            }
            Error::Io(e) => format!("connection to {peer} failed: {e}"),
            Error::TimedOut => format!("no answer from {peer} within {} s", timeout.as_secs_f64()),
            Error::Malformed(why) => format!("{peer} sent a malformed response: {why}"),
            Error::InvalidRequest(why) => format!("request to {peer} not sent: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn describe_names_the_peer_and_what_failed() {
        let refused = Error::Connect(io::ErrorKind::ConnectionRefused.into());
        let text = refused.describe(Peer::Tcp("127.0.0.1:1"), Duration::from_secs(2));
        assert!(text.starts_with("connect to 127.0.0.1:1 failed: "), "{text}");
        let waited = Error::TimedOut.describe(Peer::Tcp("h:1"), Duration::from_millis(1500));
        assert_eq!(waited, "no answer from h:1 within 1.5 s");
        let closed = Error::Io(io::ErrorKind::UnexpectedEof.into());
        assert_eq!(
            closed.describe(Peer::Unix(Path::new("/run/p.sock")), Duration::ZERO),
            "unix socket /run/p.sock closed the connection before answering"
        );
    }
}
