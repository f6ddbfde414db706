//! What a session tells a live watcher (the debug console) about the client frames it handles:
//! each subscription, unsubscription and client event with its real outcome, reported by the
//! code that decided it, so the watcher never has to guess from the frame what happened.
//!
//! The hub knows no console: the server's tap implements [`Watch`]. A session asks
//! [`Watch::watching`] first (for the tap, one relaxed atomic load) and builds and reports
//! nothing while nobody watches, so a frame costs the same with the console closed.

use super::AppHub;
use crate::protocol::SocketId;

/// Receives what sessions did with their clients' frames.
pub trait Watch {
    /// Whether anyone watches now; nothing is reported while this is false.
    fn watching(&self) -> bool;

    /// What the session `socket_id` of `app` just did; called only while [`Self::watching`].
    fn handled(&self, app: &AppHub, socket_id: &SocketId, outcome: Handled<'_>);
}

/// The outcome of one client frame, borrowed from the frame and the refusal sent for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled<'a> {
    /// The connection is in `channel` now (also when it already was).
    Subscribed { channel: &'a str },
    /// Refused with `reason`, the text of the `pusher:error` the client got.
    SubscriptionRefused { channel: &'a str, reason: &'a str },
    /// The connection was in `channel` and has left it.
    Unsubscribed { channel: &'a str },
    /// Relayed to the channel's other subscribers.
    ClientEvent {
        channel: &'a str,
        event: &'a str,
        data: &'a str,
    },
    /// Not relayed: `reason` is the text of the `pusher:error` the client got.
    ClientEventRefused {
        channel: &'a str,
        event: &'a str,
        data: &'a str,
        reason: &'a str,
    },
}

/// Nobody watches: what a session is handed where no console exists (tests, the fuzzers).
pub struct Unwatched;

impl Watch for Unwatched {
    #[inline]
    fn watching(&self) -> bool {
        false
    }

    fn handled(&self, _: &AppHub, _: &SocketId, _: Handled<'_>) {}
}
