//! Which browser origins may open a WebSocket to an app (`allowed_origins`).
//!
//! A browser names the page that opens a WebSocket in the `Origin` header, and nothing else stops
//! a page on any site from connecting to an app whose key it read from another site's HTML. The
//! list is parsed once at start, so checking an upgrade allocates nothing.
//!
//! Matching: the scheme and host compare case-insensitively, a missing port is the scheme's
//! default (80 for http/ws, 443 for https/wss), and `https://*.example.com` matches any subdomain
//! of example.com at any depth but not example.com itself (list both to allow both).

use serde::Deserialize;

/// One entry of `allowed_origins`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    scheme: String,
    /// Lower-case; for a wildcard, the part after `*.`.
    host: String,
    port: u16,
    wildcard: bool,
}

/// An app's `allowed_origins`: empty allows every origin (webman/push's behaviour).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct AllowedOrigins(Vec<Pattern>);

impl TryFrom<Vec<String>> for AllowedOrigins {
    type Error = String;

    fn try_from(list: Vec<String>) -> Result<AllowedOrigins, String> {
        list.iter()
            .map(|entry| {
                let bad = || {
                    format!(
                        "allowed_origins: {entry:?} is not an origin like https://example.com or https://*.example.com"
                    )
                };
                let (scheme, host, port) = split(entry.trim().as_bytes()).ok_or_else(bad)?;
                let (wildcard, host) = match host.strip_prefix(b"*.") {
                    Some(rest) => (true, rest),
                    None => (false, host),
                };
                if host.is_empty() || host.contains(&b'*') {
                    return Err(bad());
                }
                Ok(Pattern {
                    scheme: String::from_utf8_lossy(scheme).to_ascii_lowercase(),
                    host: String::from_utf8_lossy(host).to_ascii_lowercase(),
                    port,
                    wildcard,
                })
            })
            .collect::<Result<_, _>>()
            .map(AllowedOrigins)
    }
}

impl AllowedOrigins {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a request with this `Origin` header (None: the header is absent) may connect.
    /// Without the header (a non-browser client) it may, unless `strict`.
    pub fn allows(&self, origin: Option<&[u8]>, strict: bool) -> bool {
        let Some(origin) = origin else {
            return !strict;
        };
        if self.0.is_empty() {
            return true;
        }
        let Some((scheme, host, port)) = split(origin.trim_ascii()) else {
            // `null` (sandboxed pages, file://) and garbage match no entry.
            return false;
        };
        self.0.iter().any(|p| {
            p.port == port
                && scheme.eq_ignore_ascii_case(p.scheme.as_bytes())
                && if p.wildcard {
                    host.len() > p.host.len() + 1
                        && host[host.len() - p.host.len()..].eq_ignore_ascii_case(p.host.as_bytes())
                        && host[host.len() - p.host.len() - 1] == b'.'
                } else {
                    host.eq_ignore_ascii_case(p.host.as_bytes())
                }
        })
    }
}

/// `scheme://host[:port]` (nothing after it but an optional `/`) into its parts, the port
/// defaulted by scheme. An IPv6 host keeps its brackets.
fn split(origin: &[u8]) -> Option<(&[u8], &[u8], u16)> {
    let at = origin.windows(3).position(|w| w == b"://")?;
    let (scheme, rest) = (&origin[..at], &origin[at + 3..]);
    let rest = rest.strip_suffix(b"/").unwrap_or(rest);
    let default_port = match scheme.to_ascii_lowercase().as_slice() {
        b"http" | b"ws" => 80,
        b"https" | b"wss" => 443,
        _ => return None,
    };
    // The port is after the last colon, unless that colon is inside an IPv6 literal.
    let host_end = match rest.iter().rposition(|&b| b == b':') {
        Some(colon) if !rest[colon..].contains(&b']') => colon,
        _ => rest.len(),
    };
    let host = &rest[..host_end];
    let port = match rest.get(host_end + 1..) {
        None => default_port,
        Some(digits) => std::str::from_utf8(digits).ok()?.parse().ok()?,
    };
    let valid = |b: &u8| b.is_ascii_alphanumeric() || b"-.*[]:_".contains(b);
    (!host.is_empty() && host.iter().all(valid)).then_some((scheme, host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowedOrigins {
        AllowedOrigins::try_from(entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn allows(list: &AllowedOrigins, origin: &str) -> bool {
        list.allows(Some(origin.as_bytes()), false)
    }

    #[test]
    fn an_empty_list_allows_every_origin() {
        assert!(allows(&list(&[]), "https://evil.test"));
        assert!(list(&[]).allows(None, false));
    }

    #[test]
    fn exact_origins_match_scheme_host_and_port() {
        let l = list(&["https://app.example.com", "http://127.0.0.1:8080"]);
        assert!(allows(&l, "https://app.example.com"));
        assert!(allows(&l, "http://127.0.0.1:8080"));
        assert!(!allows(&l, "http://app.example.com"), "another scheme");
        assert!(!allows(&l, "https://app.example.com:8443"), "another port");
        assert!(!allows(&l, "http://127.0.0.1:8081"));
        assert!(!allows(&l, "https://app.example.com.evil.test"));
    }

    #[test]
    fn hosts_and_schemes_compare_case_insensitively() {
        assert!(allows(
            &list(&["HTTPS://App.Example.com"]),
            "https://app.EXAMPLE.com"
        ));
    }

    #[test]
    fn default_ports_are_normalised() {
        let l = list(&["https://example.com:443", "http://example.org"]);
        assert!(allows(&l, "https://example.com"));
        assert!(allows(&l, "http://example.org:80"));
        assert!(!allows(&l, "http://example.org:443"));
    }

    #[test]
    fn a_wildcard_matches_subdomains_but_not_the_bare_domain() {
        let l = list(&["https://*.example.com"]);
        assert!(allows(&l, "https://a.example.com"));
        assert!(allows(&l, "https://a.b.example.com"));
        assert!(!allows(&l, "https://example.com"));
        assert!(!allows(&l, "https://badexample.com"));
        assert!(!allows(&l, "http://a.example.com"));
    }

    #[test]
    fn null_and_malformed_origins_match_nothing() {
        let l = list(&["https://example.com"]);
        for bad in [
            "null",
            "",
            "example.com",
            "https://",
            "https://example.com:x",
            "ftp://example.com",
        ] {
            assert!(!allows(&l, bad), "{bad}");
        }
    }

    #[test]
    fn ipv6_hosts_keep_their_brackets() {
        let l = list(&["http://[::1]:8080"]);
        assert!(allows(&l, "http://[::1]:8080"));
        assert!(!allows(&l, "http://[::1]"));
    }

    #[test]
    fn without_an_origin_only_strict_refuses() {
        let l = list(&["https://example.com"]);
        assert!(l.allows(None, false));
        assert!(!l.allows(None, true));
    }

    #[test]
    fn bad_entries_are_refused_naming_the_key() {
        for bad in ["example.com", "https://*", "https://a.*.com", "gopher://x"] {
            let err = AllowedOrigins::try_from(vec![bad.to_string()]).unwrap_err();
            assert!(err.starts_with("allowed_origins:"), "{err}");
        }
    }
}
