//! The HTTP API's Unix domain socket (`api_socket`): its file, from bind to removal.
//!
//! Same-host callers (`Api` in a webman request handler) skip TCP and loopback routing through it.
//! The file is the only thing that outlives the server, so this module owns its whole life: a file
//! left by a crashed run (a socket nobody listens on) is replaced, a socket somebody listens on or
//! a file that is not a socket is never touched, permissions are set before the first accept, and
//! the file is removed when the server stops, unless by then it is another server's.

use super::shutdown::Shutdown;
use super::StartError;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The bound socket's file; dropping it removes the file.
pub(crate) struct SocketFile {
    path: PathBuf,
    /// (device, inode) of the file this server created: a later server may have replaced it.
    identity: (u64, u64),
    /// Only the process that bound it removes it: a forked child is not the server.
    pid: u32,
}

impl SocketFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if self.pid != std::process::id() {
            return;
        }
        let ours = std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.identity);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Binds `path` with permission bits `mode`, replacing a stale socket file.
pub(crate) fn bind(path: &str, mode: u32, backlog: i32) -> Result<(UnixListener, SocketFile), StartError> {
    let path = PathBuf::from(path);
    let failed = |error: io::Error| StartError::Socket {
        path: path.clone(),
        error,
    };
    remove_if_stale(&path).map_err(failed)?;
    let listener = UnixListener::bind(&path).map_err(failed)?;
    let meta = std::fs::symlink_metadata(&path).map_err(failed)?;
    let file = SocketFile {
        path: path.clone(),
        identity: (meta.dev(), meta.ino()),
        pid: std::process::id(),
    };
    // From here on a failure drops `file`, which removes what was just created.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).map_err(failed)?;
    // Same-host callers reconnect all at once after a restart too.
    super::set_backlog(&listener, backlog).map_err(failed)?;
    listener.set_nonblocking(true).map_err(failed)?;
    Ok((listener, file))
}

/// Removes a socket file nobody listens on; refuses a live socket and anything that is not one.
fn remove_if_stale(path: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the path exists and is not a socket (remove it or choose another api_socket)",
        ));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "already in use: another server listens on this socket",
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => std::fs::remove_file(path),
        Err(e) => Err(e),
    }
}

/// Accepts Unix-socket connections until shutdown and hands each to `serve`.
pub(crate) async fn accept_loop(
    listener: tokio::net::UnixListener,
    shutdown: Shutdown,
    mut serve: impl FnMut(tokio::net::UnixStream),
) {
    let failures = crate::log::Throttle::new(super::ACCEPT_FAILURE_LOG_EVERY);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => serve(stream),
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    if let Some(suppressed) = failures.admit() {
                        tracing::error!(
                            "accepting HTTP API connections on the Unix socket failed: {e} ({suppressed} similar suppressed)"
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.cancelled() => break,
        }
    }
}
