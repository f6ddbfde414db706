//! Webhooks: channel occupied/vacated, member added/removed and client events, as signed POSTs.
//!
//! Computed from the hub's real transitions (not periodic snapshots): the hub's observer queues
//! them for one task, [`grace`] holds departures for the grace period, and everything ready at
//! the same moment for the same receiver travels in one request, which [`delivery`] sends and
//! retries. All of it, from the observer's queue to the request bodies, is bounded in bytes per
//! app by [`budget`]; the observer drops what does not fit rather than wait.

mod budget;
mod delivery;
mod grace;

use crate::config::AppConfig;
use crate::hub::{ChannelEvent, NoObserver, Observer};
use crate::protocol::webhook::WebhookBody;
use crate::server::console::Tap;
use crate::server::shutdown::Shutdown;
use budget::Budget;
use delivery::Destination;
use grace::{envelope_cost, AppHooks};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use delivery::Backlog;
pub(crate) use delivery::DestinationStats;

type Envelope = (usize, ChannelEvent);

/// Queues an app's channel events for the webhook task; never blocks. What does not fit in the
/// app's budget is dropped here, so a client churning channels cannot grow the queue.
struct WebhookObserver {
    app: usize,
    /// Unbounded as a channel (sending must not wait); what it holds is paid for from `budget`.
    tx: mpsc::UnboundedSender<Envelope>,
    budget: Arc<Budget>,
    /// Channel and member events are the cluster's: only the leader node reports them.
    leader: Arc<AtomicBool>,
}

impl Observer for WebhookObserver {
    fn notify(&self, event: ChannelEvent) {
        let node_local = matches!(
            event,
            ChannelEvent::ClientEvent { .. } | ChannelEvent::CacheMiss { .. }
        );
        if !(node_local || self.leader.load(Ordering::Acquire)) {
            return;
        }
        let cost = envelope_cost(&event);
        if !self.budget.try_reserve(cost) {
            self.budget.count_dropped(1);
        } else if self.tx.send((self.app, event)).is_err() {
            // The webhook task has stopped (shutdown).
            self.budget.release(cost);
        }
    }
}

/// Told about every channel and member webhook event this node actually emits, so that a
/// cluster can remember what was reported (a new leader reports what the old one could not).
pub(crate) trait EmitLog: Send + Sync {
    fn emitted(&self, app_key: &str, channel: &str, user_id: Option<&str>, arrived: bool);
}

/// Events ready to send, grouped by receiver in the order they happened, with the bytes of the
/// app's budget they hold.
#[derive(Default)]
struct Ready(Vec<(Arc<Destination>, Vec<Value>, usize)>);

impl Ready {
    fn push(&mut self, dest: &Arc<Destination>, event: Value, held: usize) {
        match self.0.iter_mut().find(|(d, _, _)| Arc::ptr_eq(d, dest)) {
            Some((_, events, total)) => {
                events.push(event);
                *total += held;
            }
            None => self.0.push((dest.clone(), vec![event], held)),
        }
    }

    fn send(self) {
        let time_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        for (dest, events, held) in self.0 {
            let count = events.len() as u64;
            dest.enqueue(
                serde_json::to_string(&WebhookBody { time_ms, events }).unwrap_or_default(),
                held,
                count,
            );
        }
    }
}

/// The webhook machinery of a server: observers for the hub, and the task that runs it.
pub(crate) struct Webhooks {
    tx: mpsc::UnboundedSender<Envelope>,
    rx: mpsc::UnboundedReceiver<Envelope>,
    apps: Vec<(String, AppHooks)>,
    leader: Arc<AtomicBool>,
}

impl Webhooks {
    /// `tap`: the debug console's, told each request's outcome while a console is open.
    pub fn new(
        apps: &[AppConfig],
        leader: Arc<AtomicBool>,
        log: Option<Arc<dyn EmitLog>>,
        tap: &Arc<Tap>,
    ) -> Webhooks {
        let (tx, rx) = mpsc::unbounded_channel();
        let client = delivery::client();
        let apps = apps
            .iter()
            .filter_map(|a| AppHooks::new(a, &client, log.clone(), tap).map(|h| (a.key.clone(), h)))
            .collect();
        Webhooks { tx, rx, apps, leader }
    }

    /// The observer the hub should give app `key`.
    pub fn observer_for(&self, key: &str) -> Arc<dyn Observer> {
        match self.apps.iter().position(|(k, _)| k == key) {
            Some(app) => Arc::new(WebhookObserver {
                app,
                tx: self.tx.clone(),
                budget: self.apps[app].1.budget.clone(),
                leader: self.leader.clone(),
            }),
            None => Arc::new(NoObserver),
        }
    }

    /// Runs until shutdown: spawns one delivery task per receiver and turns hub events into requests.
    pub fn spawn(self, shutdown: Shutdown) -> Arc<WebhookStats> {
        let stats = self.stats();
        for dest in &stats.destinations {
            tokio::spawn(dest.clone().run(shutdown.clone()));
        }
        tokio::spawn(self.run(shutdown));
        stats
    }

    /// A view of the receivers and budgets, for monitoring.
    pub fn stats(&self) -> Arc<WebhookStats> {
        Arc::new(WebhookStats {
            destinations: self.destinations(),
            budgets: self.apps.iter().map(|(_, h)| h.budget.clone()).collect(),
        })
    }

    fn destinations(&self) -> Vec<Arc<Destination>> {
        let mut out: Vec<Arc<Destination>> = Vec::new();
        for (_, h) in &self.apps {
            for d in h.destinations() {
                if !out.iter().any(|o| Arc::ptr_eq(o, d)) {
                    out.push(d.clone());
                }
            }
        }
        out
    }

    async fn run(mut self, shutdown: Shutdown) {
        loop {
            let next_due = self.apps.iter().filter_map(|(_, h)| h.next_due()).min();
            let sleep = async {
                match next_due {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending().await,
                }
            };
            let mut ready = Ready::default();
            tokio::select! {
                received = self.rx.recv() => {
                    let Some((app, event)) = received else { break };
                    let now = Instant::now();
                    let held = envelope_cost(&event);
                    self.apps[app].1.handle(event, held, now, &mut ready);
                    // Whatever else already happened goes into the same requests.
                    while let Ok((app, event)) = self.rx.try_recv() {
                        let held = envelope_cost(&event);
                        self.apps[app].1.handle(event, held, now, &mut ready);
                    }
                    for (_, h) in &mut self.apps {
                        h.release_due(now, &mut ready);
                    }
                }
                _ = sleep => {
                    let now = Instant::now();
                    for (_, h) in &mut self.apps {
                        h.release_due(now, &mut ready);
                    }
                }
                _ = shutdown.cancelled() => break,
            }
            ready.send();
        }
    }
}

/// Read-only view of the receivers and budgets, for monitoring.
pub(crate) struct WebhookStats {
    destinations: Vec<Arc<Destination>>,
    budgets: Vec<Arc<Budget>>,
}

impl WebhookStats {
    /// Each receiver's totals and queue depth.
    pub fn destinations(&self) -> Vec<DestinationStats> {
        self.destinations.iter().map(|d| d.stats()).collect()
    }

    pub fn backlog(&self) -> Backlog {
        let mut total = Backlog::default();
        for d in &self.destinations {
            total.add(d.backlog());
        }
        for b in &self.budgets {
            total.pending_bytes += b.used();
            total.dropped_events += b.dropped_events();
        }
        total
    }
}
