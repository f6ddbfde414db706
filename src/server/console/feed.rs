//! One console tab's live feed: the Server-Sent Events stream behind `GET /console/stream`.
//!
//! It forwards what the tap queued for this stream (the transports and the webhook senders report
//! there as things happen), and says "N events skipped" when the tap had to drop events because
//! the tab read too slowly (as soon as the tab makes room again). The stream ends when the tab
//! goes away (its queue is then unregistered) or the server stops.

use super::tap::Registration;
use super::unix_millis;
use crate::server::shutdown::Shutdown;
use axum::response::sse::Event;
use futures_util::Stream;
use serde_json::json;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc;

pub(super) struct Feed {
    pub registration: Registration,
    pub queue: mpsc::Receiver<Arc<str>>,
    pub shutdown: Shutdown,
}

/// What the feed keeps between items.
struct State {
    feed: Feed,
    /// The opening notice, sent before the queue.
    opened: Option<String>,
}

impl Feed {
    pub fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        let opened = json!({ "type": "stream_opened", "time": unix_millis() });
        let state = State {
            feed: self,
            opened: Some(opened.to_string()),
        };
        futures_util::stream::unfold(state, |mut state| async move {
            let text = state.next().await?;
            Some((Ok(Event::default().data(text)), state))
        })
    }
}

impl State {
    async fn next(&mut self) -> Option<String> {
        if self.feed.shutdown.is_cancelled() {
            return None;
        }
        if let Some(text) = self.opened.take() {
            return Some(text);
        }
        let skipped = self.feed.registration.watcher.skipped.swap(0, Ordering::Relaxed);
        if skipped > 0 {
            let notice = json!({ "type": "skipped", "count": skipped, "time": unix_millis() });
            return Some(notice.to_string());
        }
        tokio::select! {
            queued = self.feed.queue.recv() => queued.map(|text| text.to_string()),
            _ = self.feed.shutdown.cancelled() => None,
        }
    }
}
