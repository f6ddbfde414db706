//! `api_rate_limit`: HTTP API requests per second per app key, as one atomic per app.
//!
//! A token bucket kept as its "theoretical arrival time" (GCRA): the time at which the bucket
//! would be full again. A request moves it one interval later if that is no more than a second's
//! burst ahead of now. One compare-and-swap per request, no lock and no allocation, so publishing
//! apps do not contend with each other.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct RateLimit {
    /// Nanoseconds between requests at the steady rate; 0: no limit.
    interval: u64,
    /// How far ahead of now the arrival time may run: a second's worth of requests.
    burst: u64,
    start: Instant,
    /// Nanoseconds since `start` at which the bucket is full again.
    full_at: AtomicU64,
}

impl RateLimit {
    /// `per_second` requests per second, in bursts of up to that many; 0 disables.
    pub fn new(per_second: u32) -> RateLimit {
        let interval = if per_second == 0 {
            0
        } else {
            1_000_000_000 / u64::from(per_second)
        };
        RateLimit {
            interval,
            burst: interval * u64::from(per_second),
            start: Instant::now(),
            full_at: AtomicU64::new(0),
        }
    }

    /// Takes one request, or says how long until one would be allowed.
    pub fn take(&self, now: Instant) -> Result<(), Duration> {
        if self.interval == 0 {
            return Ok(());
        }
        let now = now.saturating_duration_since(self.start).as_nanos() as u64;
        let mut full_at = self.full_at.load(Ordering::Relaxed);
        loop {
            let next = full_at.max(now) + self.interval;
            if next > now + self.burst {
                return Err(Duration::from_nanos(next - now - self.burst));
            }
            match self
                .full_at
                .compare_exchange_weak(full_at, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(current) => full_at = current,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seconds_worth_passes_then_the_next_waits() {
        let limit = RateLimit::new(5);
        let now = Instant::now();
        for _ in 0..5 {
            assert!(limit.take(now).is_ok());
        }
        let wait = limit.take(now).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        assert!(limit.take(now + Duration::from_millis(200)).is_ok());
    }

    #[test]
    fn zero_is_unlimited() {
        let limit = RateLimit::new(0);
        let now = Instant::now();
        assert!((0..10_000).all(|_| limit.take(now).is_ok()));
    }
}
