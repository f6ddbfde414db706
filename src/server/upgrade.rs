//! The WebSocket opening handshake (RFC 6455 §4.2): reading the client's upgrade request and
//! answering it.
//!
//! This is done here rather than by tungstenite because tungstenite closes the connection
//! without a word on most bad requests (no key, a wrong version, POST, HTTP/1.0), which leaves
//! a client unable to tell a bad request from a network failure, and accepts keys that are not
//! the base64 of 16 bytes. Every refusal here gets an HTTP answer naming what was wrong: 400,
//! 404 for a path without `/app/{key}`, 426 with the version the server speaks, 431 for a head
//! over [`MAX_HEAD`].
//!
//! The head is read into a buffer that lives only for the handshake: the bytes a client sent
//! behind it (its first frames) go to the WebSocket, and the buffer is dropped, so an idle
//! connection keeps no more memory than before.

use std::io;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Longest request head accepted: browsers send a few hundred bytes plus the site's cookies.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// Most header lines accepted.
const MAX_HEADERS: usize = 64;
/// The head is read this much at a time; most heads arrive whole in the first read.
const READ_CHUNK: usize = 1024;

/// A request that becomes a WebSocket.
#[derive(Debug)]
pub(crate) struct Upgrade {
    /// The app key of the path (`/app/{key}`, possibly behind a proxy prefix).
    pub app_key: String,
    /// The `101 Switching Protocols` answer.
    pub response: Vec<u8>,
    /// Bytes the client sent behind the head.
    pub rest: Vec<u8>,
    pub edge: EdgeHeaders,
}

/// Headers that say who is connecting: checked against the app's origins and the per-IP limits
/// before the upgrade is answered, then dropped.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct EdgeHeaders {
    pub origin: Option<Vec<u8>>,
    /// Every `X-Forwarded-For` value, in order, joined with commas.
    pub forwarded_for: Option<Vec<u8>>,
    pub real_ip: Option<Vec<u8>>,
}

/// Why a request is refused: the HTTP status and the plain-text body that explains it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub message: &'static str,
}

pub(crate) enum Outcome {
    Upgrade(Upgrade),
    Refuse(Refusal),
    /// The client closed the connection or it failed before sending a whole head.
    Gone,
}

/// What a (possibly partial) head says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    Partial,
    Upgrade {
        head_len: usize,
        app_key: String,
        accept: String,
        edge: EdgeHeaders,
    },
    Refuse(Refusal),
}

/// Reads the request head and checks it. The caller bounds the time this may take.
pub(crate) async fn read_request(stream: &TcpStream) -> Outcome {
    let mut buf = Vec::new();
    loop {
        let filled = buf.len();
        buf.resize((filled + READ_CHUNK).min(MAX_HEAD), 0);
        let read = match stream.try_read(&mut buf[filled..]) {
            Ok(0) => return Outcome::Gone,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(_) => return Outcome::Gone,
        };
        buf.truncate(filled + read);
        if read == 0 {
            if stream.readable().await.is_err() {
                return Outcome::Gone;
            }
            continue;
        }
        match parse(&buf) {
            Parsed::Partial => {}
            Parsed::Refuse(refusal) => return Outcome::Refuse(refusal),
            Parsed::Upgrade {
                head_len,
                app_key,
                accept,
                edge,
            } => {
                let response = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Accept: {accept}\r\n\r\n"
                );
                return Outcome::Upgrade(Upgrade {
                    app_key,
                    response: response.into_bytes(),
                    rest: buf[head_len..].to_vec(),
                    edge,
                });
            }
        }
    }
}

const fn refuse(status: u16, message: &'static str) -> Parsed {
    Parsed::Refuse(Refusal { status, message })
}

/// Checks a request head against RFC 6455 §4.2.1.
pub(crate) fn parse(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Parsed::Partial,
        Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
            return refuse(431, "Request header too large")
        }
        Err(_) => return refuse(400, "Malformed HTTP request"),
    };
    if req.version != Some(1) {
        return refuse(400, "A WebSocket upgrade needs HTTP/1.1");
    }
    if req.method != Some("GET") {
        return refuse(400, "A WebSocket upgrade must use GET");
    }
    let path = req.path.unwrap_or_default();
    let Some(app_key) = app_key_of(path.split(['?', '#']).next().unwrap_or_default()) else {
        return refuse(404, "Not found: connect to /app/{app_key}");
    };
    let (mut upgrade, mut connection) = (false, false);
    let (mut versions, mut keys) = (Vec::new(), Vec::new());
    let mut edge = EdgeHeaders::default();
    for header in req.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("origin") {
            edge.origin = Some(header.value.to_vec());
        } else if name.eq_ignore_ascii_case("x-forwarded-for") {
            let all = edge.forwarded_for.get_or_insert_with(Vec::new);
            if !all.is_empty() {
                all.push(b',');
            }
            all.extend_from_slice(header.value);
        } else if name.eq_ignore_ascii_case("x-real-ip") {
            edge.real_ip = Some(header.value.to_vec());
        } else if name.eq_ignore_ascii_case("upgrade") {
            upgrade |= has_token(header.value, "websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection |= has_token(header.value, "upgrade");
        } else if name.eq_ignore_ascii_case("sec-websocket-version") {
            versions.push(header.value.trim_ascii());
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            keys.push(header.value.trim_ascii());
        }
    }
    if !upgrade {
        return refuse(
            400,
            "Not a WebSocket upgrade: expected the header Upgrade: websocket",
        );
    }
    if !connection {
        return refuse(
            400,
            "Not a WebSocket upgrade: expected the header Connection: Upgrade",
        );
    }
    if versions != [b"13"] {
        return refuse(
            426,
            "Unsupported WebSocket version: this server speaks version 13",
        );
    }
    let [key] = keys[..] else {
        return refuse(400, "Expected exactly one Sec-WebSocket-Key header");
    };
    if !is_websocket_key(key) {
        return refuse(400, "Sec-WebSocket-Key must be the base64 of 16 bytes");
    }
    Parsed::Upgrade {
        head_len,
        app_key: app_key.to_owned(),
        accept: derive_accept_key(key),
        edge,
    }
}

/// The app key of a connect path: the segment after the first `/app/` (a proxy prefix may precede it).
pub(crate) fn app_key_of(path: &str) -> Option<&str> {
    let start = path.find("/app/")? + "/app/".len();
    let key = path[start..].split('/').next()?;
    (!key.is_empty()).then_some(key)
}

/// Whether a comma-separated header value lists `token` (case-insensitively).
fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// Base64 of exactly 16 bytes: 22 characters, the last of which leaves no stray bits, then `==`.
fn is_websocket_key(key: &[u8]) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // The 22nd character carries the last 2 bits of byte 16; its low 4 bits must be zero.
    key.len() == 24
        && key[..21].iter().all(|b| ALPHABET.contains(b))
        && b"AQgw".contains(&key[21])
        && &key[22..] == b"=="
}

impl Refusal {
    /// The whole HTTP answer; the connection closes after it.
    pub fn response(&self) -> Vec<u8> {
        let reason = match self.status {
            403 => "Forbidden",
            404 => "Not Found",
            426 => "Upgrade Required",
            429 => "Too Many Requests",
            431 => "Request Header Fields Too Large",
            _ => "Bad Request",
        };
        // RFC 6455 §4.4: name the versions the server speaks. RFC 9110 §15.5.22: a 426 names the protocol.
        let version = match self.status {
            426 => "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n",
            429 => "Retry-After: 1\r\n",
            _ => "",
        };
        format!(
            "HTTP/1.1 {} {reason}\r\nConnection: close\r\n{version}Content-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\n\r\n{}\n",
            self.status,
            self.message.len() + 1,
            self.message
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET /app/k?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
                        Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    #[test]
    fn a_good_request_gives_the_rfc_accept_key_and_its_length() {
        let Parsed::Upgrade {
            head_len,
            app_key,
            accept,
            ..
        } = parse(GOOD.as_bytes())
        else {
            panic!("refused");
        };
        assert_eq!((head_len, app_key.as_str()), (GOOD.len(), "k"));
        // The example of RFC 6455 §1.3.
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn origin_and_forwarding_headers_are_kept_with_forwarded_for_joined() {
        let head = GOOD.replace(
            "Host: x\r\n",
            "Host: x\r\nOrigin: https://a.test\r\nX-Forwarded-For: 1.1.1.1\r\n\
             x-forwarded-for: 2.2.2.2\r\nX-Real-IP: 3.3.3.3\r\n",
        );
        let Parsed::Upgrade { edge, .. } = parse(head.as_bytes()) else {
            panic!("refused");
        };
        assert_eq!(edge.origin.as_deref(), Some(&b"https://a.test"[..]));
        assert_eq!(edge.forwarded_for.as_deref(), Some(&b"1.1.1.1,2.2.2.2"[..]));
        assert_eq!(edge.real_ip.as_deref(), Some(&b"3.3.3.3"[..]));
    }

    #[test]
    fn a_head_cut_short_is_partial() {
        assert_eq!(parse(&GOOD.as_bytes()[..40]), Parsed::Partial);
    }

    #[test]
    fn websocket_keys_are_base64_of_exactly_16_bytes() {
        assert!(is_websocket_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_websocket_key(b"dGhlIHNhbXBsZSBub25jZR=="), "stray bits");
        assert!(!is_websocket_key(b"dGhlIHNhbXBsZSBub25j"), "15 bytes");
        assert!(!is_websocket_key(b"dGhlIHNhbXBsZSBub25jZQ"), "no padding");
        assert!(!is_websocket_key(b"dGhlIHNhbXBsZS*ub25jZQ=="), "not base64");
    }

    #[test]
    fn app_key_is_the_segment_after_app() {
        assert_eq!(app_key_of("/app/abc"), Some("abc"));
        assert_eq!(app_key_of("/app/abc/"), Some("abc"));
        assert_eq!(app_key_of("/ws/app/abc"), Some("abc"));
        assert_eq!(app_key_of("/app/"), None);
        assert_eq!(app_key_of("/"), None);
        assert_eq!(app_key_of("/apps/abc"), None);
    }
}
