//! Native TLS (`ssl`): the certificate both listeners present, reloaded without a restart, and the
//! bridge that puts a `wss://` connection in front of the plain WebSocket transport.
//!
//! [`Certificate`] holds the current rustls config; every handshake takes it once, so a reload
//! (the files' modification times polled every `ssl.reload_interval`, or [`Certificate::reload`]
//! from `$server->reloadTls()`) changes what new handshakes see and leaves established
//! connections alone. A file that cannot be read or parsed at reload keeps the old certificate.
//!
//! The WebSocket transport writes frames straight to its socket's fd (see `super::outbox`),
//! which TLS cannot allow. Instead of teaching every writer about TLS, a `wss://` connection is
//! terminated here and relayed over a socket pair whose inner end the transport serves exactly
//! like an accepted TCP connection: the plain path stays as it is, and TLS pays one extra copy
//! per byte (measured in bench/notes.md).

use super::shutdown::Shutdown;
use crate::config::SslConfig;
use parking_lot::{Mutex, RwLock};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// After one side of a relayed connection ends, the other may take this long to finish.
const RELAY_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Bytes each direction of a relay buffers; frames are small, and every connection pays it twice.
const RELAY_BUFFER: usize = 4096;

/// The certificate and key files and the config made from them.
pub(crate) struct Certificate {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<rustls::ServerConfig>>,
    /// The files' modification times when they were last read, good or bad.
    read_at: Mutex<(Option<SystemTime>, Option<SystemTime>)>,
}

impl Certificate {
    /// Reads both files; an error names the file (and the key it came from).
    pub fn load(ssl: &SslConfig) -> Result<Arc<Certificate>, String> {
        let (cert_path, key_path) = (PathBuf::from(&ssl.local_cert), PathBuf::from(&ssl.local_pk));
        let read_at = (modified(&cert_path), modified(&key_path));
        let config = server_config(&cert_path, &key_path)?;
        Ok(Arc::new(Certificate {
            cert_path,
            key_path,
            current: RwLock::new(Arc::new(config)),
            read_at: Mutex::new(read_at),
        }))
    }

    /// What the next handshake uses.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current.read().clone())
    }

    /// Reads both files again; on error the current certificate stays.
    pub fn reload(&self) -> Result<(), String> {
        *self.read_at.lock() = (modified(&self.cert_path), modified(&self.key_path));
        let config = server_config(&self.cert_path, &self.key_path)?;
        *self.current.write() = Arc::new(config);
        Ok(())
    }

    /// Whether either file changed since it was last read.
    fn changed(&self) -> bool {
        *self.read_at.lock() != (modified(&self.cert_path), modified(&self.key_path))
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Polls the files every `every` and reloads them when they change, logging a reload that fails.
pub(crate) async fn watch(certificate: Arc<Certificate>, every: Duration, shutdown: Shutdown) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if certificate.changed() {
                    if let Err(e) = certificate.reload() {
                        tracing::warn!("keeping the previous TLS certificate: {e}");
                    }
                }
            }
            _ = shutdown.cancelled() => return,
        }
    }
}

/// TLS 1.2 and 1.3 with ring, ALPN http/1.1 (both listeners speak HTTP/1.1 only).
fn server_config(cert_path: &Path, key_path: &Path) -> Result<rustls::ServerConfig, String> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("ssl.local_cert {}: {e}", cert_path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "ssl.local_cert {}: no PEM certificate in the file",
            cert_path.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| format!("ssl.local_pk {}: {e}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "ssl.local_cert {} with ssl.local_pk {}: {e}",
                cert_path.display(),
                key_path.display()
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Terminates TLS on `tcp` (the handshake bounded by `timeout`; a client that does not speak
/// TLS fails it at its first bytes and is closed) and relays the plaintext to `serve`, which is
/// given the inner end of a socket pair to serve like a TCP connection.
pub(crate) async fn terminate<F, Fut>(tcp: TcpStream, acceptor: TlsAcceptor, timeout: Duration, serve: F)
where
    F: FnOnce(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(Ok(tls)) = tokio::time::timeout(timeout, acceptor.accept(tcp)).await else {
        return;
    };
    let Ok((outer, inner)) = socket_pair() else {
        return;
    };
    tokio::spawn(serve(inner));
    relay(tls, outer).await;
}

/// A connected pair: the relay's end, and an end the transport takes for a TCP connection. It
/// only uses calls both socket kinds answer alike (read, send, writev, shutdown); the client's
/// address is passed alongside, since this socket has none.
fn socket_pair() -> std::io::Result<(tokio::net::UnixStream, TcpStream)> {
    let (outer, inner) = std::os::unix::net::UnixStream::pair()?;
    outer.set_nonblocking(true)?;
    inner.set_nonblocking(true)?;
    let inner = std::net::TcpStream::from(std::os::fd::OwnedFd::from(inner));
    Ok((
        tokio::net::UnixStream::from_std(outer)?,
        TcpStream::from_std(inner)?,
    ))
}

/// Copies both ways until both sides are done; when one side ends, its end is passed on
/// (close_notify and FIN to the client, FIN to the transport) and the other gets
/// [`RELAY_CLOSE_TIMEOUT`] to follow, so a client that never closes cannot hold the relay.
async fn relay(tls: impl AsyncRead + AsyncWrite + Send + Unpin, plain: tokio::net::UnixStream) {
    let (tls_read, mut tls_write) = tokio::io::split(tls);
    let (plain_read, mut plain_write) = plain.into_split();
    let up = async move {
        let mut from = BufReader::with_capacity(RELAY_BUFFER, tls_read);
        let _ = tokio::io::copy_buf(&mut from, &mut plain_write).await;
        let _ = plain_write.shutdown().await;
    };
    let down = async move {
        let mut from = BufReader::with_capacity(RELAY_BUFFER, plain_read);
        let _ = tokio::io::copy_buf(&mut from, &mut tls_write).await;
        let _ = tls_write.shutdown().await;
    };
    tokio::pin!(up, down);
    tokio::select! {
        _ = &mut up => { let _ = tokio::time::timeout(RELAY_CLOSE_TIMEOUT, down).await; }
        _ = &mut down => { let _ = tokio::time::timeout(RELAY_CLOSE_TIMEOUT, up).await; }
    }
}
