//! The send side of one WebSocket connection: its queue of frames, who writes it (its flusher,
//! or its own task once the socket is full), and the thread's coalescing [`Batch`] that hands
//! scheduled connections to their flushers together.
//!
//! The hub appends frames from whatever thread publishes (each message is framed for WebSocket
//! once, by its first recipient, and every queue holds a reference to the same bytes: nothing is
//! copied or encoded per recipient) and schedules the connection on its [`Flusher`]. When the
//! socket cannot take everything, the connection's own task waits for it to become writable and
//! continues. Bytes from tungstenite (handshake, pongs, close frames) use the same queue, so the
//! stream stays in order. A client whose queue grows past `max_send_queue` is closed with 4100
//! instead of growing memory without bound.

use super::flusher::{Flush, Flusher};
use super::wire::{text_frame, Attempt, Frames, Via};
use crate::hub::{Frame, Outbox};
use crate::protocol::ErrorCode;
use bytes::Bytes;
use parking_lot::Mutex;
use std::cell::RefCell;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// A batch of frames that cannot be written in this long means the peer is gone.
/// Where the connection is in the send state machine (see the `send` module's doc).
#[derive(Default)]
struct Queue {
    frames: Frames,
    /// On its flusher's list, or in this thread's open batch.
    scheduled: bool,
    /// The connection task waits for writability and will write.
    waiting: bool,
    close: Option<(u16, String)>,
    broken: bool,
}

pub(crate) struct ConnectionOutbox {
    stream: Arc<TcpStream>,
    queue: Mutex<Queue>,
    /// Wakes the connection task: the socket was full, or a close was asked for.
    pending: Notify,
    max_bytes: usize,
    /// Weak: the flusher's list holds outboxes, and a cycle would keep sockets open forever.
    flusher: Weak<Flusher<ConnectionOutbox>>,
    me: Weak<ConnectionOutbox>,
}

/// What the connection task should do after flushing.
pub(crate) enum Flushed {
    Idle,
    Close(u16, String),
    Broken,
}

impl ConnectionOutbox {
    pub fn new(
        stream: Arc<TcpStream>,
        max_bytes: usize,
        flusher: Arc<Flusher<ConnectionOutbox>>,
    ) -> Arc<ConnectionOutbox> {
        Arc::new_cyclic(|me| ConnectionOutbox {
            stream,
            queue: Mutex::new(Queue::default()),
            pending: Notify::new(),
            max_bytes,
            flusher: Arc::downgrade(&flusher),
            me: me.clone(),
        })
    }

    /// Resolves when the task has work: a full socket to wait for, or a close request.
    pub async fn pending(&self) {
        self.pending.notified().await
    }

    /// Queues already-framed bytes (tungstenite's handshake answer and control frames).
    pub fn send_raw(&self, bytes: Bytes) {
        self.push(bytes);
    }

    fn push(&self, chunk: Bytes) {
        let mut q = self.queue.lock();
        if q.broken || q.close.is_some() {
            return;
        }
        if q.frames.bytes() + chunk.len() > self.max_bytes {
            q.frames.drop_unstarted();
            q.close = Some((
                ErrorCode::OverCapacity.code(),
                "Client too slow: send queue overflowed".into(),
            ));
            drop(q);
            self.pending.notify_one();
            return;
        }
        q.frames.push(chunk);
        let schedule = !q.scheduled && !q.waiting;
        q.scheduled |= schedule;
        drop(q);
        if !schedule {
            return;
        }
        let Some(me) = self.me.upgrade() else {
            return; // being dropped: nobody is left to write to
        };
        let Err(me) = Batch::defer(&self.flusher, me) else {
            return;
        };
        match self.flusher.upgrade() {
            Some(flusher) => flusher.schedule(me),
            // Shutting down: the connection task writes what is left.
            None => self.pending.notify_one(),
        }
    }

    /// The connection task's turn after [`pending`](Self::pending): writes what the flusher
    /// could not, as the socket becomes writable. A queue that cannot be written within
    /// `write_timeout` (the config's) means the peer is gone (`Broken`).
    pub async fn write_when_writable(&self, write_timeout: Duration) -> Flushed {
        tokio::time::timeout(write_timeout, self.flush())
            .await
            .unwrap_or(Flushed::Broken)
    }

    /// Writes everything queued, waiting for the socket as needed (the connection task).
    pub async fn flush(&self) -> Flushed {
        loop {
            {
                let mut q = self.queue.lock();
                if q.broken {
                    return Flushed::Broken;
                }
                match q.frames.write(&self.stream, Via::Tokio) {
                    Attempt::Done => {
                        q.waiting = false;
                        return match q.close.take() {
                            Some((code, reason)) => Flushed::Close(code, reason),
                            None => Flushed::Idle,
                        };
                    }
                    Attempt::Blocked => q.waiting = true,
                    Attempt::Failed => {
                        q.broken = true;
                        return Flushed::Broken;
                    }
                }
            }
            if self.stream.writable().await.is_err() {
                return Flushed::Broken;
            }
        }
    }
}

impl Flush for ConnectionOutbox {
    /// Writes as much as the socket takes now; called by the flusher.
    fn write_now(&self) {
        let mut q = self.queue.lock();
        q.scheduled = false;
        if q.waiting {
            return;
        }
        match q.frames.write(&self.stream, Via::Direct) {
            Attempt::Done => {}
            Attempt::Blocked => {
                q.waiting = true;
                drop(q);
                self.pending.notify_one();
            }
            Attempt::Failed => {
                q.broken = true;
                drop(q);
                self.pending.notify_one();
            }
        }
    }
}

impl Outbox for ConnectionOutbox {
    fn send(&self, frame: Frame) {
        self.push(frame.encoded(text_frame));
    }

    fn close(&self, code: u16, reason: &str) {
        let mut q = self.queue.lock();
        if q.close.is_none() {
            q.close = Some((code, reason.to_owned()));
        }
        drop(q);
        self.pending.notify_one();
    }
}

/// Connections waiting for the end of a batch, grouped by their flusher.
type Deferred = Vec<(Arc<Flusher<ConnectionOutbox>>, Vec<Arc<ConnectionOutbox>>)>;

thread_local! {
    /// What the [`Batch`] open on this thread will hand over when it ends.
    static DEFERRED: RefCell<Option<Deferred>> = const { RefCell::new(None) };
}

/// While alive, connections scheduled on this thread are handed to their flushers together when
/// it ends: a publish to N subscribers then takes each flusher's lock once instead of N times,
/// and no flusher starts writing half an event's recipients while the publish is still queueing.
/// Only the `send` module's entry points open one.
///
/// Not `Send`: a batch held across an `.await` could end on another thread and leave this one
/// deferring forever; spawned tasks must be `Send`, so the compiler refuses that.
pub(super) struct Batch(std::marker::PhantomData<*const ()>);

impl Batch {
    /// None when a batch is already open on this thread (the outer one hands everything over).
    pub fn begin() -> Option<Batch> {
        DEFERRED.with(|d| {
            let mut d = d.borrow_mut();
            if d.is_some() {
                return None;
            }
            *d = Some(Vec::new());
            Some(Batch(std::marker::PhantomData))
        })
    }

    /// Keeps `outbox` for the open batch; gives it back when there is none. The flusher is only
    /// upgraded for the first connection of its group (a fan-out touches as few reference
    /// counts per recipient as possible).
    fn defer(
        flusher: &Weak<Flusher<ConnectionOutbox>>,
        outbox: Arc<ConnectionOutbox>,
    ) -> Result<(), Arc<ConnectionOutbox>> {
        DEFERRED.with(|d| {
            let mut d = d.borrow_mut();
            let Some(groups) = d.as_mut() else {
                return Err(outbox);
            };
            if let Some((_, outboxes)) = groups
                .iter_mut()
                .find(|(f, _)| Arc::as_ptr(f) == flusher.as_ptr())
            {
                outboxes.push(outbox);
                return Ok(());
            }
            match flusher.upgrade() {
                Some(f) => {
                    groups.push((f, vec![outbox]));
                    Ok(())
                }
                None => Err(outbox),
            }
        })
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let Some(groups) = DEFERRED.with(|d| d.borrow_mut().take()) else {
            return;
        };
        for (flusher, outboxes) in groups {
            flusher.schedule_all(outboxes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::send::Flushers;
    use tokio::net::TcpListener;

    /// An outbox on the server end of a real loopback connection (the client end is returned so
    /// the socket stays open); no flusher task runs, so its list only grows.
    async fn connected_outbox(flushers: &Flushers) -> (Arc<ConnectionOutbox>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let outbox = ConnectionOutbox::new(Arc::new(server), 1 << 20, flushers.for_connection(0));
        (outbox, client)
    }

    #[tokio::test]
    async fn without_a_batch_a_frame_schedules_its_connection_at_once() {
        let flushers = Flushers::new(1);
        let (outbox, _client) = connected_outbox(&flushers).await;
        outbox.send_raw(Bytes::from_static(b"x"));
        assert!(!flushers.pending().all_flushed());
    }

    #[tokio::test]
    async fn a_batch_hands_its_connections_to_their_flusher_when_it_ends() {
        let flushers = Flushers::new(1);
        let (outbox, _client) = connected_outbox(&flushers).await;
        let batch = Batch::begin();
        outbox.send_raw(Bytes::from_static(b"x"));
        assert!(
            flushers.pending().all_flushed(),
            "handed over before the batch ended"
        );
        drop(batch);
        assert!(!flushers.pending().all_flushed());
    }

    #[tokio::test]
    async fn a_batch_opened_inside_another_leaves_the_hand_over_to_the_outer_one() {
        let flushers = Flushers::new(1);
        let (outbox, _client) = connected_outbox(&flushers).await;
        let outer = Batch::begin();
        let inner = Batch::begin();
        assert!(inner.is_none());
        outbox.send_raw(Bytes::from_static(b"x"));
        drop(inner);
        assert!(flushers.pending().all_flushed(), "handed over by the inner batch");
        drop(outer);
        assert!(!flushers.pending().all_flushed());
    }
}
