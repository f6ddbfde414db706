//! The send queue of one WebSocket connection.
//!
//! The hub pushes frames from whatever thread publishes; the connection's task drains everything
//! queued at once and writes it as one batch (one flush, usually one syscall). A client that
//! reads too slowly to keep its queue under the limit is disconnected with 4100 rather than
//! letting the server's memory grow without bound.

use crate::hub::{Frame, Outbox};
use crate::protocol::ErrorCode;
use parking_lot::Mutex;
use std::collections::VecDeque;
use tokio::sync::Notify;

#[derive(Default)]
struct Queue {
    frames: VecDeque<Frame>,
    bytes: usize,
    close: Option<(u16, String)>,
}

pub(crate) struct ConnectionOutbox {
    queue: Mutex<Queue>,
    ready: Notify,
    max_bytes: usize,
}

/// What the connection task should do next.
pub(crate) struct Drained {
    pub frames: VecDeque<Frame>,
    pub close: Option<(u16, String)>,
}

impl ConnectionOutbox {
    pub fn new(max_bytes: usize) -> ConnectionOutbox {
        ConnectionOutbox {
            queue: Mutex::new(Queue::default()),
            ready: Notify::new(),
            max_bytes,
        }
    }

    /// Resolves when frames or a close request are waiting.
    pub async fn ready(&self) {
        self.ready.notified().await
    }

    pub fn drain(&self) -> Drained {
        let mut q = self.queue.lock();
        q.bytes = 0;
        Drained {
            frames: std::mem::take(&mut q.frames),
            close: q.close.clone(),
        }
    }
}

impl Outbox for ConnectionOutbox {
    fn send(&self, frame: Frame) {
        let mut q = self.queue.lock();
        if q.close.is_some() {
            return;
        }
        if q.bytes + frame.len() > self.max_bytes {
            q.frames.clear();
            q.bytes = 0;
            q.close = Some((
                ErrorCode::OverCapacity.code(),
                "Client too slow: send queue overflowed".into(),
            ));
        } else {
            q.bytes += frame.len();
            q.frames.push_back(frame);
        }
        drop(q);
        self.ready.notify_one();
    }

    fn close(&self, code: u16, reason: &str) {
        let mut q = self.queue.lock();
        if q.close.is_none() {
            q.close = Some((code, reason.to_owned()));
        }
        drop(q);
        self.ready.notify_one();
    }
}
