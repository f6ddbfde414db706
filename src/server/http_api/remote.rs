//! Who sent an API request, as the debug log names it (`remote=…`): `unix` for the Unix socket,
//! else the client's address by the WebSocket transport's rule: the TCP peer, or, when that peer
//! is one of `trusted_proxies`, the address it says it forwarded for (`X-Forwarded-For`,
//! `X-Real-IP`). Worked out only when a line is written: the hot routes pass the peer as an
//! argument, the `Router`'s routes find it in an extension ([`Peer`]).

use super::UNIX_PEER;
use crate::protocol::client_ip::TrustedProxies;
use axum::http::HeaderMap;
use std::fmt;
use std::net::IpAddr;

/// The address a request came from, as the connection saw it ([`UNIX_PEER`] for the socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Peer(pub IpAddr);

/// What `remote=` shows.
pub(super) enum Remote {
    Unix,
    Ip(IpAddr),
}

impl Remote {
    pub(super) fn of(peer: Peer, headers: &HeaderMap, proxies: &TrustedProxies) -> Remote {
        if peer.0 == UNIX_PEER {
            return Remote::Unix;
        }
        let forwarded_for = headers.get_all("x-forwarded-for").into_iter();
        let real_ip = headers.get("x-real-ip").map(|v| v.as_bytes());
        Remote::Ip(proxies.client_ip(peer.0, forwarded_for.map(|v| v.as_bytes()), real_ip))
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remote::Unix => f.write_str("unix"),
            Remote::Ip(ip) => ip.fmt(f),
        }
    }
}
