//! A lean WebSocket client for the subscribers (RFC 6455, text frames, no extensions).
//!
//! The subscribers share two cores with the server, so every microsecond they spend per delivery
//! shows up as latency and takes CPU from the server. A general-purpose client costs more than the
//! frame parsing it does here: it zero-fills its read buffer before each read, allocates every
//! message, and reads once more to learn that the socket is drained. This client reads into a
//! reusable buffer, parses frames in place, hands `&str` to the caller, and treats a short read
//! as "drained" (true for TCP on Linux: `recv` copies everything queued, and data arriving after
//! it raises a new readiness event, which tokio keeps even if we clear the earlier one).

mod codec;

pub use codec::close_reason;
use codec::{apply_mask, encode_frame, parse_header, Header};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

const IO_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_FRAME: usize = 16 << 20;

pub const OP_CONTINUATION: u8 = 0;
pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;
pub const OP_PING: u8 = 9;
pub const OP_PONG: u8 = 10;

/// One complete frame in the read buffer.
pub struct RawFrame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Range<usize>,
}

pub struct RawWs {
    fd: AsyncFd<std::net::TcpStream>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    mask_seed: u32,
}

/// A TCP connection from `source` (bound first, so the kernel picks a port of that address).
pub async fn tcp_connect(source: IpAddr, server: SocketAddr) -> Result<TcpStream, String> {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(SocketAddr::new(source, 0))
        .map_err(|e| format!("bind {source}: {e}"))?;
    let stream = tokio::time::timeout(IO_TIMEOUT, socket.connect(server))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect {server} from {source}: {e}"))?;
    let _ = stream.set_nodelay(true);
    crate::tls::wrap(stream, server).await
}

impl RawWs {
    /// TCP connect from `source`, then the WebSocket opening handshake on `path`.
    pub async fn connect(source: IpAddr, server: SocketAddr, path: &str) -> Result<RawWs, String> {
        RawWs::handshake(tcp_connect(source, server).await?, server, path).await
    }

    /// The WebSocket opening handshake on `path` over a connected stream.
    pub async fn handshake(mut stream: TcpStream, server: SocketAddr, path: &str) -> Result<RawWs, String> {
        let key = generate_key();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("handshake write: {e}"))?;
        let mut buf = vec![0u8; 2048];
        let mut end = 0;
        let head_len = loop {
            if end == buf.len() {
                if buf.len() >= 64 * 1024 {
                    return Err("handshake response too long".into());
                }
                buf.resize(buf.len() * 2, 0);
            }
            let n = stream
                .read(&mut buf[end..])
                .await
                .map_err(|e| format!("handshake read: {e}"))?;
            if n == 0 {
                return Err("connection closed during the handshake".into());
            }
            end += n;
            if let Some(i) = buf[..end].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_len]);
        let status = head.lines().next().unwrap_or("");
        if !status.starts_with("HTTP/1.1 101") {
            return Err(format!("handshake refused: {status}"));
        }
        let accept = head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-accept")
                .then(|| value.trim().to_owned())
        });
        if accept.as_deref() != Some(derive_accept_key(key.as_bytes()).as_str()) {
            return Err("handshake: wrong Sec-WebSocket-Accept".into());
        }
        // Whatever followed the response head is the first frame(s).
        buf.copy_within(head_len..end, 0);
        let end = end - head_len;
        let std = stream.into_std().map_err(|e| format!("into_std: {e}"))?;
        // SAFETY: the AsyncFd owns the std TcpStream, whose fd stays open and the same until drop.
        let fd = unsafe { AsyncFd::register(std) }.map_err(|e| format!("register: {e}"))?;
        Ok(RawWs {
            fd,
            buf,
            start: 0,
            end,
            mask_seed: (key.as_bytes()[0] as u32) << 24 | (key.as_bytes()[1] as u32) << 8 | 0x9e37,
        })
    }

    /// The next complete frame already in the buffer, if any; its payload stays valid until the
    /// next call to [`RawWs::fill`].
    pub fn next_frame(&mut self) -> Result<Option<RawFrame>, String> {
        match parse_header(&self.buf[self.start..self.end])? {
            Header::Incomplete { need } => {
                // Make room for the rest of this frame.
                if self.start > 0 {
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.start = 0;
                }
                if need > self.buf.len() {
                    self.buf.resize(need.next_power_of_two(), 0);
                }
                Ok(None)
            }
            Header::Complete {
                fin,
                opcode,
                header_len,
                len,
                mask,
            } => {
                let payload = self.start + header_len..self.start + header_len + len;
                if let Some(m) = mask {
                    apply_mask(&mut self.buf[payload.clone()], m);
                }
                self.start += header_len + len;
                Ok(Some(RawFrame { fin, opcode, payload }))
            }
        }
    }

    pub fn payload(&self, f: &RawFrame) -> &[u8] {
        &self.buf[f.payload.clone()]
    }

    /// Waits for data and reads what is there (one `recv` per readiness event).
    pub async fn fill(&mut self) -> Result<(), String> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let len = self.buf.len() * 2;
                self.buf.resize(len, 0);
            }
        }
        loop {
            let mut guard = self.fd.readable().await.map_err(|e| format!("poll: {e}"))?;
            let space = &mut self.buf[self.end..];
            let room = space.len();
            match guard.try_io(|s| s.get_ref().read(space)) {
                Ok(Ok(0)) => return Err("eof".into()),
                Ok(Ok(n)) => {
                    self.end += n;
                    if n < room {
                        // TCP: a short read drained the receive queue (see the module comment).
                        guard.clear_ready();
                    }
                    return Ok(());
                }
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Err(format!("read: {e}")),
                Err(_would_block) => continue,
            }
        }
    }

    /// Sends one masked frame (clients must mask).
    pub async fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<(), String> {
        // xorshift: masks only need to be unpredictable to intermediaries, not secret.
        let mut x = self.mask_seed;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.mask_seed = x;
        let frame = encode_frame(opcode, payload, x.to_be_bytes());
        let write = async {
            let mut off = 0;
            while off < frame.len() {
                let mut guard = self.fd.writable().await.map_err(|e| format!("poll: {e}"))?;
                match guard.try_io(|s| s.get_ref().write(&frame[off..])) {
                    Ok(Ok(0)) => return Err("write: connection closed".to_string()),
                    Ok(Ok(n)) => off += n,
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Ok(Err(e)) => return Err(format!("write: {e}")),
                    Err(_would_block) => {}
                }
            }
            Ok(())
        };
        tokio::time::timeout(IO_TIMEOUT, write)
            .await
            .map_err(|_| "write timed out".to_string())?
    }

    /// Starts the closing handshake (code 1000) and waits, at most `limit`, for the server's
    /// close frame or EOF.
    pub async fn close(&mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, async {
            self.send(OP_CLOSE, &1000u16.to_be_bytes()).await?;
            loop {
                while let Some(f) = self.next_frame()? {
                    if f.opcode == OP_CLOSE {
                        return Ok::<(), String>(());
                    }
                }
                self.fill().await?;
            }
        })
        .await;
    }
}

impl RawWs {
    /// Drops the connection abruptly: `SO_LINGER` 0 makes the close send a RST, the way a
    /// client that loses its network or gets killed looks to the server.
    pub fn abort(self) {
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: setsockopt on the fd this value owns, with a correctly sized linger struct.
        unsafe {
            libc::setsockopt(
                self.fd.get_ref().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
}
