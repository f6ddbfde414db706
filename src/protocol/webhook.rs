//! The webhook request as Pusher defines it: a POST whose body is `{"time_ms", "events": [...]}`,
//! signed with the app's secret in `X-Pusher-Signature` (hex HMAC-SHA256 of the body) and naming
//! the app in `X-Pusher-Key`.
//!
//! The server sends it (`server::webhook`) and the SDK checks it (`sdk::webhook`): both take the
//! header names, the signature and the envelope from here, so a receiver accepts exactly what a
//! sender signs.

use super::signature::{hmac_sha256_hex, verify_hmac_sha256_hex};
use serde::{Deserialize, Serialize};

/// Names the app a webhook is for. Sent in this casing: PHP's `getallheaders()` keeps it.
pub const KEY_HEADER: &str = "X-Pusher-Key";

/// Hex HMAC-SHA256 of the raw body under the app's secret.
pub const SIGNATURE_HEADER: &str = "X-Pusher-Signature";

/// A webhook body: the moment it was assembled (unix milliseconds) and its events in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookBody<E> {
    pub time_ms: u64,
    pub events: Vec<E>,
}

/// The `X-Pusher-Signature` value for `body`.
pub fn sign(secret: &str, body: &str) -> String {
    hmac_sha256_hex(secret, body)
}

/// Whether `signature` is `body`'s signature under `secret` (constant time).
pub fn signature_matches(secret: &str, body: &str, signature: &str) -> bool {
    verify_hmac_sha256_hex(secret, body, signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn the_envelope_serialises_time_ms_then_events() {
        let body = WebhookBody {
            time_ms: 1_700_000_000_123,
            events: vec![json!({"name": "channel_occupied", "channel": "a"})],
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"time_ms":1700000000123,"events":[{"name":"channel_occupied","channel":"a"}]}"#
        );
    }

    #[test]
    fn a_signed_body_verifies_and_a_changed_one_does_not() {
        let body = r#"{"time_ms":1,"events":[]}"#;
        let signature = sign("secret", body);
        assert!(signature_matches("secret", body, &signature));
        assert!(!signature_matches("other", body, &signature));
        assert!(!signature_matches(
            "secret",
            r#"{"time_ms":2,"events":[]}"#,
            &signature
        ));
        let parsed: WebhookBody<Value> = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.time_ms, 1);
    }
}
