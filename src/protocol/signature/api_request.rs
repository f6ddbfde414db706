//! The HTTP API request signature: signing a request (the Api, the tests, the benchmark) and
//! checking one (the server, on every HTTP API request).
//!
//! The check is on the publish hot path, so it allocates nothing: it reads a borrowed query,
//! compares the checksum and the signature as bytes and feeds the string to sign to the HMAC.

use hmac::Mac;
use md5::{Digest, Md5};

use super::mac::{hmac_sha256_hex, mac};
use super::string_to_sign::{api_string_to_sign, feed_string_to_sign};
use crate::protocol::query::Params;

/// Pusher rejects API requests whose `auth_timestamp` is further than this from now.
pub const DEFAULT_TIMESTAMP_WINDOW_SECS: u64 = 600;

/// Lower-case hex MD5 of an HTTP body, as sent in `body_md5`.
pub fn body_md5_hex(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// Builds the signed query string a client sends: the given params plus `auth_key`,
/// `auth_timestamp`, `auth_version`, `body_md5` (when there is a body) and `auth_signature`.
pub fn sign_api_request(
    key: &str,
    secret: &str,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: u64,
    extra: &[(String, String)],
) -> String {
    let mut params: Vec<(String, String)> = extra.to_vec();
    params.push(("auth_key".into(), key.into()));
    params.push(("auth_timestamp".into(), timestamp.to_string()));
    params.push(("auth_version".into(), "1.0".into()));
    if !body.is_empty() {
        params.push(("body_md5".into(), body_md5_hex(body)));
    }
    let signature = hmac_sha256_hex(secret, &api_string_to_sign(method, path, &params));
    params.push(("auth_signature".into(), signature));
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params {
        q.append_pair(k, v);
    }
    q.finish()
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
