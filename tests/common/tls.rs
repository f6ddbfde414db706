//! TLS helpers for the tests: a CA and server certificates made with Debian's `openssl` at test
//! time (no key is ever committed), and TLS clients that trust that CA.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, pki_types};
use tokio_rustls::TlsConnector;

/// openssl arguments for a new unencrypted P-256 key.
const NEW_EC_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// A throwaway directory with a test CA; removed when dropped.
pub struct Pki {
    pub dir: PathBuf,
}

impl Pki {
    pub fn new() -> Pki {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("webman-push-tls-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let pki = Pki { dir };
        pki.openssl(
            &["req", "-x509"],
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "1"],
        );
        std::fs::write(
            pki.dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext.cnf");
        pki
    }

    /// `openssl <command>` making a new P-256 key, with `args`.
    fn openssl(&self, command: &[&str], args: &[&str]) {
        let status = Command::new("openssl")
            .args(command)
            .args(NEW_EC_KEY)
            .args(args)
            .args(["-subj", "/CN=webman-push test"])
            .current_dir(&self.dir)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {command:?} {args:?}");
    }

    /// Issues a new server certificate for 127.0.0.1 into `<name>.pem` / `<name>.key`.
    pub fn issue(&self, name: &str) -> (PathBuf, PathBuf) {
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        self.openssl(&["req"], &["-keyout", &key, "-out", &csr]);
        let status = Command::new("openssl")
            .args([
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
            ])
            .args(["-out", &pem, "-days", "1", "-extfile", "ext.cnf"])
            .current_dir(&self.dir)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl x509 for {name}");
        (self.dir.join(pem), self.dir.join(key))
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A connector that trusts only this CA.
    pub fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        let ca = std::fs::read(self.ca()).expect("ca.pem");
        for cert in rustls_pemfile_certs(&ca) {
            roots.add(cert).expect("CA certificate");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    /// A TLS connection to `addr` with the handshake done.
    pub async fn connect(&self, addr: std::net::SocketAddr) -> TlsStream<TcpStream> {
        self.connect_from(std::net::Ipv4Addr::LOCALHOST.into(), addr)
            .await
    }

    /// Like [`Pki::connect`] from the loopback address `source` (127.0.0.0/8 is all local).
    pub async fn connect_from(
        &self,
        source: std::net::IpAddr,
        addr: std::net::SocketAddr,
    ) -> TlsStream<TcpStream> {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind((source, 0).into()).expect("bind source");
        let tcp = socket.connect(addr).await.expect("connect");
        let name = pki_types::ServerName::IpAddress(addr.ip().into());
        self.connector().connect(name, tcp).await.expect("TLS handshake")
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rustls_pemfile_certs(pem: &[u8]) -> Vec<pki_types::CertificateDer<'static>> {
    use pki_types::pem::PemObject;
    pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .expect("PEM certificates")
}

/// The DER of the first certificate in a PEM file.
pub fn leaf_der(pem_file: &Path) -> Vec<u8> {
    let pem = std::fs::read(pem_file).expect("certificate file");
    rustls_pemfile_certs(&pem)[0].to_vec()
}

/// The certificate the server presented on `tls`.
pub fn peer_der(tls: &TlsStream<TcpStream>) -> Vec<u8> {
    tls.get_ref().1.peer_certificates().expect("server certificate")[0].to_vec()
}

/// Sends one HTTP/1.1 request (`head` ends with the blank line) with `Connection: close` and
/// returns the whole answer.
pub async fn http_exchange(tls: &mut TlsStream<TcpStream>, head: &str, body: &[u8]) -> String {
    let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    tls.write_all(head.as_bytes()).await.expect("write head");
    tls.write_all(body).await.expect("write body");
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}
