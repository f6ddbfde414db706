//! The HTTP API request signature: signing a request (the Api, the tests, the benchmark) and
//! checking one (the server, on every HTTP API request).
//!
//! The check is on the publish hot path, so it allocates nothing: it reads a borrowed query,
//! compares the checksum and the signature as bytes and feeds the string to sign to the HMAC.

use hmac::Mac;
use md5::{Digest, Md5};

use super::mac::mac;
use super::string_to_sign::feed_string_to_sign;
use crate::protocol::query::{Params, INLINE};

/// Pusher rejects API requests whose `auth_timestamp` is further than this from now.
pub const DEFAULT_TIMESTAMP_WINDOW_SECS: u64 = 600;

/// Lower-case hex MD5 of an HTTP body, as sent in `body_md5`.
pub fn body_md5_hex(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// Builds the signed query string a client sends: the given params plus `auth_key`,
/// `auth_timestamp`, `auth_version`, `body_md5` (when there is a body) and `auth_signature`.
///
/// `Api::trigger` calls this once per publish, so it builds only the string it returns: the
/// digests are hex-encoded on the stack, the pairs are borrowed, the string to sign goes to the
/// HMAC piece by piece, and values that need no escaping are copied as they are.
pub fn sign_api_request(
    key: &str,
    secret: &str,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: u64,
    extra: &[(String, String)],
) -> String {
    let mut digits = [0u8; 20];
    let timestamp = decimal(timestamp, &mut digits);
    let mut md5 = [0u8; 32];
    let md5 = (!body.is_empty()).then(|| hex_lower(&Md5::digest(body), &mut md5));
    let own = [
        ("auth_key", key),
        ("auth_timestamp", timestamp),
        ("auth_version", "1.0"),
    ];
    let mut inline = [("", ""); INLINE];
    let mut spilled = Vec::new();
    let count = extra.len() + own.len() + usize::from(md5.is_some());
    let pairs: &mut [(&str, &str)] = if count <= INLINE {
        &mut inline[..count]
    } else {
        spilled.resize(count, ("", ""));
        &mut spilled
    };
    let all = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(own)
        .chain(md5.map(|m| ("body_md5", m)));
    for (slot, pair) in pairs.iter_mut().zip(all) {
        *slot = pair;
    }
    let mut m = mac(secret);
    feed_string_to_sign(method, path, pairs, &mut |bytes| m.update(bytes));
    let mut signature = [0u8; 64];
    let signature = hex_lower(&m.finalize().into_bytes(), &mut signature);
    let mut query =
        String::with_capacity(96 + pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum::<usize>());
    for (k, v) in pairs.iter().copied().chain([("auth_signature", signature)]) {
        if !query.is_empty() {
            query.push('&');
        }
        form_encode(k, &mut query);
        query.push('=');
        form_encode(v, &mut query);
    }
    query
}

/// `application/x-www-form-urlencoded`, as `form_urlencoded` writes it; most values need none.
fn form_encode(text: &str, out: &mut String) {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_');
    if text.bytes().all(plain) {
        out.push_str(text);
    } else {
        out.extend(form_urlencoded::byte_serialize(text.as_bytes()));
    }
}

/// `bytes` as lower-case hex in `out` (twice as long).
fn hex_lower<'a>(bytes: &[u8], out: &'a mut [u8]) -> &'a str {
    // Sizes are fixed by the callers (16 and 32 digest bytes into 32 and 64).
    hex::encode_to_slice(bytes, out).unwrap_or_else(|e| unreachable!("{e}"));
    std::str::from_utf8(out).unwrap_or_else(|e| unreachable!("{e}"))
}

/// `n` in decimal, written into the end of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Why an HTTP API request was not accepted (all are answered with 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiAuthError {
    MissingParam(&'static str),
    BadTimestamp,
    TimestampExpired { skew: u64, window: u64 },
    BodyMd5Mismatch,
    InvalidSignature,
}

impl std::fmt::Display for ApiAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiAuthError::MissingParam(p) => write!(f, "Missing {p} in the query string"),
            ApiAuthError::BadTimestamp => write!(f, "auth_timestamp must be a unix time in seconds"),
            ApiAuthError::TimestampExpired { skew, window } => write!(
                f,
                "auth_timestamp is {skew} s away from the server's clock (allowed: {window} s); check the clock"
            ),
            ApiAuthError::BodyMd5Mismatch => write!(f, "body_md5 does not match the request body"),
            ApiAuthError::InvalidSignature => write!(f, "Invalid signature"),
        }
    }
}

/// A decoded HTTP API request, as much of it as signing covers.
#[derive(Clone, Copy)]
pub struct ApiRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// URL-decoded query parameters in their original order.
    pub params: &'a Params<'a>,
    pub body: &'a [u8],
}

impl ApiRequest<'_> {
    /// Verifies timestamp window, body checksum and signature, in that order; `now` is unix seconds.
    /// A `window` of 0 disables the timestamp check. Allocates nothing: the checksum and signature
    /// are compared as bytes, and the string to sign goes to the HMAC piece by piece.
    pub fn verify(&self, secret: &str, now: u64, window: u64) -> Result<(), ApiAuthError> {
        let signature = self
            .params
            .get("auth_signature")
            .ok_or(ApiAuthError::MissingParam("auth_signature"))?;
        let timestamp = self
            .params
            .get("auth_timestamp")
            .ok_or(ApiAuthError::MissingParam("auth_timestamp"))?;
        if window > 0 {
            let ts: u64 = timestamp.parse().map_err(|_| ApiAuthError::BadTimestamp)?;
            let skew = now.abs_diff(ts);
            if skew > window {
                return Err(ApiAuthError::TimestampExpired { skew, window });
            }
        }
        if !self.body.is_empty() {
            let md5 = self
                .params
                .get("body_md5")
                .ok_or(ApiAuthError::MissingParam("body_md5"))?;
            // Hex of either case, as before; anything that is not 32 hex digits cannot match.
            let mut claimed = [0u8; 16];
            if hex::decode_to_slice(md5, &mut claimed).is_err() || claimed[..] != Md5::digest(self.body)[..] {
                return Err(ApiAuthError::BodyMd5Mismatch);
            }
        }
        let mut provided = [0u8; 32];
        if hex::decode_to_slice(signature, &mut provided).is_err() {
            return Err(ApiAuthError::InvalidSignature);
        }
        let mut m = mac(secret);
        feed_string_to_sign(self.method, self.path, self.params.pairs(), &mut |bytes| {
            m.update(bytes)
        });
        m.verify_slice(&provided)
            .map_err(|_| ApiAuthError::InvalidSignature)
    }
}
