//! Caller strings placed in an HTTP API request's path, made safe for the request line.
//!
//! The PHP `Api` builds paths from channel names, user ids, the app id and `get()`/`post()`'s own
//! path. Sent raw, a CR/LF in any of them ends the request line early: the server sees an injected
//! header and a second request, and the kept-alive connection answers the wrong call afterwards.
//! Every byte that is not allowed in a path is percent-encoded here, so what the caller meant
//! still reaches the server (which decodes path segments) and nothing else does. The signature is
//! computed over the encoded path, which is the path the server sees.

/// Bytes a path segment may carry as they are (RFC 3986 `pchar` minus `%`): unreserved,
/// sub-delims, `:` and `@`. Channel names (`[A-Za-z0-9_\-=@,.;]`) pass unchanged.
fn is_segment_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
}

fn push_encoded(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 15)] as char);
}

/// One path segment (a channel name, a user id): every byte outside `pchar`, `/` and `%`
/// included, is percent-encoded, so the value stays one segment and decodes to itself.
pub fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if is_segment_byte(b) {
            out.push(b as char);
        } else {
            push_encoded(&mut out, b);
        }
    }
    out
}

/// Why a caller's path cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadPath {
    /// A `?`: the caller meant a query, which belongs in the parameters (and in the signature).
    Query,
}

impl std::fmt::Display for BadPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadPath::Query => write!(
                f,
                "the path must not contain '?': pass query parameters as $params"
            ),
        }
    }
}

/// A whole path (`get()`/`post()`'s `$path`): `/` separates segments and `%XX` is taken as
/// already encoded; any other byte outside `pchar` (CR, LF, NUL, space, `#`, a lone `%`,
/// non-ASCII…) is percent-encoded. A `?` is refused: encoding it would turn the query the caller
/// meant into part of the path.
pub fn encode_path(path: &str) -> Result<String, BadPath> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape = b == b'%'
            && bytes.len() > i + 2
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit();
        match b {
            b'?' => return Err(BadPath::Query),
            b'/' => out.push('/'),
            _ if escape || is_segment_byte(b) => out.push(b as char),
            _ => push_encoded(&mut out, b),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_pass_unchanged() {
        assert_eq!(encode_segment("presence-a_b=c@d,e.f;g"), "presence-a_b=c@d,e.f;g");
    }

    #[test]
    fn crlf_slash_hash_space_and_percent_in_a_segment_are_encoded() {
        assert_eq!(
            encode_segment("u\r\nX: y/#%é\0"),
            "u%0D%0AX:%20y%2F%23%25%C3%A9%00"
        );
    }

    #[test]
    fn a_path_keeps_its_slashes_and_escapes_and_encodes_the_rest() {
        assert_eq!(
            encode_path("/channels/x\r\nHost: evil/%2F 100%").unwrap(),
            "/channels/x%0D%0AHost:%20evil/%2F%20100%25"
        );
    }

    #[test]
    fn a_query_in_the_path_is_refused() {
        assert_eq!(encode_path("/channels?filter_by_prefix=a"), Err(BadPath::Query));
    }
}
