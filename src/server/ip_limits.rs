//! Per client address limits on the WebSocket listener: connections held at once
//! (`max_connections_per_ip`) and new connections per second (`connection_rate_per_ip`).
//!
//! The map is touched twice per connection (admitted, ended), never per message. Its keys are
//! chosen by whoever connects, so its size is bounded: an entry whose address holds no connection
//! and whose bucket is full again says nothing and is pruned once the map reaches
//! [`MAX_IDLE_ENTRIES`]; entries that hold connections are bounded by the sockets themselves.
//! IPv6 addresses count per /64, the block one subscriber is usually given, or one host could
//! connect from as many addresses as it likes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Map size at which entries that hold nothing are pruned.
const MAX_IDLE_ENTRIES: usize = 65536;

/// Why a connection was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OverLimit {
    Connections,
    Rate,
}

impl OverLimit {
    pub fn message(&self) -> &'static str {
        match self {
            OverLimit::Connections => "Too many connections from this address",
            OverLimit::Rate => "Too many new connections from this address; retry in a second",
        }
    }
}

struct Entry {
    held: usize,
    /// New connections this address may still open now (refills at the rate per second).
    tokens: f64,
    refilled: Instant,
}

pub(crate) struct IpLimits {
    max_per_ip: usize,
    rate: u32,
    map: Mutex<Entries>,
}

struct Entries {
    by_ip: HashMap<IpAddr, Entry>,
    /// Size at which the next prune happens; doubles past what pruning cannot free, so a map full
    /// of held connections is not swept on every connect.
    prune_at: usize,
}

/// A connection counted against its address; dropping it releases the count.
pub(crate) struct IpSlot {
    limits: Arc<IpLimits>,
    ip: IpAddr,
}

impl IpLimits {
    pub fn new(max_per_ip: usize, rate: u32) -> IpLimits {
        IpLimits {
            max_per_ip,
            rate,
            map: Mutex::new(Entries {
                by_ip: HashMap::new(),
                prune_at: MAX_IDLE_ENTRIES,
            }),
        }
    }

    /// Counts a new connection from `ip`, or says which limit it is over. None when both are off.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Result<Option<IpSlot>, OverLimit> {
        if self.max_per_ip == 0 && self.rate == 0 {
            return Ok(None);
        }
        let ip = bucket_of(ip);
        let rate = f64::from(self.rate);
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.by_ip.len() >= map.prune_at {
            map.by_ip.retain(|_, e| {
                e.held > 0
                    || (rate > 0.0 && e.tokens + now.duration_since(e.refilled).as_secs_f64() * rate < rate)
            });
            if map.by_ip.len() >= MAX_IDLE_ENTRIES / 2 {
                // Still full of recent addresses: forget their rate history rather than grow.
                map.by_ip.retain(|_, e| e.held > 0);
            }
            map.prune_at = (map.by_ip.len() * 2).max(MAX_IDLE_ENTRIES);
        }
        let entry = map.by_ip.entry(ip).or_insert(Entry {
            held: 0,
            tokens: rate,
            refilled: now,
        });
        if self.max_per_ip > 0 && entry.held >= self.max_per_ip {
            return Err(OverLimit::Connections);
        }
        if self.rate > 0 {
            let elapsed = now.saturating_duration_since(entry.refilled).as_secs_f64();
            entry.tokens = (entry.tokens + elapsed * rate).min(rate);
            entry.refilled = now;
            if entry.tokens < 1.0 {
                return Err(OverLimit::Rate);
            }
            entry.tokens -= 1.0;
        }
        entry.held += 1;
        Ok(Some(IpSlot {
            limits: self.clone(),
            ip,
        }))
    }

    #[cfg(test)]
    fn entries(&self) -> usize {
        self.map.lock().unwrap().by_ip.len()
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut map = self.limits.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.by_ip.get_mut(&self.ip) {
            entry.held = entry.held.saturating_sub(1);
            // Without a rate to remember, an address that holds nothing needs no entry.
            if entry.held == 0 && self.limits.rate == 0 {
                map.by_ip.remove(&self.ip);
            }
        }
    }
}

/// The key an address is counted under: itself for IPv4, its /64 for IPv6.
fn bucket_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn held_connections_are_capped_and_released_on_drop() {
        let limits = Arc::new(IpLimits::new(2, 0));
        let now = Instant::now();
        let a = limits.admit(ip("1.2.3.4"), now).unwrap();
        let _b = limits.admit(ip("1.2.3.4"), now).unwrap();
        assert_eq!(
            limits.admit(ip("1.2.3.4"), now).err(),
            Some(OverLimit::Connections)
        );
        assert!(limits.admit(ip("1.2.3.5"), now).is_ok(), "another address");
        drop(a);
        assert!(limits.admit(ip("1.2.3.4"), now).is_ok());
    }

    #[test]
    fn without_a_rate_an_address_that_holds_nothing_leaves_the_map() {
        let limits = Arc::new(IpLimits::new(2, 0));
        drop(limits.admit(ip("1.2.3.4"), Instant::now()));
        assert_eq!(limits.entries(), 0);
    }

    #[test]
    fn the_rate_refills_over_time() {
        let limits = Arc::new(IpLimits::new(0, 2));
        let now = Instant::now();
        for _ in 0..2 {
            limits.admit(ip("1.2.3.4"), now).unwrap();
        }
        assert_eq!(limits.admit(ip("1.2.3.4"), now).err(), Some(OverLimit::Rate));
        assert!(limits
            .admit(ip("1.2.3.4"), now + Duration::from_millis(600))
            .is_ok());
    }

    #[test]
    fn ipv6_addresses_count_per_64() {
        let limits = Arc::new(IpLimits::new(1, 0));
        let now = Instant::now();
        let _a = limits.admit(ip("2001:db8::1"), now).unwrap();
        assert!(limits.admit(ip("2001:db8::ffff:2"), now).is_err());
        assert!(limits.admit(ip("2001:db8:0:1::1"), now).is_ok());
    }

    #[test]
    fn the_map_stays_bounded_when_every_connection_comes_from_a_new_address() {
        let limits = Arc::new(IpLimits::new(0, 1));
        let now = Instant::now();
        for i in 0..(MAX_IDLE_ENTRIES as u32 * 3) {
            let addr = IpAddr::V4(std::net::Ipv4Addr::from(i));
            drop(limits.admit(addr, now));
        }
        assert!(limits.entries() <= MAX_IDLE_ENTRIES, "{}", limits.entries());
    }

    #[test]
    fn with_both_limits_off_nothing_is_counted() {
        let limits = Arc::new(IpLimits::new(0, 0));
        assert!(limits.admit(ip("1.2.3.4"), Instant::now()).unwrap().is_none());
        assert_eq!(limits.entries(), 0);
    }
}
