//! Many subscribed connections at once: opening them with bounded concurrency, reading them until
//! told to stop, and counting the ones the server dropped.

use crate::client::{open_subscribed, Sources, Ws};
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

const PONG: &str = r#"{"event":"pusher:pong","data":{}}"#;

/// Connections that ended before the bench asked them to, by reason.
#[derive(Default)]
pub struct Drops {
    pub count: AtomicU64,
    reasons: Mutex<BTreeMap<String, u64>>,
}

impl Drops {
    fn record(&self, reason: String) {
        self.count.fetch_add(1, Ordering::Relaxed);
        *self.reasons.lock().entry(reason).or_default() += 1;
    }

    pub fn total(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub fn reasons(&self) -> BTreeMap<String, u64> {
        self.reasons.lock().clone()
    }
}

/// Reads one subscribed connection until `stop` turns true: answers the server's `pusher:ping`,
/// hands every other text frame to `on_text`. With `clean_close` it ends with a close handshake,
/// otherwise it just drops the socket.
pub async fn read_until_stopped<F: FnMut(&str) + Send>(
    mut ws: Ws,
    mut stop: watch::Receiver<bool>,
    mut on_text: F,
    drops: Arc<Drops>,
    clean_close: bool,
) {
    if !*stop.borrow_and_update() {
        loop {
            tokio::select! {
                biased;
                m = ws.next() => match m {
                    Some(Ok(Message::Text(t))) => {
                        let s = t.as_str();
                        if s.starts_with(r#"{"event":"pusher:ping""#) {
                            let pong = ws.send(Message::text(PONG));
                            if !matches!(tokio::time::timeout(Duration::from_secs(10), pong).await, Ok(Ok(()))) {
                                drops.record("pong write failed".into());
                                return;
                            }
                        } else {
                            on_text(s);
                        }
                    }
                    Some(Ok(Message::Close(c))) => {
                        let why = c.map_or_else(|| "close without code".to_string(), |c| format!("close {} {}", u16::from(c.code), c.reason));
                        drops.record(why);
                        return;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        drops.record(format!("error: {e}"));
                        return;
                    }
                    None => {
                        drops.record("eof".into());
                        return;
                    }
                },
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
    }
    if clean_close {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            ws.close(None).await?;
            // Wait for the server's close frame / EOF.
            while let Some(m) = ws.next().await {
                m?;
            }
            Ok::<(), tokio_tungstenite::tungstenite::Error>(())
        })
        .await;
    }
}

/// The outcome of opening many connections.
pub struct Opened {
    pub established: usize,
    pub failed: usize,
    pub first_errors: BTreeMap<String, u64>,
    pub elapsed: Duration,
    pub tasks: Vec<JoinHandle<()>>,
}

/// Opens `n` connections (at most `concurrency` handshakes in flight), connection `i` subscribed to
/// `channel_of(i)`, each then read by [`read_until_stopped`] with the handler `handler_of(i)`.
/// Returns once every attempt succeeded or failed (each attempt has its own timeout).
#[allow(clippy::too_many_arguments)]
pub async fn open_many<C, H, F>(
    n: usize,
    concurrency: usize,
    sources: &Arc<Sources>,
    server: SocketAddr,
    key: &str,
    channel_of: C,
    handler_of: H,
    stop: &watch::Receiver<bool>,
    drops: &Arc<Drops>,
    clean_close: bool,
) -> Opened
where
    C: Fn(usize) -> String,
    H: Fn(usize) -> F,
    F: FnMut(&str) + Send + 'static,
{
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let gate = gate.clone();
        let tx = tx.clone();
        let source = sources.next();
        let key = key.to_owned();
        let channel = channel_of(i);
        let handler = handler_of(i);
        let stop = stop.clone();
        let drops = drops.clone();
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let opened = open_subscribed(source, server, &key, &channel).await;
            drop(permit);
            match opened {
                Ok(ws) => {
                    let _ = tx.send(Ok(()));
                    drop(tx);
                    read_until_stopped(ws, stop, handler, drops, clean_close).await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        }));
    }
    drop(tx);
    let mut established = 0;
    let mut failed = 0;
    let mut first_errors: BTreeMap<String, u64> = BTreeMap::new();
    // Every attempt ends by itself (timeouts in open_subscribed); this deadline is a backstop.
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(60 + (n / concurrency.max(1)) as u64 * 20);
    while established + failed < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Ok(()))) => established += 1,
            Ok(Some(Err(e))) => {
                failed += 1;
                // Keep error kinds, not every port number.
                let kind: String = e.chars().take(80).collect();
                if first_errors.len() < 10 || first_errors.contains_key(&kind) {
                    *first_errors.entry(kind).or_default() += 1;
                }
            }
            Ok(None) | Err(_) => {
                failed = n - established;
                break;
            }
        }
    }
    Opened {
        established,
        failed,
        first_errors,
        elapsed: started.elapsed(),
        tasks,
    }
}

/// Waits (at most `limit`) for connection tasks to finish after `stop` was set; aborts the rest.
pub async fn join_all(tasks: Vec<JoinHandle<()>>, limit: Duration) -> usize {
    let deadline = tokio::time::Instant::now() + limit;
    let mut stuck = 0;
    for t in tasks {
        let abort = t.abort_handle();
        if tokio::time::timeout_at(deadline, t).await.is_err() {
            abort.abort();
            stuck += 1;
        }
    }
    stuck
}
