//! The console's event log feed: hooks the transports call where things happen, and one bounded
//! queue per open console stream.
//!
//! A hook must cost nothing while no console is open, because connections, client frames and
//! publishes call it: each starts with one relaxed atomic load ([`Tap::active`]) and returns.
//! Client frames are reported by the session that handled them, through the hub's [`Watch`], with
//! their real outcome (a refusal with the text the client got); webhook requests by their sender,
//! after each attempt.
//! Only with a stream open is an event built, once (one JSON text shared by every stream of the
//! app, never per recipient), and offered to each stream with `try_send`: a full queue drops the
//! event and counts it, so a slow console tab never slows the server; the stream reports the count
//! ("N events skipped") as soon as its reader makes room again.

use crate::hub::{AppHub, Handled, Publish, Session, Watch};
use crate::protocol::SocketId;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// At most this many streams per app: each holds a queue of up to `console_queue` events.
pub(super) const MAX_STREAMS_PER_APP: usize = 8;
/// Event data shown in the log is cut here; the console is for seeing what happens, not a copy.
const DATA_PREVIEW: usize = 1024;

/// Where the hooks send events, shared by every transport of one server.
pub(crate) struct Tap {
    /// Streams open, over all apps: what [`Tap::active`] reads.
    open: AtomicUsize,
    streams: Mutex<Vec<Arc<Watcher>>>,
    capacity: usize,
}

/// One open console stream: the app it watches and what it has not taken yet.
pub(super) struct Watcher {
    app_key: String,
    queue: mpsc::Sender<Arc<str>>,
    /// Events dropped because the queue was full, since the stream last reported them.
    pub skipped: AtomicU64,
}

/// Removes its stream from the tap when the console tab goes away.
pub(super) struct Registration {
    tap: Arc<Tap>,
    pub watcher: Arc<Watcher>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut streams = self.tap.streams.lock();
        streams.retain(|w| !Arc::ptr_eq(w, &self.watcher));
        self.tap.open.store(streams.len(), Ordering::Relaxed);
    }
}

impl Tap {
    /// `capacity`: events queued per stream (`console_queue`).
    pub fn new(capacity: usize) -> Tap {
        Tap {
            open: AtomicUsize::new(0),
            streams: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
        }
    }

    /// Whether any console stream is open: the only cost of every hook while none is.
    #[inline]
    pub fn active(&self) -> bool {
        self.open.load(Ordering::Relaxed) > 0
    }

    /// Opens a stream for `app_key`, or None when the app already has its maximum.
    pub(super) fn watch(self: &Arc<Self>, app_key: &str) -> Option<(Registration, mpsc::Receiver<Arc<str>>)> {
        let mut streams = self.streams.lock();
        if streams.iter().filter(|w| w.app_key == app_key).count() >= MAX_STREAMS_PER_APP {
            return None;
        }
        let (queue, receiver) = mpsc::channel(self.capacity);
        let watcher = Arc::new(Watcher {
            app_key: app_key.to_owned(),
            queue,
            skipped: AtomicU64::new(0),
        });
        streams.push(watcher.clone());
        self.open.store(streams.len(), Ordering::Relaxed);
        let registration = Registration {
            tap: self.clone(),
            watcher,
        };
        Some((registration, receiver))
    }

    #[inline]
    pub fn connection_opened(&self, app: &AppHub, session: &Session) {
        if self.active() {
            self.emit(
                &app.config.key,
                "connection_opened",
                json!({ "socket_id": session.socket_id().as_str() }),
            );
        }
    }

    #[inline]
    pub fn connection_closed(&self, app: &AppHub, session: &Session, code: u16) {
        if self.active() {
            let fields = json!({ "socket_id": session.socket_id().as_str(), "code": code });
            self.emit(&app.config.key, "connection_closed", fields);
        }
    }

    /// One "API publish" per event published (never per recipient); `source` says through what.
    #[inline]
    pub fn published(&self, app: &AppHub, publishes: &[Publish], source: &str) {
        if self.active() {
            for p in publishes {
                let fields = json!({
                    "channel": p.channel.as_str(),
                    "name": p.event,
                    "data": preview(&p.data),
                    "source": source,
                });
                self.emit(&app.config.key, "api_publish", fields);
            }
        }
    }

    /// One webhook request's attempt to `url` for app `key` (its `events` events; `queued`
    /// requests wait behind it): sent, or failed with a reason and whether it is retried. The
    /// sender checks [`Tap::active`] first.
    #[cold]
    pub(crate) fn webhook_attempt(
        &self,
        key: &str,
        url: &str,
        events: u64,
        queued: usize,
        failure: Option<(&str, bool)>,
    ) {
        let (kind, fields) = match failure {
            None => (
                "webhook_sent",
                json!({ "url": url, "events": events, "queued": queued }),
            ),
            Some((reason, retrying)) => (
                "webhook_failed",
                json!({ "url": url, "events": events, "queued": queued, "reason": reason, "retrying": retrying }),
            ),
        };
        self.emit(key, kind, fields);
    }

    /// Builds the event's JSON once and offers it to every stream of app `key`.
    #[cold]
    pub(super) fn emit(&self, key: &str, kind: &str, mut fields: Value) {
        let streams = self.streams.lock();
        if !streams.iter().any(|w| w.app_key == key) {
            return;
        }
        if let Value::Object(map) = &mut fields {
            map.insert("type".into(), kind.into());
            map.insert("time".into(), super::unix_millis().into());
        }
        let text: Arc<str> = fields.to_string().into();
        for watcher in streams.iter().filter(|w| w.app_key == key) {
            if watcher.queue.try_send(text.clone()).is_err() {
                watcher.skipped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// What sessions did with their clients' frames, reported by the code that decided it.
impl Watch for Tap {
    #[inline]
    fn watching(&self) -> bool {
        self.active()
    }

    #[cold]
    fn handled(&self, app: &AppHub, socket_id: &SocketId, outcome: Handled<'_>) {
        let socket_id = socket_id.as_str();
        let (kind, fields) = match outcome {
            Handled::Subscribed { channel } => (
                "subscribed",
                json!({ "socket_id": socket_id, "channel": channel }),
            ),
            Handled::SubscriptionRefused { channel, reason } => (
                "subscription_refused",
                json!({ "socket_id": socket_id, "channel": channel, "reason": reason }),
            ),
            Handled::Unsubscribed { channel } => (
                "unsubscribed",
                json!({ "socket_id": socket_id, "channel": channel }),
            ),
            Handled::ClientEvent { channel, event, data } => (
                "client_event",
                json!({ "socket_id": socket_id, "channel": channel, "name": event, "data": preview(data) }),
            ),
            Handled::ClientEventRefused {
                channel,
                event,
                data,
                reason,
            } => (
                "client_event_refused",
                json!({
                    "socket_id": socket_id,
                    "channel": channel,
                    "name": event,
                    "data": preview(data),
                    "reason": reason,
                }),
            ),
        };
        self.emit(&app.config.key, kind, fields);
    }
}

/// At most [`DATA_PREVIEW`] bytes of `data`, cut on a character boundary.
fn preview(data: &str) -> &str {
    let mut end = data.len().min(DATA_PREVIEW);
    while !data.is_char_boundary(end) {
        end -= 1;
    }
    &data[..end]
}
