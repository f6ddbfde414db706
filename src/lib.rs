//! webman-push: a Pusher Channels server that lives inside a PHP process.
//!
//! The crate is layered so each layer can be read and tested on its own:
//!
//! - [`protocol`]: the Pusher wire format, channel and socket-id rules, signatures. Pure: no I/O, no tokio.
//! - [`hub`]: who is subscribed to what, presence membership and fan-out. No sockets; it hands shared
//!   frames to an [`hub::Outbox`] and has one seam ([`hub::ClusterAdapter`]) for a multi-node adapter.
//!   Each app's channels are one table; refusals are typed errors ([`hub::error`]).
//! - [`server`]: the transports (WebSocket server, HTTP API, webhooks, Redis cluster, metrics and
//!   the debug console) on a tokio runtime that the embedding process starts after it has forked;
//!   the write path is `server::send`, stopping is `server::shutdown`.
//! - [`sdk`]: the publisher's side (event bodies, auth answers, encrypted-channel envelopes, webhook
//!   checks) in plain Rust, as the PHP `Api` class computes it; no I/O, no PHP.
//! - [`api_client`]: the blocking HTTP client the PHP `Api` class publishes with.
//! - [`clock`]: the wall clock the server and the `Api` sign and check timestamps with.
//! - [`config`]: every config key, its default and its check, read from the PHP array's JSON form.
//! - [`log`]: the `tracing` subscriber the server logs through (`log_level`, `log_format`).
//! - `php` (feature `php`): the thin ext-php-rs binding; nothing below it knows PHP exists.

pub mod api_client;
pub mod clock;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod hub;
pub mod log;
pub mod protocol;
pub mod sdk;
pub mod server;

#[cfg(feature = "php")]
mod php;
