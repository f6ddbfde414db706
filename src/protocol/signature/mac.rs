//! The keyed hash every signature here is made of: HMAC-SHA256 under an app secret, sent as
//! lower-case hex.
//!
//! One place builds the MAC, so the signers and verifiers of every kind agree on it; verifying
//! always goes through `Mac::verify_slice`, a constant-time comparison, so a client cannot learn a
//! valid signature byte by byte from response timings.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The MAC keyed with `secret`, for a verifier that feeds its message piece by piece.
pub(super) fn mac(secret: &str) -> HmacSha256 {
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
