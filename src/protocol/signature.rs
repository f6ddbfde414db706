//! HMAC-SHA256 signatures: channel auth, user sign-in, HTTP API requests and webhooks.
//!
//! Verification always goes through `Mac::verify_slice`, a constant-time comparison, so a client
//! cannot learn a valid signature byte by byte from response timings.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

use super::query::{Params, INLINE};

type HmacSha256 = Hmac<Sha256>;

/// Pusher rejects API requests whose `auth_timestamp` is further than this from now.
pub const DEFAULT_TIMESTAMP_WINDOW_SECS: u64 = 600;

fn mac(secret: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    HmacSha256::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// Lower-case hex HMAC-SHA256 of `message` under `secret`.
pub fn hmac_sha256_hex(secret: &str, message: &str) -> String {
    let mut m = mac(secret);
    m.update(message.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Constant-time check that `provided_hex` is the HMAC-SHA256 of `message`.
pub fn verify_hmac_sha256_hex(secret: &str, message: &str, provided_hex: &str) -> bool {
    let Ok(provided) = hex::decode(provided_hex) else {
        return false;
    };
    let mut m = mac(secret);
    m.update(message.as_bytes());
    m.verify_slice(&provided).is_ok()
}

/// What a private or presence subscription signs: `socket_id:channel[:channel_data]`.
pub fn channel_string_to_sign(socket_id: &str, channel: &str, channel_data: Option<&str>) -> String {
    match channel_data {
        Some(d) => format!("{socket_id}:{channel}:{d}"),
        None => format!("{socket_id}:{channel}"),
    }
}

/// What a user sign-in signs: `socket_id::user::user_data`.
pub fn user_string_to_sign(socket_id: &str, user_data: &str) -> String {
    format!("{socket_id}::user::{user_data}")
}

/// The `auth` value an auth endpoint returns: `key:hex(hmac(secret, string_to_sign))`.
pub fn auth_token(key: &str, secret: &str, string_to_sign: &str) -> String {
    format!("{key}:{}", hmac_sha256_hex(secret, string_to_sign))
}

/// Checks an `auth` value of the form `key:signature` against the app's key and secret.
pub fn verify_auth_token(key: &str, secret: &str, string_to_sign: &str, auth: &str) -> bool {
    match auth.split_once(':') {
        Some((k, sig)) => k == key && verify_hmac_sha256_hex(secret, string_to_sign, sig),
        None => false,
    }
}

/// Lower-case hex MD5 of an HTTP body, as sent in `body_md5`.
pub fn body_md5_hex(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// `METHOD\nPATH\nk=v&…` over the query parameters except `auth_signature`, keys lower-cased
/// and sorted, values not re-escaped (Pusher's HTTP API signing).
pub fn api_string_to_sign(method: &str, path: &str, params: &[(String, String)]) -> String {
    let mut out = Vec::with_capacity(
        method.len() + path.len() + 2 + params.iter().map(|(k, v)| k.len() + v.len() + 2).sum::<usize>(),
    );
    feed_string_to_sign(method, path, params, &mut |bytes| out.extend_from_slice(bytes));
    // Only whole `&str`s and ASCII case changes of them were fed in.
    String::from_utf8(out).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Feeds the string to sign to `sink` piece by piece, so a verifier can hash it without building
/// it: the pairs are ordered through an array of indices on the stack, keys lower-cased on the way.
fn feed_string_to_sign<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    path: &str,
    pairs: &[(K, V)],
    sink: &mut impl FnMut(&[u8]),
) {
    feed_cased(method, u8::to_ascii_uppercase, sink);
    sink(b"\n");
    sink(path.as_bytes());
    sink(b"\n");
    let signed = |i: &usize| pairs[*i].0.as_ref() != "auth_signature";
    let lower = |i: usize| pairs[i].0.as_ref().bytes().map(|b| b.to_ascii_lowercase());
    let mut inline = [0usize; INLINE];
    let mut spilled = Vec::new();
    let order: &mut [usize] = if pairs.len() <= INLINE {
        let mut n = 0;
        for i in (0..pairs.len()).filter(signed) {
            inline[n] = i;
            n += 1;
        }
        &mut inline[..n]
    } else {
        spilled.extend((0..pairs.len()).filter(signed));
        &mut spilled
    };
    order.sort_unstable_by(|&a, &b| {
        lower(a)
            .cmp(lower(b))
            .then_with(|| pairs[a].1.as_ref().cmp(pairs[b].1.as_ref()))
    });
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            sink(b"&");
        }
        feed_cased(pairs[i].0.as_ref(), u8::to_ascii_lowercase, sink);
        sink(b"=");
        sink(pairs[i].1.as_ref().as_bytes());
    }
}

/// Feeds `text` with `case` applied to each byte; as it is when that changes nothing (the rule).
fn feed_cased(text: &str, case: fn(&u8) -> u8, sink: &mut impl FnMut(&[u8])) {
    if text.bytes().all(|b| case(&b) == b) {
        return sink(text.as_bytes());
    }
    let mut buf = [0u8; 64];
    for chunk in text.as_bytes().chunks(buf.len()) {
        for (to, from) in buf.iter_mut().zip(chunk) {
            *to = case(from);
        }
        sink(&buf[..chunk.len()]);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "278d425bdf160c739803";
    const SECRET: &str = "7ad3773142a6692b25b8";

    #[test]
    fn private_channel_auth_matches_the_pusher_docs_vector() {
        let to_sign = channel_string_to_sign("1234.1234", "private-foobar", None);
        assert_eq!(
            auth_token(KEY, SECRET, &to_sign),
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
        );
    }

    #[test]
    fn presence_channel_auth_covers_channel_data() {
        let pusher = r#"{"user_id":10,"user_info":{"name":"Mr. Pusher"}}"#;
        let channels = r#"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#;
        assert_eq!(
            hmac_sha256_hex(
                SECRET,
                &channel_string_to_sign("1234.1234", "presence-foobar", Some(pusher))
            ),
            "afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c"
        );
        assert_eq!(
            hmac_sha256_hex(
                SECRET,
                &channel_string_to_sign("1234.1234", "presence-foobar", Some(channels))
            ),
            "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
        );
    }

    #[test]
    fn user_signin_matches_the_pusher_docs_vector() {
        assert_eq!(
            hmac_sha256_hex(SECRET, &user_string_to_sign("1234.1234", r#"{"id":"12345"}"#)),
            "4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"
        );
    }

    #[test]
    fn webman_socket_auth_vectors() {
        assert_eq!(
            auth_token("app-key-123", "app-secret-456", "1.5:private-user-1"),
            "app-key-123:9595320f4e548deded08e106fbf62dc872a05b15e1f6f66aa9f504336c3219cf"
        );
        let data = r#"{"user_id":100,"user_info":{"name":"Tom"}}"#;
        assert_eq!(
            hmac_sha256_hex(
                "app-secret-456",
                &channel_string_to_sign("1.5", "presence-room", Some(data))
            ),
            "dcee10907084e2ec31053829bbb0e75379ac284e47a4c72f1c87ffd001f95eea"
        );
    }

    #[test]
    fn auth_tokens_verify_only_with_the_right_key_and_signature() {
        let to_sign = channel_string_to_sign("1.5", "private-a", None);
        let good = auth_token("k", "s", &to_sign);
        assert!(verify_auth_token("k", "s", &to_sign, &good));
        assert!(!verify_auth_token("k", "other", &to_sign, &good));
        assert!(!verify_auth_token("k2", "s", &to_sign, &good));
        assert!(!verify_auth_token("k", "s", &to_sign, "k:zz"));
        assert!(!verify_auth_token("k", "s", &to_sign, "nocolon"));
        assert!(!verify_auth_token("k", "s", &to_sign, ""));
    }

    #[test]
    fn http_api_signature_matches_the_pusher_docs_vector() {
        let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        assert_eq!(body_md5_hex(body), "ec365a775a4cd0599faeb73354201b6f");
        let params: Vec<(String, String)> = vec![
            ("auth_key".into(), KEY.into()),
            ("auth_timestamp".into(), "1353088179".into()),
            ("auth_version".into(), "1.0".into()),
            ("body_md5".into(), "ec365a775a4cd0599faeb73354201b6f".into()),
        ];
        let to_sign = api_string_to_sign("POST", "/apps/3/events", &params);
        assert_eq!(
            to_sign,
            "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
        );
        assert_eq!(
            hmac_sha256_hex(SECRET, &to_sign),
            "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
        );
    }

    #[test]
    fn webman_api_vector_verifies_within_the_window() {
        let body = br#"{"name":"message","data":"{\"content\":\"hi\"}","channels":["user-1"]}"#;
        let params = Params::parse(
            "auth_key=app-key-123&auth_signature=3b5d0c83d3af7943fcf76fed515a5ff67e9957e69104e66578f77ef5eb6cfadd&auth_timestamp=1700000000&body_md5=4f594a2b8a5cef012f95d879b65ecc11",
        );
        let req = ApiRequest {
            method: "POST",
            path: "/apps/1024/events",
            params: &params,
            body,
        };
        assert_eq!(req.verify("app-secret-456", 1_700_000_100, 600), Ok(()));
        assert_eq!(
            req.verify("app-secret-456", 1_700_000_601, 600),
            Err(ApiAuthError::TimestampExpired {
                skew: 601,
                window: 600
            })
        );
        assert_eq!(
            req.verify("wrong", 1_700_000_000, 600),
            Err(ApiAuthError::InvalidSignature)
        );
        let tampered = ApiRequest { body: b"{}", ..req };
        assert_eq!(
            tampered.verify("app-secret-456", 1_700_000_000, 600),
            Err(ApiAuthError::BodyMd5Mismatch)
        );
    }

    #[test]
    fn signed_requests_round_trip() {
        let body = br#"{"name":"e","data":"x","channel":"c"}"#;
        let q = sign_api_request("k", "s", "POST", "/apps/1/events", body, 1000, &[]);
        let params = Params::parse(&q);
        let req = ApiRequest {
            method: "POST",
            path: "/apps/1/events",
            params: &params,
            body,
        };
        assert_eq!(req.verify("s", 1000, 600), Ok(()));
    }

    #[test]
    fn string_to_sign_lower_cases_and_sorts_keys_and_upper_cases_the_method() {
        let params: Vec<(String, String)> = [("B", "2"), ("a", "1"), ("auth_signature", "x"), ("c", "")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(api_string_to_sign("post", "/p", &params), "POST\n/p\na=1&b=2&c=");
        assert_eq!(api_string_to_sign("get", "/p", &[]), "GET\n/p\n");
    }

    #[test]
    fn missing_auth_params_are_named() {
        let params = Params::parse("auth_key=k");
        let req = ApiRequest {
            method: "GET",
            path: "/",
            params: &params,
            body: b"",
        };
        assert_eq!(
            req.verify("s", 0, 600),
            Err(ApiAuthError::MissingParam("auth_signature"))
        );
    }
}
