//! Webhooks: channel occupied/vacated, member added/removed and client events, as signed POSTs.
//!
//! Computed from the hub's real transitions (not periodic snapshots). Vacated and removed wait
//! for the app's grace period (`webhook_delay`) and are dropped, together with the matching
//! occupied/added, when the channel or user comes back in time: a page refresh is not going
//! offline. Occupied and added go out at once. Everything ready at the same moment for the
//! same receiver travels in one request; [`delivery`] retries it with back-off.

mod delivery;

use crate::config::{AppConfig, WebhookNames};
use crate::hub::{ChannelEvent, NoObserver, Observer};
use crate::protocol::ChannelName;
use delivery::Destination;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

pub use delivery::Backlog;

type Envelope = (usize, ChannelEvent);

/// Queues an app's channel events for the webhook task; never blocks.
struct WebhookObserver {
    app: usize,
    tx: mpsc::UnboundedSender<Envelope>,
    /// Channel and member events are the cluster's: only the leader node reports them.
    leader: Arc<AtomicBool>,
}

impl Observer for WebhookObserver {
    fn notify(&self, event: ChannelEvent) {
        let node_local = matches!(
            event,
            ChannelEvent::ClientEvent { .. } | ChannelEvent::CacheMiss { .. }
        );
        if node_local || self.leader.load(Ordering::Acquire) {
            let _ = self.tx.send((self.app, event));
        }
    }
}

/// What a pending vacated/removed is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Channel(ChannelName),
    Member(ChannelName, String),
}

/// Told about every channel and member webhook event this node actually emits, so that a
/// cluster can remember what was reported (a new leader reports what the old one could not).
pub(crate) trait EmitLog: Send + Sync {
    fn emitted(&self, app_key: &str, channel: &str, user_id: Option<&str>, arrived: bool);
}

struct AppHooks {
    key: String,
    log: Option<Arc<dyn EmitLog>>,
    names: WebhookNames,
    delay: Duration,
    client_events: bool,
    channel_dest: Option<Arc<Destination>>,
    member_dest: Option<Arc<Destination>>,
    /// Subjects waiting out the grace period, with the generation that scheduled them.
    pending: HashMap<Subject, u64>,
    timeline: VecDeque<(Instant, Subject, u64)>,
    generation: u64,
}

impl AppHooks {
    fn new(app: &AppConfig, client: &delivery::Client, log: Option<Arc<dyn EmitLog>>) -> Option<AppHooks> {
        let dest =
            |url: &str| (!url.is_empty()).then(|| Arc::new(Destination::new(url, app, client.clone())));
        let channel_dest = dest(&app.channel_hook);
        let member_dest = match (dest(&app.user_hook), app.webhook_names) {
            (Some(d), _) => Some(d),
            // Pusher has one webhook URL for everything; webman sends members only to user_hook.
            (None, WebhookNames::Pusher) => channel_dest.clone(),
            (None, WebhookNames::Webman) => None,
        };
        if channel_dest.is_none() && member_dest.is_none() {
            return None;
        }
        Some(AppHooks {
            key: app.key.clone(),
            log,
            names: app.webhook_names,
            delay: Duration::from_secs_f64(app.webhook_delay),
            client_events: app.webhook_client_events,
            channel_dest,
            member_dest,
            pending: HashMap::new(),
            timeline: VecDeque::new(),
            generation: 0,
        })
    }

    fn name(&self, webman: &'static str, pusher: &'static str) -> &'static str {
        match self.names {
            WebhookNames::Webman => webman,
            WebhookNames::Pusher => pusher,
        }
    }

    fn subject_event(&self, subject: &Subject, arrived: bool) -> (Option<Arc<Destination>>, Value) {
        match subject {
            Subject::Channel(c) => {
                let name = if arrived {
                    self.name("channel_added", "channel_occupied")
                } else {
                    self.name("channel_removed", "channel_vacated")
                };
                (
                    self.channel_dest.clone(),
                    json!({ "name": name, "channel": c.as_str() }),
                )
            }
            Subject::Member(c, user) => {
                let name = if arrived {
                    self.name("user_added", "member_added")
                } else {
                    self.name("user_removed", "member_removed")
                };
                (
                    self.member_dest.clone(),
                    json!({ "name": name, "channel": c.as_str(), "user_id": user }),
                )
            }
        }
    }

    /// Turns one hub event into ready webhook events (or a pending one).
    fn handle(&mut self, event: ChannelEvent, now: Instant, ready: &mut Ready) {
        let (subject, arrived) = match event {
            ChannelEvent::Occupied { channel } => (Subject::Channel(channel), true),
            ChannelEvent::Vacated { channel } => (Subject::Channel(channel), false),
            ChannelEvent::MemberAdded { channel, user_id } => (Subject::Member(channel, user_id), true),
            ChannelEvent::MemberRemoved { channel, user_id } => (Subject::Member(channel, user_id), false),
            ChannelEvent::SubscriptionCount { channel, count } => {
                if let Some(dest) = &self.channel_dest {
                    let e = json!({ "name": "subscription_count", "channel": channel.as_str(), "subscription_count": count });
                    ready.push(dest, e);
                }
                return;
            }
            ChannelEvent::CacheMiss { channel } => {
                if let Some(dest) = &self.channel_dest {
                    ready.push(dest, json!({ "name": "cache_miss", "channel": channel.as_str() }));
                }
                return;
            }
            ChannelEvent::ClientEvent {
                channel,
                event,
                data,
                socket_id,
                user_id,
            } => {
                if let (true, Some(dest)) = (self.client_events, &self.channel_dest) {
                    let mut e = json!({
                        "name": "client_event", "channel": channel.as_str(), "event": event,
                        "data": data, "socket_id": socket_id.as_str(),
                    });
                    if let Some(u) = user_id {
                        e["user_id"] = Value::String(u);
                    }
                    ready.push(dest, e);
                }
                return;
            }
        };
        if self.subject_event(&subject, arrived).0.is_none() {
            return;
        }
        if arrived {
            // Back within the grace period: neither the departure nor the return is news.
            if self.pending.remove(&subject).is_none() {
                self.emit(&subject, true, ready);
            }
        } else if self.delay.is_zero() {
            self.emit(&subject, false, ready);
        } else {
            self.generation += 1;
            self.pending.insert(subject.clone(), self.generation);
            self.timeline
                .push_back((now + self.delay, subject, self.generation));
        }
    }

    /// Releases the departures whose grace period is over.
    fn release_due(&mut self, now: Instant, ready: &mut Ready) {
        while let Some((due, _, _)) = self.timeline.front() {
            if *due > now {
                break;
            }
            let Some((_, subject, generation)) = self.timeline.pop_front() else {
                break;
            };
            if self.pending.get(&subject) == Some(&generation) {
                self.pending.remove(&subject);
                self.emit(&subject, false, ready);
            }
        }
    }

    fn emit(&self, subject: &Subject, arrived: bool, ready: &mut Ready) {
        let (Some(dest), value) = self.subject_event(subject, arrived) else {
            return;
        };
        ready.push(&dest, value);
        if let Some(log) = &self.log {
            match subject {
                Subject::Channel(c) => log.emitted(&self.key, c.as_str(), None, arrived),
                Subject::Member(c, u) => log.emitted(&self.key, c.as_str(), Some(u), arrived),
            }
        }
    }

    fn next_due(&self) -> Option<Instant> {
        self.timeline.front().map(|(due, _, _)| *due)
    }
}

/// Events ready to send, grouped by receiver in the order they happened.
#[derive(Default)]
struct Ready(Vec<(Arc<Destination>, Vec<Value>)>);

impl Ready {
    fn push(&mut self, dest: &Arc<Destination>, event: Value) {
        match self.0.iter_mut().find(|(d, _)| Arc::ptr_eq(d, dest)) {
            Some((_, events)) => events.push(event),
            None => self.0.push((dest.clone(), vec![event])),
        }
    }

    fn send(self) {
        let time_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        for (dest, events) in self.0 {
            dest.enqueue(json!({ "time_ms": time_ms, "events": events }).to_string());
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
    pub fn new(apps: &[AppConfig], leader: Arc<AtomicBool>, log: Option<Arc<dyn EmitLog>>) -> Webhooks {
        let (tx, rx) = mpsc::unbounded_channel();
        let client = delivery::client();
        let apps = apps
            .iter()
            .filter_map(|a| AppHooks::new(a, &client, log.clone()).map(|h| (a.key.clone(), h)))
            .collect();
        Webhooks { tx, rx, apps, leader }
    }

    /// The observer the hub should give app `key`.
    pub fn observer_for(&self, key: &str) -> Arc<dyn Observer> {
        match self.apps.iter().position(|(k, _)| k == key) {
            Some(app) => Arc::new(WebhookObserver {
                app,
                tx: self.tx.clone(),
                leader: self.leader.clone(),
            }),
            None => Arc::new(NoObserver),
        }
    }

    /// Runs until shutdown: spawns one delivery task per receiver and turns hub events into requests.
    pub fn spawn(self, shutdown: watch::Receiver<bool>) -> Arc<WebhookStats> {
        let stats = Arc::new(WebhookStats {
            destinations: self.destinations(),
        });
        for dest in &stats.destinations {
            tokio::spawn(dest.clone().run(shutdown.clone()));
        }
        tokio::spawn(self.run(shutdown));
        stats
    }

    fn destinations(&self) -> Vec<Arc<Destination>> {
        let mut out: Vec<Arc<Destination>> = Vec::new();
        for (_, h) in &self.apps {
            for d in [&h.channel_dest, &h.member_dest].into_iter().flatten() {
                if !out.iter().any(|o| Arc::ptr_eq(o, d)) {
                    out.push(d.clone());
                }
            }
        }
        out
    }

    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
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
                    self.apps[app].1.handle(event, now, &mut ready);
                    // Whatever else already happened goes into the same requests.
                    while let Ok((app, event)) = self.rx.try_recv() {
                        self.apps[app].1.handle(event, now, &mut ready);
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
                _ = shutdown.changed() => break,
            }
            ready.send();
        }
    }
}

/// Read-only view of the receivers, for monitoring.
pub(crate) struct WebhookStats {
    destinations: Vec<Arc<Destination>>,
}

impl WebhookStats {
    pub fn backlog(&self) -> Backlog {
        let mut total = Backlog::default();
        for d in &self.destinations {
            total.add(d.backlog());
        }
        total
    }
}
