//! HTTP transport of the PHP Api: signed requests over kept-alive connections, pooled per process
//! as webman/push's shared curl handle does.
//!
//! Plain `http://` and the server's Unix socket (`unix:///path`) go through [`crate::api_client`] (one send and a short spin for the answer:
//! the calls-per-second of `Api::trigger` are bounded by this round trip). `https://` goes through
//! ureq with rustls; both are blocking and start no threads, which is what a PHP request thread
//! (and a process that may fork later) needs.

use crate::api_client::{self, Peer};
use crate::protocol::signature::sign_api_request;
use crate::server::unix_now;
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

/// A finished request: HTTP status (0 when the server could not be reached) and body.
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
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

/// Where and as whom an Api object talks to the HTTP API.
pub(crate) struct Endpoint {
    pub address: String,
    pub base_path: String,
    pub key: String,
    pub secret: String,
    pub timeout: Duration,
}

impl Endpoint {
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
                Ok(r) => Reply {
                    status: r.status,
                    body: String::from_utf8_lossy(&r.body).into_owned(),
                },
                Err(_) => Reply {
                    status: 0,
                    body: String::new(),
                },
            };
        }
        let url = format!("{}{full_path}?{query}", self.address);
        let result = if method == "GET" {
            with_timeouts!(agent().get(&url).config(), self.timeout)
                .build()
                .call()
        } else {
            with_timeouts!(agent().post(&url).config(), self.timeout)
                .build()
                .header("Content-Type", "application/json")
                .send(body)
        };
        match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                // Reading the whole body also returns the connection to the pool.
                let body = response.body_mut().read_to_string().unwrap_or_default();
                Reply { status, body }
            }
            Err(_) => Reply {
                status: 0,
                body: String::new(),
            },
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
