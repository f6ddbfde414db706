//! Delivering webhook requests to one receiver: signed, in order, retried, bounded.
//!
//! Each receiver has a queue and one task that sends its head. While the receiver fails, the
//! head is tried again every `webhook_retry_interval` (1 s), not with a growing back-off: the
//! first attempt that succeeds is the moment the receiver is back, and the task then sends the
//! rest of the queue straight away, so new events never wait behind a long back-off. A request
//! is given up `webhook_retry_for` after it was queued. The queue has a fixed length: when a
//! receiver is down for good the oldest requests are dropped and counted, so memory stays
//! bounded and the WebSocket side never waits for it.

use super::budget::Budget;
use crate::config::AppConfig;
use crate::protocol::webhook::{self as wire, KEY_HEADER, SIGNATURE_HEADER};
use crate::server::console::Tap;
use crate::server::shutdown::Shutdown;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::mem::size_of;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

pub(super) type Client = HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A keep-alive client for http and https receivers. Header names go out title-cased
/// (`X-Pusher-Signature`) as Pusher sends them: PHP's `getallheaders()` keeps the wire casing and
/// the official SDK looks the names up case-sensitively.
pub(super) fn client() -> Client {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    HyperClient::builder(TokioExecutor::new())
        .http1_title_case_headers(true)
        .build(https)
}

/// Requests waiting, delivered and given up on, and the bytes of webhook state held, for
/// monitoring and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Requests waiting for their receiver.
    pub queued: usize,
    /// Requests given up on (queue full, or receiver down past `webhook_retry_for`).
    pub dropped: u64,
    pub delivered: u64,
    /// Bytes of webhook state held (pending transitions and queued requests), at most
    /// `webhook_max_pending_bytes` per app.
    pub pending_bytes: usize,
    /// Events dropped because they did not fit under `webhook_max_pending_bytes`.
    pub dropped_events: u64,
}

impl Backlog {
    pub fn add(&mut self, other: Backlog) {
        self.queued += other.queued;
        self.dropped += other.dropped;
        self.delivered += other.delivered;
        self.pending_bytes += other.pending_bytes;
        self.dropped_events += other.dropped_events;
    }
}

/// One receiver's totals, for `/metrics`.
pub(crate) struct DestinationStats {
    pub app_id: String,
    pub url: String,
    pub queued: usize,
    /// Requests sent (each attempt counts).
    pub sent: u64,
    pub failed: u64,
    pub retried: u64,
    pub dropped: u64,
}

/// One request waiting for its receiver.
struct Queued {
    /// Tells this request from a later one with the same body when the sender comes back to pop it.
    id: u64,
    body: Bytes,
    signature: String,
    queued_at: Instant,
    /// Webhook events in the body, for the debug console.
    events: u64,
}

impl Queued {
    /// The bytes it holds in the app's budget.
    fn cost(&self) -> usize {
        size_of::<Queued>() + self.body.len() + self.signature.len()
    }
}

#[derive(Default)]
struct Queue {
    requests: VecDeque<Queued>,
    next_id: u64,
}

pub(super) struct Destination {
    url: String,
    app_id: String,
    key: String,
    secret: String,
    retry_for: Duration,
    retry_interval: Duration,
    /// `webhook_timeout`: how long one request may wait for its answer.
    request_timeout: Duration,
    capacity: usize,
    queue: Mutex<Queue>,
    ready: Notify,
    dropped: AtomicU64,
    delivered: AtomicU64,
    /// Attempts made, attempts that failed, and failed attempts that will be tried again.
    attempts: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    client: Client,
    budget: Arc<Budget>,
    /// Told each attempt's outcome while a debug console is open.
    tap: Arc<Tap>,
}

impl Destination {
    pub fn new(
        url: &str,
        app: &AppConfig,
        client: Client,
        budget: Arc<Budget>,
        tap: Arc<Tap>,
    ) -> Destination {
        Destination {
            url: url.to_owned(),
            app_id: app.id.clone(),
            key: app.key.clone(),
            secret: app.secret.clone(),
            retry_for: Duration::from_secs(app.webhook_retry_for),
            retry_interval: Duration::from_secs_f64(app.webhook_retry_interval),
            request_timeout: Duration::from_secs_f64(app.webhook_timeout),
            capacity: app.webhook_queue.max(1),
            queue: Mutex::new(Queue::default()),
            ready: Notify::new(),
            dropped: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            attempts: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            client,
            budget,
            tap,
        }
    }

    /// Queues a request carrying `events` events, which hold `held` bytes of the app's budget; the
    /// request holds its own size instead, and is dropped with its events if that does not fit.
    pub fn enqueue(&self, mut body: String, held: usize, events: u64) {
        // JSON serialisation leaves spare capacity; what is kept is what is paid for.
        body.shrink_to_fit();
        let request = Queued {
            id: 0,
            signature: wire::sign(&self.secret, &body),
            body: Bytes::from(body),
            queued_at: Instant::now(),
            events,
        };
        if !self.budget.exchange(held, request.cost()) {
            self.budget.count_dropped(events);
            return;
        }
        let mut q = self.queue.lock();
        if q.requests.len() >= self.capacity {
            if let Some(oldest) = q.requests.pop_front() {
                self.budget.release(oldest.cost());
            }
            self.count_dropped("queue is full; oldest request(s) dropped");
        }
        let id = q.next_id;
        q.next_id += 1;
        q.requests.push_back(Queued { id, ..request });
        drop(q);
        self.ready.notify_one();
    }

    pub fn backlog(&self) -> Backlog {
        Backlog {
            queued: self.queue.lock().requests.len(),
            dropped: self.dropped.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            ..Backlog::default()
        }
    }

    /// What monitoring reports about this receiver.
    pub fn stats(&self) -> DestinationStats {
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        DestinationStats {
            app_id: self.app_id.clone(),
            url: self.url.clone(),
            queued: self.queue.lock().requests.len(),
            sent: load(&self.attempts),
            failed: load(&self.failed),
            retried: load(&self.retried),
            dropped: load(&self.dropped),
        }
    }

    /// Counts a request given up on; logs the first and then at powers of two, not every one.
    fn count_dropped(&self, why: &str) {
        let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if n == 1 || n.is_power_of_two() {
            tracing::warn!("webhook to {}: {why}; {n} request(s) dropped so far", self.url);
        }
    }

    /// Takes request `id` off the queue unless overflow already dropped it while it was sent.
    fn remove(&self, id: u64) {
        let mut q = self.queue.lock();
        if q.requests.front().is_some_and(|r| r.id == id) {
            if let Some(done) = q.requests.pop_front() {
                self.budget.release(done.cost());
            }
        }
    }

    pub async fn run(self: Arc<Self>, shutdown: Shutdown) {
        // Since when the receiver has been failing, if it is.
        let mut failing_since: Option<Instant> = None;
        loop {
            let head = {
                let q = self.queue.lock();
                q.requests
                    .front()
                    .map(|r| (r.id, r.body.clone(), r.signature.clone(), r.queued_at, r.events))
            };
            let Some((id, body, signature, queued_at, events)) = head else {
                tokio::select! {
                    _ = self.ready.notified() => continue,
                    _ = shutdown.cancelled() => return,
                }
            };
            if failing_since.is_some() && queued_at.elapsed() > self.retry_for {
                // Its retry window passed while the receiver was down.
                self.remove(id);
                self.count_dropped("receiver down past webhook_retry_for");
                continue;
            }
            self.attempts.fetch_add(1, Ordering::Relaxed);
            let failure = tokio::select! {
                outcome = self.attempt(body, &signature) => outcome.err(),
                _ = shutdown.cancelled() => return,
            };
            let Some(failure) = failure else {
                self.remove(id);
                self.delivered.fetch_add(1, Ordering::Relaxed);
                self.report(events, None);
                if let Some(since) = failing_since.take() {
                    tracing::warn!(
                        "webhook to {} delivered again after {:.1} s; sending the backlog",
                        self.url,
                        since.elapsed().as_secs_f64()
                    );
                }
                continue;
            };
            self.failed.fetch_add(1, Ordering::Relaxed);
            if failing_since.is_none() {
                failing_since = Some(Instant::now());
                tracing::warn!(
                    "webhook to {} failed ({failure}); retrying every {:.2} s",
                    self.url,
                    self.retry_interval.as_secs_f64()
                );
            }
            if queued_at.elapsed() + self.retry_interval > self.retry_for {
                self.remove(id);
                self.report(events, Some((&failure, false)));
                self.count_dropped(&format!("gave up after webhook_retry_for ({failure})"));
                continue;
            }
            self.retried.fetch_add(1, Ordering::Relaxed);
            self.report(events, Some((&failure, true)));
            tokio::select! {
                _ = tokio::time::sleep(self.retry_interval) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// Tells an open console what became of one attempt carrying `events` events: sent, or
    /// failed with a reason and whether it will be tried again. One atomic load when none is.
    fn report(&self, events: u64, failure: Option<(&str, bool)>) {
        if self.tap.active() {
            let queued = self.queue.lock().requests.len();
            self.tap
                .webhook_attempt(&self.key, &self.url, events, queued, failure);
        }
    }

    /// Sends one body once: Ok on a 2xx answer.
    async fn attempt(&self, body: Bytes, signature: &str) -> Result<(), String> {
        match tokio::time::timeout(self.request_timeout, self.post(body, signature)).await {
            Ok(Ok(status)) if (200..300).contains(&status) => Ok(()),
            Ok(Ok(status)) => Err(format!("HTTP status {status}")),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!(
                "no answer within {} s",
                self.request_timeout.as_secs_f64()
            )),
        }
    }

    async fn post(&self, body: Bytes, signature: &str) -> Result<u16, String> {
        let request = Request::post(&self.url)
            .header("Content-Type", "application/json")
            .header(KEY_HEADER, &self.key)
            .header(SIGNATURE_HEADER, signature)
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let response = self.client.request(request).await.map_err(|e| format!("{e}"))?;
        let status = response.status().as_u16();
        // Drain the body so the connection can be reused.
        let _ = http_body_util::BodyExt::collect(response.into_body()).await;
        Ok(status)
    }
}
