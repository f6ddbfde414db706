//! The publisher's side of Pusher, in plain Rust: what `Webman\Push\Api` computes before and
//! after a request.
//!
//! Owned here: the `/events` and `/batch_events` bodies and the channel and socket-id checks the
//! Api makes ([`publish`]), the auth endpoint's answers and an encrypted channel's shared secret
//! ([`auth`]), the encrypted-channel envelope ([`encryption`]), webhook verification
//! ([`webhook`]) and the Api's constructor arguments ([`settings`]). None of it does I/O or
//! knows PHP: the binding (`php`) converts zvals to these arguments and the results back, and
//! [`crate::api_client`] carries the requests, so every rule here is unit-tested without a PHP
//! process. Signatures come from [`crate::protocol::signature`], the same functions the server
//! verifies with.

pub mod auth;
pub mod encryption;
mod php_json;
pub mod publish;
pub mod settings;
pub mod webhook;

use std::fmt;

/// An argument the SDK refuses, with the message the caller is shown (in PHP, a `PushException`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidArgument(pub String);

impl fmt::Display for InvalidArgument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidArgument {}
