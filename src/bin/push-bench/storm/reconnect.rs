//! The reconnecting client of the storm: one connect attempt, the retry loop with back-off, and
//! the shared tally of what the clients saw on the way.

use super::*;

/// A connect that took longer than this had its SYN (or the final ACK) dropped: the first
/// retransmission comes after 1 s.
pub(super) const SLOW_CONNECT_NS: u64 = 1_000_000_000;

/// What the reconnecting clients saw, shared by all of them.
#[derive(Default)]
pub(super) struct Reconnects {
    pub(super) restart_at_ns: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) resubscribed: AtomicU64,
    pub(super) gave_up: AtomicU64,
    pub(super) attempts: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) reset: AtomicU64,
    pub(super) timed_out: AtomicU64,
    pub(super) other: AtomicU64,
    pub(super) slow_connects: AtomicU64,
    pub(super) last_resubscribed_ns: AtomicU64,
    pub(super) errors: Mutex<BTreeMap<String, u64>>,
    /// Per client: from its own disconnect to subscribed again.
    pub(super) since_drop: Histogram,
    /// Per client: from the start of the restart to subscribed again.
    pub(super) since_restart: Histogram,
    /// Every TCP connect attempt that got an answer (accepted or refused).
    pub(super) connect: Histogram,
}

impl Reconnects {
    pub(super) fn failed(&self, e: &str) {
        let kind = if e.contains("Connection refused") {
            &self.refused
        } else if e.contains("timed out") {
            &self.timed_out
        } else if e.contains("reset")
            || e.contains("closed")
            || e.contains("eof")
            || e.contains("Broken pipe")
        {
            &self.reset
        } else {
            &self.other
        };
        kind.fetch_add(1, Ordering::Relaxed);
        let key = error_kind(e);
        let mut errors = self.errors.lock();
        if errors.len() < 12 || errors.contains_key(&key) {
            *errors.entry(key).or_default() += 1;
        }
    }

    pub(super) fn settled(&self) -> u64 {
        self.resubscribed.load(Ordering::Relaxed) + self.gave_up.load(Ordering::Relaxed)
    }
}

/// How a client retries, as pusher-js does: at once after a 4200–4299 close, after 1 s when the
/// connection ended any other way (its `closed` callback: EOF, a reset, another code), and with a
/// short doubling back-off while connecting fails.
#[derive(Clone, Copy)]
pub(super) struct Retry {
    pub(super) closed: Duration,
    pub(super) first: Duration,
    pub(super) max: Duration,
    pub(super) give_up_ns: u64,
}

/// One reconnect attempt: TCP connect (timed on its own, to see dropped SYNs), handshake,
/// `connection_established`, subscribe.
pub(super) async fn attempt(
    source: IpAddr,
    server: SocketAddr,
    key: &str,
    channel: &str,
    r: &Reconnects,
) -> Result<Ws, String> {
    let started = now_ns();
    let stream = tcp_connect(source, server).await;
    let took = now_ns() - started;
    if !matches!(&stream, Err(e) if e.contains("timed out")) {
        r.connect.record(took);
    }
    if took > SLOW_CONNECT_NS {
        r.slow_connects.fetch_add(1, Ordering::Relaxed);
    }
    let stream = stream?;
    let work = async {
        let mut ws = Ws::handshake(stream, server, &app_path(key)).await?;
        await_established(&mut ws).await?;
        let subscribe = json!({"event": "pusher:subscribe", "data": {"channel": channel}});
        subscribe_all(&mut ws, &[subscribe]).await?;
        Ok(ws)
    };
    tokio::time::timeout(Duration::from_secs(10), work)
        .await
        .map_err(|_| "handshake/subscribe timed out".to_string())?
}

/// After the server dropped this client (`why`): reconnect until subscribed or the give-up deadline.
pub(super) async fn reconnect(
    why: &str,
    source: IpAddr,
    server: SocketAddr,
    key: &str,
    channel: &str,
    retry: Retry,
    r: &Reconnects,
) -> Option<Ws> {
    let dropped_at = now_ns();
    r.dropped.fetch_add(1, Ordering::Relaxed);
    if !why.starts_with("close 42") {
        tokio::time::sleep(retry.closed).await;
    }
    let mut delay = retry.first;
    loop {
        r.attempts.fetch_add(1, Ordering::Relaxed);
        match attempt(source, server, key, channel, r).await {
            Ok(ws) => {
                let now = now_ns();
                r.since_drop.record(now - dropped_at);
                r.since_restart
                    .record(now.saturating_sub(r.restart_at_ns.load(Ordering::Relaxed)));
                r.last_resubscribed_ns.fetch_max(now, Ordering::Relaxed);
                r.resubscribed.fetch_add(1, Ordering::Relaxed);
                return Some(ws);
            }
            Err(e) => r.failed(&e),
        }
        if now_ns() + delay.as_nanos() as u64 >= retry.give_up_ns {
            r.gave_up.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(retry.max);
    }
}
