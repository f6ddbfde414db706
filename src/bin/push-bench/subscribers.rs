//! Many subscribed connections at once: opening them with bounded concurrency, reading them until
//! told to stop, and counting the ones the server dropped.

use crate::client::{open_subscribed, Sources, Ws};
use crate::rawws::{close_reason, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;

const PONG: &str = r#"{"event":"pusher:pong","data":{}}"#;

/// Connections that ended before the bench asked them to, by reason.
#[derive(Default)]
pub struct Drops {
    pub count: AtomicU64,
    reasons: Mutex<BTreeMap<String, u64>>,
}

impl Drops {
    /// Counts a drop; returns its reason.
    fn record(&self, reason: String) -> Option<String> {
        self.count.fetch_add(1, Ordering::Relaxed);
        *self.reasons.lock().entry(reason.clone()).or_default() += 1;
        Some(reason)
    }

    pub fn total(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub fn reasons(&self) -> BTreeMap<String, u64> {
        self.reasons.lock().clone()
    }
}

/// Reads one subscribed connection until `stop` turns true: answers the server's `pusher:ping`
/// (and WebSocket pings), hands every other text message to `on_text`. With `clean_close` it ends
/// with a close handshake, otherwise it just drops the socket. Returns why the connection ended
/// when it ended before `stop` (the reason is also counted in `drops`).
pub async fn read_until_stopped<F: FnMut(&str) + Send>(
    mut ws: Ws,
    mut stop: watch::Receiver<bool>,
    mut on_text: F,
    drops: Arc<Drops>,
    clean_close: bool,
) -> Option<String> {
    // A message split over continuation frames (servers rarely do that; handled all the same).
    let mut fragments: Vec<u8> = Vec::new();
    let mut fragmented_text = false;
    if !*stop.borrow_and_update() {
        loop {
            let mut pusher_ping = false;
            let mut ws_ping: Option<Vec<u8>> = None;
            loop {
                let frame = match ws.next_frame() {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => {
                        return drops.record(format!("bad frame: {e}"));
                    }
                };
                match frame.opcode {
                    OP_TEXT | OP_BINARY if frame.fin => {
                        let payload = ws.payload(&frame);
                        match std::str::from_utf8(payload) {
                            Ok(s) if frame.opcode == OP_TEXT => {
                                if s.starts_with(r#"{"event":"pusher:ping""#) {
                                    pusher_ping = true;
                                } else {
                                    on_text(s);
                                }
                            }
                            _ => on_text(""),
                        }
                    }
                    OP_TEXT | OP_BINARY => {
                        fragmented_text = frame.opcode == OP_TEXT;
                        fragments.clear();
                        fragments.extend_from_slice(ws.payload(&frame));
                    }
                    OP_CONTINUATION => {
                        fragments.extend_from_slice(ws.payload(&frame));
                        if frame.fin {
                            match std::str::from_utf8(&fragments) {
                                Ok(s) if fragmented_text => on_text(s),
                                _ => on_text(""),
                            }
                            fragments.clear();
                        }
                    }
                    OP_CLOSE => {
                        return drops.record(close_reason(ws.payload(&frame)));
                    }
                    OP_PING => ws_ping = Some(ws.payload(&frame).to_vec()),
                    _ => {}
                }
            }
            if pusher_ping {
                if let Err(e) = ws.send(OP_TEXT, PONG.as_bytes()).await {
                    return drops.record(format!("pong: {e}"));
                }
            }
            if let Some(p) = ws_ping {
                if let Err(e) = ws.send(OP_PONG, &p).await {
                    return drops.record(format!("pong: {e}"));
                }
            }
            tokio::select! {
                biased;
                r = ws.fill() => {
                    if let Err(e) = r {
                        return drops.record(e);
                    }
                }
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
    }
    if clean_close {
        ws.close(Duration::from_secs(5)).await;
    }
    None
}

/// The outcome of opening many connections.
pub struct Opened {
    pub established: usize,
    pub failed: usize,
    pub first_errors: BTreeMap<String, u64>,
    pub elapsed: Duration,
    pub tasks: Vec<JoinHandle<()>>,
}

impl Opened {
    /// `, errors {kind: count, …}` for a summary line, or nothing when every attempt succeeded.
    pub fn errors_note(&self) -> String {
        if self.first_errors.is_empty() {
            String::new()
        } else {
            format!(", errors {:?}", self.first_errors)
        }
    }
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
    let then = |i| {
        let (handler, stop, drops) = (handler_of(i), stop.clone(), drops.clone());
        move |ws, _source, _channel| async move {
            read_until_stopped(ws, stop, handler, drops, clean_close).await;
        }
    };
    open_many_then(n, concurrency, sources, server, key, channel_of, then).await
}

/// Like [`open_many`], but connection `i` is handed, with its source address and channel, to
/// `then(i)`, which owns it from then on.
pub async fn open_many_then<C, T, S, Fut>(
    n: usize,
    concurrency: usize,
    sources: &Arc<Sources>,
    server: SocketAddr,
    key: &str,
    channel_of: C,
    then: T,
) -> Opened
where
    C: Fn(usize) -> String,
    T: Fn(usize) -> S,
    S: FnOnce(Ws, IpAddr, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
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
        let then = then(i);
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let opened = open_subscribed(source, server, &key, &channel).await;
            drop(permit);
            match opened {
                Ok(ws) => {
                    let _ = tx.send(Ok(()));
                    drop(tx);
                    then(ws, source, channel).await;
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
