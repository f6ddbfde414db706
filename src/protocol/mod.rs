//! The Pusher Channels protocol (v7): names, identifiers, messages and signatures.
//!
//! Everything here is a pure function of its inputs so that it can be checked against the
//! Pusher documentation's vectors without a runtime; transports parse with it and hubs route with it.

pub mod channel;
pub mod client_ip;
pub mod error;
pub mod message;
pub mod origin;
pub mod publish_body;
pub mod query;
pub mod request_path;
pub mod signature;
pub mod socket_id;
pub mod webhook;

pub use channel::{ChannelKind, ChannelName};
pub use error::ErrorCode;
pub use socket_id::SocketId;
