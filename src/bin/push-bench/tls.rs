//! `--tls-ca PATH`: every connection the bench opens (WebSocket and HTTP API) speaks TLS to the
//! server, trusting only that CA. The clients are written against plain sockets (the subscribers
//! read their fd directly), so a TLS connection is relayed through a socket pair whose other end
//! they use as before. The relay costs the bench CPU on the cores it shares with the server: a TLS
//! run measures the server's CPU per delivery, not latency against a plain run.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::TlsConnector;

static CONNECTOR: OnceLock<TlsConnector> = OnceLock::new();

/// Makes every later connection TLS, trusting the CA certificates in `ca_file`.
pub fn enable(ca_file: &str) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(ca_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--tls-ca {ca_file}: {e}"))?;
    for cert in certs {
        roots.add(cert).map_err(|e| format!("--tls-ca {ca_file}: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let _ = CONNECTOR.set(TlsConnector::from(Arc::new(config)));
    Ok(())
}

pub fn enabled() -> bool {
    CONNECTOR.get().is_some()
}

/// `stream` itself without `--tls-ca`; else the plaintext end of a TLS connection over it.
pub async fn wrap(stream: TcpStream, server: SocketAddr) -> Result<TcpStream, String> {
    let Some(connector) = CONNECTOR.get() else {
        return Ok(stream);
    };
    let name = rustls::pki_types::ServerName::IpAddress(server.ip().into());
    let mut tls = connector
        .connect(name, stream)
        .await
        .map_err(|e| format!("TLS handshake with {server}: {e}"))?;
    let (outer, inner) = std::os::unix::net::UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    outer
        .set_nonblocking(true)
        .map_err(|e| format!("socketpair: {e}"))?;
    inner
        .set_nonblocking(true)
        .map_err(|e| format!("socketpair: {e}"))?;
    let mut outer = tokio::net::UnixStream::from_std(outer).map_err(|e| format!("socketpair: {e}"))?;
    // The clients only read, write and shut down this socket, which a Unix socket answers alike.
    let inner = std::net::TcpStream::from(std::os::fd::OwnedFd::from(inner));
    tokio::spawn(async move {
        let _ = tokio::io::copy_bidirectional_with_sizes(&mut tls, &mut outer, 4096, 4096).await;
    });
    TcpStream::from_std(inner).map_err(|e| format!("socketpair: {e}"))
}
