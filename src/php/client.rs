//! HTTP transport of the PHP Api: signed requests over kept-alive connections, pooled per process
//! as webman/push's shared curl handle does.
//!
//! Plain `http://` and the server's Unix socket (`unix:///path`) go through [`crate::api_client`] (one send and a short spin for the answer:
//! the calls-per-second of `Api::trigger` are bounded by this round trip). `https://` goes through
//! ureq with rustls; both are blocking and start no threads, which is what a PHP request thread
//! (and a process that may fork later) needs.

use crate::api_client::{self, Peer};
use crate::clock::unix_now;
use crate::protocol::signature::sign_api_request;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// Bounds every phase but name resolution: with a resolve timeout (which a global timeout implies)
/// ureq resolves on a new thread for every request, which costs more than the request itself;
/// API addresses are IP literals or local names in practice. (A macro: ureq's config scopes are
/// sealed, so a generic function cannot name them.)
macro_rules! with_timeouts {
    ($config:expr, $t:expr) => {
        $config
            .timeout_connect(Some($t))
            .timeout_send_request(Some($t))
            .timeout_send_body(Some($t))
            .timeout_recv_response(Some($t))
            .timeout_recv_body(Some($t))
    };
}

/// A finished request: HTTP status and body, or status 0 and why there was no answer.
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
    /// Set exactly when `status` is 0: e.g. "connect to 127.0.0.1:3232 failed: Connection refused".
    pub error: Option<String>,
}

impl Reply {
    fn answered(status: u16, body: String) -> Reply {
        Reply {
            status,
            body,
            error: None,
        }
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent()
    })
}

/// An agent that trusts only the CA certificates in `ca_file` (a self-signed setup); its
/// connections are pooled by the Api object that owns it. The error names the file.
pub(crate) fn agent_trusting(ca_file: &str) -> Result<ureq::Agent, String> {
    let pem = std::fs::read(ca_file).map_err(|e| format!("Cannot read ca_file {ca_file}: {e}"))?;
    let roots = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => Some(Ok(cert)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("Invalid ca_file {ca_file}: {e}"))?;
    if roots.is_empty() {
        return Err(format!("Invalid ca_file {ca_file}: no PEM certificate in it"));
    }
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::from(roots))
        .build();
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls)
        .build()
        .new_agent())
}

/// Why an https request got no answer, worded for the PHP developer reading `lastError()`.
fn transport_error(address: &str, error: &ureq::Error, custom_ca: bool) -> String {
    let text = error.to_string();
    let certificate = matches!(error, ureq::Error::Rustls(_)) || text.contains("certificate");
    match (certificate, custom_ca) {
        (true, false) => format!(
            "TLS certificate verification failed for {address}: {text} (for a self-signed certificate, pass its CA as the 'ca_file' option)"
        ),
        (true, true) => format!("TLS certificate verification failed for {address}: {text}"),
        (false, _) => format!("Request to {address} failed: {text}"),
    }
}

/// Where and as whom an Api object talks to the HTTP API.
pub(crate) struct Endpoint {
    pub address: String,
    pub base_path: String,
    pub key: String,
    pub secret: String,
    pub timeout: Duration,
    /// For `https://` with the `ca_file` option; None: the shared agent with the Mozilla roots.
    pub agent: Option<ureq::Agent>,
    /// Why the last request got no answer (status 0); None after an answer.
    pub last_error: parking_lot::Mutex<Option<String>>,
}

impl Endpoint {
    /// Remembers the outcome for `lastError()` and hands the reply on.
    fn record(&self, reply: Reply) -> Reply {
        self.last_error.lock().clone_from(&reply.error);
        reply
    }

    fn unanswered(&self, reason: String) -> Reply {
        self.record(Reply {
            status: 0,
            body: String::new(),
            error: Some(reason),
        })
    }

    /// Sends a signed request to `{base_path}{path}` with extra query `params`.
    pub fn request(&self, method: &str, path: &str, params: &[(String, String)], body: &[u8]) -> Reply {
        let full_path = format!("{}{path}", self.base_path);
        let query = sign_api_request(
            &self.key,
            &self.secret,
            method,
            &full_path,
            body,
            unix_now(),
            params,
        );
        let direct = match self.address.strip_prefix("unix://") {
            Some(path) => Some((Peer::Unix(Path::new(path)), "")),
            None => plain_http(&self.address).map(|(authority, prefix)| (Peer::Tcp(authority), prefix)),
        };
        if let Some((peer, prefix)) = direct {
            let target = format!("{prefix}{full_path}?{query}");
            return match api_client::request_to(peer, method, &target, body, self.timeout) {
                Ok(r) => self.record(Reply::answered(r.status, into_string(r.body))),
                Err(e) => self.unanswered(e.describe(peer, self.timeout)),
            };
        }
        let agent = self.agent.as_ref().unwrap_or_else(|| agent());
        let url = format!("{}{full_path}?{query}", self.address);
        let result = if method == "GET" {
            with_timeouts!(agent.get(&url).config(), self.timeout)
                .build()
                .call()
        } else {
            with_timeouts!(agent.post(&url).config(), self.timeout)
                .build()
                .header("Content-Type", "application/json")
                .send(body)
        };
        match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                // Reading the whole body also returns the connection to the pool.
                let body = response.body_mut().read_to_string().unwrap_or_default();
                self.record(Reply::answered(status, body))
            }
            Err(e) => self.unanswered(transport_error(&self.address, &e, self.agent.is_some())),
        }
    }
}

/// `http://host:port/prefix` as (`host:port`, `/prefix`); None for https or user info in the URL.
fn plain_http(address: &str) -> Option<(&str, &str)> {
    let rest = address.strip_prefix("http://")?;
    let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    // A bare host means port 80; api_client needs the port spelled out.
    if authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.contains(']'))
    {
        Some((authority, prefix))
    } else {
        None
    }
}

/// The body as text without a copy when it is UTF-8 (it always is from this server).
fn into_string(body: Vec<u8>) -> String {
    String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
