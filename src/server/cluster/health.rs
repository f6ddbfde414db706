//! What monitoring asks of the cluster link: is Redis reachable, since when not, and how many
//! bus messages went each way.
//!
//! The reader task is the one that knows: its subscription is either live or being retried.
//! It records each change here; `/ready` and `/metrics` read it without touching Redis.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct LinkHealth {
    /// None while subscribed to the bus; otherwise since when it has not been (start counts).
    down_since: Mutex<Option<Instant>>,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
}

impl Default for LinkHealth {
    fn default() -> Self {
        LinkHealth {
            down_since: Mutex::new(Some(Instant::now())),
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
        }
    }
}

impl LinkHealth {
    pub fn up(&self) {
        *self.down_since.lock() = None;
    }

    /// Keeps the first moment of an outage: retries do not restart the clock.
    pub fn down(&self) {
        self.down_since.lock().get_or_insert_with(Instant::now);
    }

    /// How long Redis has been unreachable; None while connected.
    pub fn down_for(&self) -> Option<Duration> {
        self.down_since.lock().map(|since| since.elapsed())
    }

    pub fn received(&self) {
        self.messages_in.fetch_add(1, Ordering::Relaxed);
    }

    pub fn sent(&self, messages: usize) {
        self.messages_out.fetch_add(messages as u64, Ordering::Relaxed);
    }

    /// Bus messages received, and published to Redis, so far.
    pub fn messages(&self) -> (u64, u64) {
        (
            self.messages_in.load(Ordering::Relaxed),
            self.messages_out.load(Ordering::Relaxed),
        )
    }
}
