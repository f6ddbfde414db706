//! Per-connection request rates: how many requests of one kind a connection may make per second.
//!
//! A connection is limited, not the app: one noisy client must not be able to make the hub do
//! unbounded work (fan-out of client events, presence join/leave frames for everyone else in a
//! channel) while others stay within their budget. Counting is in fixed one-second windows, the
//! same rule Pusher states for client events; a burst that straddles two windows can get twice the
//! rate through, which is still a bound.

use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(1);

/// Counts one kind of request in one-second windows.
pub(super) struct RateWindow {
    started: Instant,
    count: u32,
}

impl RateWindow {
    pub(super) fn new(now: Instant) -> RateWindow {
        RateWindow {
            started: now,
            count: 0,
        }
    }

    /// Counts a request made at `now`; false when it is over `per_second` in the current window.
    /// Refused requests count too, so a client cannot gain by hammering.
    pub(super) fn admit(&mut self, per_second: u32, now: Instant) -> bool {
        if now.saturating_duration_since(self.started) >= WINDOW {
            *self = RateWindow::new(now);
        }
        self.count = self.count.saturating_add(1);
        self.count <= per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_the_rate_then_refuses_until_the_next_second() {
        let t0 = Instant::now();
        let mut rate = RateWindow::new(t0);
        let admitted = (0..5).filter(|_| rate.admit(3, t0)).count();
        assert_eq!(admitted, 3);
        assert!(!rate.admit(3, t0 + Duration::from_millis(999)));
        assert!(rate.admit(3, t0 + WINDOW), "a new window starts after a second");
        assert!(rate.admit(3, t0 + WINDOW));
        assert!(rate.admit(3, t0 + WINDOW));
        assert!(!rate.admit(3, t0 + WINDOW));
    }

    #[test]
    fn a_zero_rate_admits_nothing() {
        let t0 = Instant::now();
        assert!(!RateWindow::new(t0).admit(0, t0));
    }
}
