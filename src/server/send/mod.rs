//! The send path: everything between the hub handing a connection a frame and its bytes reaching
//! the socket, for plain WebSocket connections (a `wss://` one is relayed to these by `tls.rs`).
//!
//! Each connection's [`ConnectionOutbox`] queues whole frames (`wire.rs`); who writes them
//! depends on where the connection is in this state machine (the flags in `outbox.rs`):
//!
//! ```text
//!           push (the hub, any thread; in a Batch the hand-over waits for its end)
//!   Idle ─────────────────────────────────────────────────▶ Scheduled: on its flusher's list
//!    ▲  ▲                                                       │
//!    │  └──────────── queue written by the flusher (send(2)) ◀──┤ flusher: write_now
//!    │                                                          │ socket full (EAGAIN)
//!    │                                                          ▼
//!    └─ queue written (through tokio) ─────────────────── Waiting: the connection's own task
//!                                                          writes as the socket becomes
//!                                                          writable, within WRITE_TIMEOUT
//! ```
//!
//! A push while Scheduled or Waiting only queues. A queue that would grow past `max_send_queue`
//! drops what was not started and asks for a close (4100); a close the hub asks for wakes the task
//! too, which writes what is left, sends the close frame and ends the connection ([`finish`]). A
//! failed write marks the queue broken and the task drops the connection. Bytes tungstenite writes
//! (handshake answer, pongs, close frames) enter through [`Socket`] into the same queue, so the
//! stream stays in order.
//!
//! Coalescing: a [`Batch`] open on a thread holds back the connections it
//! schedules and hands each flusher its share with one lock when it ends; a flusher then yields
//! a few times before writing so that more frames share each system call (`flusher.rs`). Only
//! the entry points below open a batch: [`publish`], [`deliver_local`] and [`client_message`].
//!
//! Modules depend one way: `outbox` → `flusher`, `wire`; `socket` → `outbox`. A flusher knows
//! what it writes only through the [`Flush`](flusher::Flush) trait, and the rest of the server
//! reads the flushers' state only through [`Pending`].

mod flusher;
mod outbox;
mod socket;
mod wire;

use crate::hub::{AppHub, Publish, Session, Watch};
use outbox::Batch;

pub(crate) use flusher::Pending;
pub(crate) use outbox::{ConnectionOutbox, Flushed};
pub(crate) use socket::{finish, Socket};

/// The flusher a connection is scheduled on.
pub(crate) type Flusher = flusher::Flusher<ConnectionOutbox>;
/// One flusher per runtime thread.
pub(crate) type Flushers = flusher::Flushers<ConnectionOutbox>;

/// Publishes events from the HTTP API (to this node's subscribers and to the cluster), their
/// recipients' writes coalesced.
pub(crate) fn publish<'a>(app: &AppHub, publishes: impl IntoIterator<Item = &'a Publish>) {
    let _batch = Batch::begin();
    for publish in publishes {
        app.publish(publish);
    }
}

/// Delivers an event another node published to this node's subscribers, writes coalesced.
pub(crate) fn deliver_local(app: &AppHub, publish: &Publish) {
    let _batch = Batch::begin();
    app.deliver_local(publish);
}

/// Handles one text message from a client: a client event fans out like a publish, and a
/// presence subscription tells every member, so its writes are coalesced too. `watch` (the
/// debug console's tap) hears each outcome while a console is open.
pub(crate) fn client_message(session: &mut Session, text: &str, watch: &impl Watch) {
    let _batch = Batch::begin();
    session.handle_text_watched(text, watch);
}
