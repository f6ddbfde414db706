//! Listening sockets: the TCP accept loop every listener shares (nodelay, backing off and
//! logging once per 10 s while accepts fail, stopping on shutdown) and the listen backlog.

use super::shutdown::Shutdown;
use std::time::Duration;

/// Accept failures (out of file descriptors) repeat every 50 ms while they last: one line per 10 s.
pub(crate) const ACCEPT_FAILURE_LOG_EVERY: Duration = Duration::from_secs(10);

/// Accepts connections until shutdown, with `TCP_NODELAY` set (answers and events are small and
/// latency matters more than packet count), and hands each to `serve`.
pub(crate) async fn accept_loop(
    listener: tokio::net::TcpListener,
    what: &str,
    shutdown: Shutdown,
    mut serve: impl FnMut(tokio::net::TcpStream),
) {
    let failures = crate::log::Throttle::new(ACCEPT_FAILURE_LOG_EVERY);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    serve(stream);
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    if let Some(suppressed) = failures.admit() {
                        tracing::error!("accepting {what} failed: {e} ({suppressed} similar suppressed)");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.cancelled() => break,
        }
    }
}

/// std binds with a backlog of 128; `listen(2)` again on the listening socket changes it.
pub(crate) fn set_backlog(listener: &impl std::os::fd::AsRawFd, backlog: i32) -> std::io::Result<()> {
    // SAFETY: a plain call on a file descriptor the listener owns for the duration of the call.
    if unsafe { libc::listen(listener.as_raw_fd(), backlog) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
