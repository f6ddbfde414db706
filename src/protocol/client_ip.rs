//! Who a client is, as an address: the TCP peer, or behind a trusted proxy (nginx) the address
//! that proxy says it forwarded for.
//!
//! `X-Forwarded-For` is a list every proxy appends its peer to, and a client can start it with
//! anything, so only the entries added by proxies we trust mean something: reading from the right,
//! the first address that is not a trusted proxy is the client. Headers from an untrusted peer are
//! ignored, or anyone could pick the address the per-IP limits count.

use serde::Deserialize;
use std::net::IpAddr;

/// `trusted_proxies`: addresses and CIDR blocks (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TryFrom<Vec<String>> for TrustedProxies {
    type Error = String;

    fn try_from(list: Vec<String>) -> Result<TrustedProxies, String> {
        list.iter()
            .map(|entry| {
                let bad = || format!("trusted_proxies: {entry:?} is not an IP address or CIDR block");
                let (addr, bits) = match entry.trim().split_once('/') {
                    Some((addr, bits)) => (addr, Some(bits)),
                    None => (entry.trim(), None),
                };
                let addr: IpAddr = addr.parse().map_err(|_| bad())?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let bits = match bits {
                    Some(b) => b.parse::<u8>().ok().filter(|&b| b <= max).ok_or_else(bad)?,
                    None => max,
                };
                Ok((addr.to_canonical(), bits))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|&(net, bits)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
            _ => false,
        })
    }

    /// The client's address: `peer` itself unless it is a trusted proxy; then the right-most
    /// untrusted address of the `X-Forwarded-For` values (in header order), else `X-Real-IP`.
    /// An entry that is not an address ends the walk at the last trusted hop.
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl DoubleEndedIterator<Item = &'a [u8]>,
        real_ip: Option<&[u8]>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let mut client = peer;
        let mut saw_forwarded = false;
        for value in forwarded_for.rev() {
            for entry in value.rsplit(|&b| b == b',') {
                saw_forwarded = true;
                let Some(ip) = parse_ip(entry) else {
                    return client;
                };
                client = ip;
                if !self.contains(ip) {
                    return ip;
                }
            }
        }
        if saw_forwarded {
            return client;
        }
        real_ip.and_then(parse_ip).unwrap_or(peer)
    }
}

fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(text.trim_ascii()).ok()?;
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

fn prefix_eq(net: &[u8], addr: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    net[..whole] == addr[..whole] && (rest == 0 || (net[whole] ^ addr[whole]) & (0xffu8 << (8 - rest)) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::try_from(list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn client(t: &TrustedProxies, peer: &str, xff: &[&str], real: Option<&str>) -> IpAddr {
        t.client_ip(
            ip(peer),
            xff.iter().map(|s| s.as_bytes()),
            real.map(str::as_bytes),
        )
    }

    #[test]
    fn cidr_blocks_contain_their_addresses() {
        let t = trusted(&["10.0.0.0/8", "192.168.1.7", "fd00::/8", "172.16.0.0/12"]);
        assert!(t.contains(ip("10.200.3.4")));
        assert!(t.contains(ip("192.168.1.7")));
        assert!(!t.contains(ip("192.168.1.8")));
        assert!(t.contains(ip("fd12::1")));
        assert!(t.contains(ip("172.31.255.255")));
        assert!(!t.contains(ip("172.32.0.0")));
        assert!(t.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped");
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let t = trusted(&["127.0.0.1"]);
        assert_eq!(
            client(&t, "203.0.113.9", &["1.2.3.4"], Some("5.6.7.8")),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_right_most_untrusted_forwarded_address_is_the_client() {
        let t = trusted(&["127.0.0.1", "10.0.0.0/8"]);
        // The client forged 6.6.6.6; 198.51.100.1 is what our first proxy saw.
        let xff = ["6.6.6.6, 198.51.100.1", "10.0.0.2"];
        assert_eq!(client(&t, "127.0.0.1", &xff, None), ip("198.51.100.1"));
    }

    #[test]
    fn x_real_ip_is_used_without_x_forwarded_for() {
        let t = trusted(&["127.0.0.1"]);
        assert_eq!(
            client(&t, "127.0.0.1", &[], Some(" 198.51.100.2 ")),
            ip("198.51.100.2")
        );
        assert_eq!(client(&t, "127.0.0.1", &[], Some("junk")), ip("127.0.0.1"));
    }

    #[test]
    fn garbage_in_the_chain_stops_at_the_last_trusted_hop() {
        let t = trusted(&["127.0.0.1", "10.0.0.1"]);
        assert_eq!(client(&t, "127.0.0.1", &["junk, 10.0.0.1"], None), ip("10.0.0.1"));
    }

    #[test]
    fn bad_entries_are_refused_naming_the_key() {
        for bad in ["10.0.0.0/33", "host.example", "::/129", "1.2.3.4/x"] {
            let err = TrustedProxies::try_from(vec![bad.to_string()]).unwrap_err();
            assert!(err.starts_with("trusted_proxies:"), "{err}");
        }
    }
}
