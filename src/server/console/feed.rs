//! One console tab's live feed: the Server-Sent Events stream behind `GET /console/stream`.
//!
//! It forwards what the tap queued for this stream, says "N events skipped" when the tap had to
//! drop events because the tab read too slowly (as soon as the tab makes room again), and once a
//! second compares the app's webhook counters with the previous second's to log webhooks sent
//! and failed (the delivery tasks know nothing of the console; a closed console costs them
//! nothing). The stream ends when the tab goes away (its queue is then unregistered) or the
//! server stops.

use super::tap::Registration;
use super::unix_millis;
use crate::hub::AppHub;
use crate::server::shutdown::Shutdown;
use crate::server::webhook::WebhookStats;
use axum::response::sse::Event;
use futures_util::Stream;
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{interval, Interval, MissedTickBehavior};

pub(super) struct Feed {
    pub registration: Registration,
    pub queue: mpsc::Receiver<Arc<str>>,
    pub app: Arc<AppHub>,
    pub webhooks: Arc<WebhookStats>,
    pub shutdown: Shutdown,
}

/// What the feed keeps between items.
struct State {
    feed: Feed,
    /// Events made by the feed itself (opening notice, webhook changes), sent before the queue.
    own: VecDeque<String>,
    every_second: Interval,
    /// Per webhook URL: requests that succeeded and failed, at the last look.
    webhook_counts: HashMap<String, (u64, u64)>,
}

impl Feed {
    pub fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        let mut every_second = interval(Duration::from_secs(1));
        every_second.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut state = State {
            feed: self,
            own: VecDeque::new(),
            every_second,
            webhook_counts: HashMap::new(),
        };
        state.webhook_changes();
        state.own.clear();
        let opened = json!({ "type": "stream_opened", "time": unix_millis() });
        state.own.push_back(opened.to_string());
        futures_util::stream::unfold(state, |mut state| async move {
            let text = state.next().await?;
            Some((Ok(Event::default().data(text)), state))
        })
    }
}

impl State {
    async fn next(&mut self) -> Option<String> {
        loop {
            if self.feed.shutdown.is_cancelled() {
                return None;
            }
            if let Some(text) = self.own.pop_front() {
                return Some(text);
            }
            let skipped = self.feed.registration.watcher.skipped.swap(0, Ordering::Relaxed);
            if skipped > 0 {
                let notice = json!({ "type": "skipped", "count": skipped, "time": unix_millis() });
                return Some(notice.to_string());
            }
            tokio::select! {
                queued = self.feed.queue.recv() => return queued.map(|text| text.to_string()),
                _ = self.every_second.tick() => self.webhook_changes(),
                _ = self.feed.shutdown.cancelled() => return None,
            }
        }
    }

    /// Logs the webhook requests of this app that succeeded or failed since the last look.
    fn webhook_changes(&mut self) {
        let app_id = &self.feed.app.config.id;
        for dest in self.feed.webhooks.destinations() {
            if &dest.app_id != app_id {
                continue;
            }
            let now = (dest.sent.saturating_sub(dest.failed), dest.failed);
            let before = self
                .webhook_counts
                .insert(dest.url.clone(), now)
                .unwrap_or_default();
            for (kind, count) in [
                ("webhook_sent", now.0 - before.0.min(now.0)),
                ("webhook_failed", now.1 - before.1.min(now.1)),
            ] {
                if count > 0 {
                    let event = json!({
                        "type": kind,
                        "url": dest.url,
                        "count": count,
                        "queued": dest.queued,
                        "time": unix_millis(),
                    });
                    self.own.push_back(event.to_string());
                }
            }
        }
    }
}
