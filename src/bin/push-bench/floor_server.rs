//! `push-bench floor-server`: an HTTP answerer that does nothing, the floor under the API numbers.
//!
//! Issue 21 asks for targets relative to other programs (the socket vs TCP, webman-push vs the
//! original). What a request costs the kernel (a `recv`, a `send`, an `epoll_wait` now and then)
//! is paid by every server alike, so this measures that part alone: one thread, `epoll`, no HTTP
//! library, no signature, no JSON; each complete request (head up to the blank line, then
//! `Content-Length` bytes) is answered with the same fixed `200 {}`. Driven by the same `api` and
//! `php` scenarios as the real server (`bench/run.sh api8_floor php_floor php_unix_floor`), its
//! per-CPU-second and calls/s are the ceiling any server on this machine can reach with those
//! clients. With `spin` it never sleeps (`epoll_wait` with no timeout, `sched_yield` between
//! empty polls), like webman-push's busy poll: the latency floor for one caller at a time, at the
//! price of a whole core. Not a server: no limits beyond a bounded buffer per connection, loopback
//! only.

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixListener;

const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";

/// A request that has not ended within this many bytes closes its connection.
const MAX_PENDING: usize = 64 * 1024;

/// Serves until killed. `tcp` is `host:port`; `unix` an optional socket path (replaced if present).
pub fn run(tcp: &str, unix: Option<&str>, spin: bool) -> Result<(), String> {
    let tcp = TcpListener::bind(tcp).map_err(|e| format!("floor-server: bind {tcp}: {e}"))?;
    let unix = match unix {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            Some(UnixListener::bind(path).map_err(|e| format!("floor-server: bind {path}: {e}"))?)
        }
        None => None,
    };
    tcp.set_nonblocking(true).map_err(|e| e.to_string())?;
    if let Some(u) = &unix {
        u.set_nonblocking(true).map_err(|e| e.to_string())?;
    }
    let listeners: Vec<RawFd> = std::iter::once(tcp.as_raw_fd())
        .chain(unix.as_ref().map(|u| u.as_raw_fd()))
        .collect();
    println!(
        "floor-server: pid {} listening on {}{}",
        std::process::id(),
        tcp.local_addr().map_err(|e| e.to_string())?,
        unix.as_ref()
            .map_or(String::new(), |_| " and a Unix socket".into())
    );
    let poll = Epoll::new().map_err(|e| format!("floor-server: epoll: {e}"))?;
    for &fd in &listeners {
        poll.add(fd).map_err(|e| e.to_string())?;
    }
    let mut conns: HashMap<RawFd, Vec<u8>> = HashMap::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 64];
    loop {
        let ready = poll.wait(&mut events, if spin { 0 } else { -1 });
        if ready == 0 && spin {
            std::thread::yield_now();
        }
        for ev in &events[..ready] {
            let fd = ev.u64 as RawFd;
            if listeners.contains(&fd) {
                accept_all(fd, &poll, &mut conns);
            } else if !serve(fd, &mut conns) {
                conns.remove(&fd);
                // SAFETY: fd is a connection this loop accepted and owns; closing also removes it
                // from the epoll set.
                unsafe { libc::close(fd) };
            }
        }
    }
}

fn accept_all(listener: RawFd, poll: &Epoll, conns: &mut HashMap<RawFd, Vec<u8>>) {
    loop {
        // SAFETY: accept4 on a listening socket, no address wanted.
        let fd = unsafe {
            libc::accept4(
                listener,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        if fd < 0 {
            return;
        }
        let one: libc::c_int = 1;
        // SAFETY: setsockopt with a c_int option; fails harmlessly on a Unix socket.
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        if poll.add(fd).is_ok() {
            conns.insert(fd, Vec::with_capacity(1024));
        } else {
            // SAFETY: fd was just accepted and is not stored anywhere.
            unsafe { libc::close(fd) };
        }
    }
}

/// Reads what is there and answers every complete request; false when the connection is done.
fn serve(fd: RawFd, conns: &mut HashMap<RawFd, Vec<u8>>) -> bool {
    let Some(buf) = conns.get_mut(&fd) else {
        return false;
    };
    let mut chunk = [0u8; 8192];
    // SAFETY: recv into a stack buffer of the given length.
    let n = unsafe { libc::recv(fd, chunk.as_mut_ptr().cast(), chunk.len(), 0) };
    if n == 0 {
        return false;
    }
    if n < 0 {
        return io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock;
    }
    buf.extend_from_slice(&chunk[..n as usize]);
    let mut answers = 0;
    let mut used = 0;
    while let Some(len) = request_len(&buf[used..]) {
        used += len;
        answers += 1;
    }
    buf.drain(..used);
    for _ in 0..answers {
        // SAFETY: send of a static buffer; a short or failed send ends the connection.
        let sent = unsafe { libc::send(fd, ANSWER.as_ptr().cast(), ANSWER.len(), 0) };
        if sent != ANSWER.len() as isize {
            return false;
        }
    }
    buf.len() <= MAX_PENDING
}

/// The length of the first complete request in `bytes`, if it is all there.
fn request_len(bytes: &[u8]) -> Option<usize> {
    let head = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let body = std::str::from_utf8(&bytes[..head])
        .ok()?
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    (bytes.len() >= head + body).then_some(head + body)
}

struct Epoll(RawFd);

impl Epoll {
    fn new() -> io::Result<Epoll> {
        // SAFETY: plain syscall.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Epoll(fd))
    }

    fn add(&self, fd: RawFd) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: fd as u64,
        };
        // SAFETY: registers an open descriptor with this epoll instance.
        if unsafe { libc::epoll_ctl(self.0, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> usize {
        // SAFETY: the kernel writes at most events.len() entries.
        let n = unsafe { libc::epoll_wait(self.0, events.as_mut_ptr(), events.len() as i32, timeout_ms) };
        n.max(0) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::request_len;

    #[test]
    fn a_request_ends_after_its_content_length() {
        let req = b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET";
        assert_eq!(request_len(req), Some(req.len() - 3));
        assert_eq!(request_len(&req[..req.len() - 4]), None);
        assert_eq!(request_len(b"GET / HTTP/1.1\r\n\r\n"), Some(18));
    }
}
