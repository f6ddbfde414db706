//! The bytes of webhook state one app may hold: `webhook_max_pending_bytes`.
//!
//! A client that churns channels makes the server remember transitions (queued for the webhook
//! task, waiting out the grace period) and requests (queued for a slow or dead receiver). The
//! queue length alone does not bound that, since one request can carry thousands of events. So
//! every piece of that state holds a reservation here, taken where the event enters (the hub's
//! observer, which must never block) and handed along as the event becomes a pending departure
//! and then part of a request body, until the request is delivered or given up. An event that
//! does not fit is dropped and counted; a log line says so at most every [`LOG_EVERY`].

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Shortest gap between two "events dropped" log lines of one app.
const LOG_EVERY: Duration = Duration::from_secs(10);

pub(super) struct Budget {
    app: String,
    limit: usize,
    used: AtomicUsize,
    dropped_events: AtomicU64,
    /// When the last "events dropped" line went out.
    logged_at: Mutex<Option<Instant>>,
}

impl Budget {
    pub fn new(app: &str, limit: usize) -> Budget {
        Budget {
            app: app.to_owned(),
            limit,
            used: AtomicUsize::new(0),
            dropped_events: AtomicU64::new(0),
            logged_at: Mutex::new(None),
        }
    }

    /// Takes `bytes` if they fit under the limit; never waits.
    pub fn try_reserve(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    pub fn release(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Turns a reservation of `held` bytes into one of `needed` bytes. When the extra does not
    /// fit, the holding is released too and the caller drops what it was for.
    pub fn exchange(&self, held: usize, needed: usize) -> bool {
        if needed <= held {
            self.release(held - needed);
            return true;
        }
        if self.try_reserve(needed - held) {
            return true;
        }
        self.release(held);
        false
    }

    /// Counts events that did not fit; logs at most once per [`LOG_EVERY`].
    pub fn count_dropped(&self, events: u64) {
        let total = self.dropped_events.fetch_add(events, Ordering::Relaxed) + events;
        let now = Instant::now();
        // try_lock: a concurrent caller is about to log the same thing.
        let Some(mut logged_at) = self.logged_at.try_lock() else {
            return;
        };
        if logged_at.is_some_and(|at| now.duration_since(at) < LOG_EVERY) {
            return;
        }
        *logged_at = Some(now);
        tracing::warn!(
            "app {}: webhook state is at webhook_max_pending_bytes ({} bytes); \
             {total} event(s) dropped so far",
            self.app,
            self.limit
        );
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn dropped_events(&self) -> u64 {
        self.dropped_events.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_never_exceed_the_limit() {
        let budget = Budget::new("app", 100);
        assert!(budget.try_reserve(60));
        assert!(!budget.try_reserve(41));
        assert!(budget.try_reserve(40));
        assert_eq!(budget.used(), 100);
        budget.release(100);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn an_exchange_that_does_not_fit_releases_the_holding() {
        let budget = Budget::new("app", 100);
        assert!(budget.try_reserve(30));
        assert!(budget.try_reserve(50));
        assert!(budget.exchange(30, 20), "shrinking always fits");
        assert_eq!(budget.used(), 70);
        assert!(!budget.exchange(20, 60), "needs 40 more, 30 free");
        assert_eq!(budget.used(), 50);
    }
}
