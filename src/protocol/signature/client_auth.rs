//! What a client presents to subscribe to a private or presence channel and to sign in as a
//! user: the string its auth endpoint signs and the `key:signature` token it answers with.
//!
//! The hub checks these tokens on every such subscription and sign-in; the Api's auth helpers
//! make them. Both use these functions, so what one signs the other accepts.

use super::mac::{hmac_sha256_hex, verify_hmac_sha256_hex};

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
