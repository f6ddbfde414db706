//! HMAC-SHA256 signatures: channel auth, user sign-in, HTTP API requests and webhooks.
//!
//! One concern a file: `mac` the keyed hash they all use (verified in constant time),
//! `client_auth` the tokens clients present for private and presence channels and sign-in,
//! `string_to_sign` and `api_request` the HTTP API's signing and its allocation-free check.
//! Everything is re-exported here, so callers name `protocol::signature::…` only.

mod api_request;
mod client_auth;
mod mac;
mod string_to_sign;
#[cfg(test)]
mod tests;

pub use api_request::{
    body_md5_hex, sign_api_request, ApiAuthError, ApiRequest, DEFAULT_TIMESTAMP_WINDOW_SECS,
};
pub use client_auth::{auth_token, channel_string_to_sign, user_string_to_sign, verify_auth_token};
pub use mac::{hmac_sha256_hex, verify_hmac_sha256_hex};
pub use string_to_sign::api_string_to_sign;
