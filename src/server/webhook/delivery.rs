//! Delivering webhook requests to one receiver: signed, in order, retried, bounded.
//!
//! Each receiver has a queue and one task that sends its head, retrying with exponential
//! back-off (1 s doubling to 60 s) for the app's `webhook_retry_for`, like Pusher. The queue has
//! a fixed length: when a receiver is down for good the oldest requests are dropped and
//! counted, so memory stays bounded and the WebSocket side never waits for it.

use crate::config::AppConfig;
use crate::protocol::signature::hmac_sha256_hex;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{watch, Notify};

pub(super) type Client = HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(60);

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

/// Requests waiting and requests given up on, for monitoring and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub queued: usize,
    pub dropped: u64,
    pub delivered: u64,
}

impl Backlog {
    pub fn add(&mut self, other: Backlog) {
        self.queued += other.queued;
        self.dropped += other.dropped;
        self.delivered += other.delivered;
    }
}

pub(super) struct Destination {
    url: String,
    key: String,
    secret: String,
    retry_for: Duration,
    capacity: usize,
    queue: Mutex<VecDeque<String>>,
    ready: Notify,
    dropped: AtomicU64,
    delivered: AtomicU64,
    client: Client,
}

impl Destination {
    pub fn new(url: &str, app: &AppConfig, client: Client) -> Destination {
        Destination {
            url: url.to_owned(),
            key: app.key.clone(),
            secret: app.secret.clone(),
            retry_for: Duration::from_secs(app.webhook_retry_for),
            capacity: app.webhook_queue.max(1),
            queue: Mutex::new(VecDeque::new()),
            ready: Notify::new(),
            dropped: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            client,
        }
    }

    pub fn enqueue(&self, body: String) {
        let mut q = self.queue.lock();
        if q.len() >= self.capacity {
            q.pop_front();
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_power_of_two() {
                eprintln!(
                    "webman-push: webhook queue for {} is full; {n} oldest request(s) dropped so far",
                    self.url
                );
            }
        }
        q.push_back(body);
        drop(q);
        self.ready.notify_one();
    }

    pub fn backlog(&self) -> Backlog {
        Backlog {
            queued: self.queue.lock().len(),
            dropped: self.dropped.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
        }
    }

    pub async fn run(self: std::sync::Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            let head = self.queue.lock().front().cloned();
            let Some(body) = head else {
                tokio::select! {
                    _ = self.ready.notified() => continue,
                    _ = shutdown.changed() => return,
                }
            };
            tokio::select! {
                delivered = self.deliver(&body) => {
                    let mut q = self.queue.lock();
                    // Pop it unless overflow already dropped it while we were sending.
                    if q.front() == Some(&body) {
                        q.pop_front();
                    }
                    drop(q);
                    if delivered {
                        self.delivered.fetch_add(1, Ordering::Relaxed);
                    } else {
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Sends one body until a 2xx answer or until the retry budget is spent.
    async fn deliver(&self, body: &str) -> bool {
        let started = tokio::time::Instant::now();
        let mut wait = FIRST_RETRY;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let failure = match tokio::time::timeout(REQUEST_TIMEOUT, self.post(body)).await {
                Ok(Ok(status)) if (200..300).contains(&status) => {
                    if attempts > 1 {
                        eprintln!(
                            "webman-push: webhook to {} delivered after {attempts} attempts",
                            self.url
                        );
                    }
                    return true;
                }
                Ok(Ok(status)) => format!("HTTP status {status}"),
                Ok(Err(e)) => e,
                Err(_) => format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
            };
            if started.elapsed() + wait > self.retry_for {
                eprintln!(
                    "webman-push: webhook to {} dropped after {attempts} attempts ({failure})",
                    self.url
                );
                return false;
            }
            if attempts == 1 {
                eprintln!(
                    "webman-push: webhook to {} failed ({failure}); retrying with back-off",
                    self.url
                );
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_RETRY);
        }
    }

    async fn post(&self, body: &str) -> Result<u16, String> {
        let request = Request::post(&self.url)
            .header("Content-Type", "application/json")
            .header("X-Pusher-Key", &self.key)
            .header("X-Pusher-Signature", hmac_sha256_hex(&self.secret, body))
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| e.to_string())?;
        let response = self.client.request(request).await.map_err(|e| format!("{e}"))?;
        let status = response.status().as_u16();
        // Drain the body so the connection can be reused.
        let _ = http_body_util::BodyExt::collect(response.into_body()).await;
        Ok(status)
    }
}
