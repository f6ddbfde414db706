//! Cache channels' last events: what a new subscriber of a `cache-` channel gets at once.
//!
//! Only publishes from the server side are kept (client events never are), each for the app's
//! `cache_ttl`. One small map behind one lock, touched once per publish to a cache channel and
//! once per subscribe to one; expired entries go at the app's housekeeping tick.

use super::Frame;
use crate::protocol::ChannelName;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The last event of a cache channel.
struct CachedEvent {
    frame: Frame,
    data: String,
    expires: Instant,
}

pub(super) struct EventCache {
    events: Mutex<HashMap<ChannelName, CachedEvent>>,
    ttl: Duration,
}

impl EventCache {
    pub fn new(ttl: Duration) -> EventCache {
        EventCache {
            events: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// Keeps `frame` (whose event data is `data`) as `channel`'s last event.
    pub fn store(&self, channel: &ChannelName, frame: &Frame, data: &str) {
        let cached = CachedEvent {
            frame: frame.clone(),
            data: data.to_owned(),
            expires: Instant::now() + self.ttl,
        };
        self.events.lock().insert(channel.clone(), cached);
    }

    /// The frame to replay to a new subscriber (expired or not: the tick removes old ones).
    pub fn frame(&self, channel: &str) -> Option<Frame> {
        self.events.lock().get(channel).map(|c| c.frame.clone())
    }

    /// The cached event's data and seconds left to live.
    pub fn get(&self, channel: &str) -> Option<(String, u64)> {
        let now = Instant::now();
        let events = self.events.lock();
        let c = events.get(channel).filter(|c| c.expires > now)?;
        Some((c.data.clone(), c.expires.duration_since(now).as_secs()))
    }

    /// Drops the events that expired by `now`.
    pub fn expire(&self, now: Instant) {
        self.events.lock().retain(|_, c| c.expires > now);
    }
}
