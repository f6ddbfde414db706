//! The send path: everything between the hub handing a connection a frame and its bytes reaching
//! the socket.

mod flusher;
mod outbox;
mod socket;

pub(crate) use flusher::{Batch, Flusher, Flushers};
pub(crate) use outbox::{ConnectionOutbox, Flushed};
pub(crate) use socket::{finish, Socket};
