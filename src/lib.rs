//! webman-push: a Pusher Channels server that lives inside a PHP process.
//!
//! The crate is layered so each layer can be read and tested on its own:
//!
//! - [`protocol`]: the Pusher wire format, channel and socket-id rules, signatures. Pure: no I/O, no tokio.
//! - [`hub`]: who is subscribed to what, presence membership and fan-out. No sockets; it hands shared
//!   frames to an [`hub::Outbox`] and has one seam ([`hub::ClusterAdapter`]) for a multi-node adapter.
//! - [`server`]: the transports (WebSocket server, HTTP API) on a tokio runtime that the embedding
//!   process starts after it has forked.
//! - [`api_client`]: the blocking HTTP client the PHP `Api` class publishes with.
//! - `php` (feature `php`): the thin ext-php-rs binding; nothing below it knows PHP exists.

pub mod api_client;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod hub;
pub mod log;
pub mod protocol;
pub mod server;

#[cfg(feature = "php")]
mod php;
