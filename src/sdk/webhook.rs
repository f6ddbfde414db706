//! Checking a webhook request on the receiving end (`Api::verifyWebhook`): is it from this app,
//! and what does it report.
//!
//! The header names, the signature and the body's envelope are [`crate::protocol::webhook`]'s,
//! the ones the server sends with. Header names match in any case (frameworks lower-case them;
//! PHP's `getallheaders()` does not), the signature is compared in constant time.

use crate::protocol::webhook::{signature_matches, WebhookBody, KEY_HEADER, SIGNATURE_HEADER};
use serde::Deserialize;
use std::fmt;

/// Why a webhook request is not accepted as this app's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No `X-Pusher-Key`, or another app's.
    NotThisApp,
    /// No `X-Pusher-Signature`, or not the body's under this app's secret.
    BadSignature,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::NotThisApp => "X-Pusher-Key is missing or names another app",
            Rejection::BadSignature => "X-Pusher-Signature is missing or does not sign this body",
        })
    }
}

/// Accepts `body` only if `headers` name the app `key` and carry its signature under `secret`.
/// For a header given twice, the first counts.
pub fn verify(key: &str, secret: &str, headers: &[(String, String)], body: &str) -> Result<(), Rejection> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if header(KEY_HEADER) != Some(key) {
        return Err(Rejection::NotThisApp);
    }
    match header(SIGNATURE_HEADER) {
        Some(signature) if signature_matches(secret, body, signature) => Ok(()),
        _ => Err(Rejection::BadSignature),
    }
}

/// One reported event. Which fields are present depends on `name`: `channel_occupied`,
/// `channel_vacated`, `member_added` / `member_removed` (`user_id`), `client_event` (`event`,
/// `data`, `socket_id`, `user_id` when signed in), `subscription_count`, `cache_miss`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookEvent {
    pub name: String,
    pub channel: Option<String>,
    pub user_id: Option<String>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub socket_id: Option<String>,
    pub subscription_count: Option<u64>,
}

/// Reads a verified body into its events (Pusher's shape: `time_ms` in integer milliseconds).
pub fn parse(body: &str) -> Result<WebhookBody<WebhookEvent>, serde_json::Error> {
    serde_json::from_str(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::webhook::sign;

    fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn webman_push_reference_vector_verifies() {
        // What webman/push's own server sends (the compat reference, section 3.13).
        let body = r#"{"time_ms":1700000000.1234,"events":[{"channel":"user-1","name":"channel_added"}]}"#;
        let signature = "7b1ebefdb9b25022c9529d3c05cbd2387ea8a08ec2dcc93793a75c993300a011";
        let sent = headers(&[("x-pusher-key", "app-key-123"), ("X-PUSHER-SIGNATURE", signature)]);
        assert_eq!(verify("app-key-123", "app-secret-456", &sent, body), Ok(()));
        assert_eq!(
            verify("app-key-123", "app-secret-457", &sent, body),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn another_apps_key_or_a_missing_key_is_not_this_app() {
        let body = "{}";
        let signature = sign("s", body);
        let other = headers(&[("X-Pusher-Key", "other"), ("X-Pusher-Signature", &signature)]);
        assert_eq!(verify("k", "s", &other, body), Err(Rejection::NotThisApp));
        let unnamed = headers(&[("X-Pusher-Signature", &signature)]);
        assert_eq!(verify("k", "s", &unnamed, body), Err(Rejection::NotThisApp));
    }

    #[test]
    fn a_wrong_or_missing_signature_is_refused() {
        let body = r#"{"time_ms":1,"events":[]}"#;
        let forged = sign("not-the-secret", body);
        let sent = headers(&[("X-Pusher-Key", "k"), ("X-Pusher-Signature", &forged)]);
        assert_eq!(verify("k", "s", &sent, body), Err(Rejection::BadSignature));
        let unsigned = headers(&[("X-Pusher-Key", "k")]);
        assert_eq!(verify("k", "s", &unsigned, body), Err(Rejection::BadSignature));
        let tampered = headers(&[("X-Pusher-Key", "k"), ("X-Pusher-Signature", &sign("s", "{}"))]);
        assert_eq!(verify("k", "s", &tampered, body), Err(Rejection::BadSignature));
    }

    #[test]
    fn parse_reads_every_kind_of_event() {
        let body = r#"{"time_ms":1700000000123,"events":[
            {"name":"member_added","channel":"presence-a","user_id":"7"},
            {"name":"client_event","channel":"private-a","event":"client-x","data":"{}","socket_id":"1.2"},
            {"name":"subscription_count","channel":"a","subscription_count":3}
        ]}"#;
        let parsed = parse(body).unwrap();
        assert_eq!(parsed.time_ms, 1_700_000_000_123);
        assert_eq!(parsed.events[0].user_id.as_deref(), Some("7"));
        assert_eq!(parsed.events[1].event.as_deref(), Some("client-x"));
        assert_eq!(parsed.events[2].subscription_count, Some(3));
        assert!(parse(r#"{"events":[]}"#).is_err());
    }
}
