//! One app's webhook events from its hub events: the grace period, and what each piece costs.
//!
//! Vacated and removed wait for the app's grace period (`webhook_delay`) and are dropped, together
//! with the matching occupied/added, when the channel or user comes back in time: a page refresh
//! is not going offline. Everything else is ready at once. Every event arrives with a reservation
//! from the app's [`Budget`] ([`envelope_cost`]); it pays for the pending departure while the event
//! waits, and moves with the event into [`Ready`] when it goes out.

use super::budget::Budget;
use super::delivery::{Client, Destination};
use super::{EmitLog, Envelope, Ready};
use crate::config::{AppConfig, WebhookNames};
use crate::hub::ChannelEvent;
use crate::protocol::ChannelName;
use crate::server::console::Tap;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::mem::size_of;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What a pending vacated/removed is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Channel(ChannelName),
    Member(ChannelName, String),
}

/// One copy of a subject in the grace-period map or timeline: the slot, hash-map control bytes
/// and allocator slack (an estimate on the high side), plus its strings.
fn stored_cost(channel: &str, user: Option<&str>) -> usize {
    size_of::<(Instant, Subject, u64)>() + 32 + channel.len() + user.map_or(0, str::len)
}

fn subject_cost(subject: &Subject) -> usize {
    match subject {
        Subject::Channel(c) => stored_cost(c.as_str(), None),
        Subject::Member(c, u) => stored_cost(c.as_str(), Some(u)),
    }
}

/// What an event holds from entering the observer's queue until it is dropped or sent: its slot
/// in that queue and its strings, and for a departure at least the two copies of its subject
/// (map and timeline) it may turn into.
pub(super) fn envelope_cost(event: &ChannelEvent) -> usize {
    let queued = size_of::<Envelope>() + 16;
    match event {
        ChannelEvent::Occupied { channel } | ChannelEvent::Vacated { channel } => {
            (queued + channel.as_str().len()).max(2 * stored_cost(channel.as_str(), None))
        }
        ChannelEvent::MemberAdded { channel, user_id } | ChannelEvent::MemberRemoved { channel, user_id } => {
            let strings = channel.as_str().len() + user_id.len();
            (queued + strings).max(2 * stored_cost(channel.as_str(), Some(user_id)))
        }
        ChannelEvent::CacheMiss { channel } | ChannelEvent::SubscriptionCount { channel, .. } => {
            queued + channel.as_str().len()
        }
        ChannelEvent::ClientEvent {
            channel,
            event,
            data,
            socket_id,
            user_id,
        } => {
            queued
                + channel.as_str().len()
                + event.len()
                + data.len()
                + socket_id.as_str().len()
                + user_id.as_ref().map_or(0, String::len)
        }
    }
}

pub(super) struct AppHooks {
    key: String,
    log: Option<Arc<dyn EmitLog>>,
    names: WebhookNames,
    delay: Duration,
    client_events: bool,
    channel_dest: Option<Arc<Destination>>,
    member_dest: Option<Arc<Destination>>,
    pub budget: Arc<Budget>,
    /// Subjects waiting out the grace period, with the generation that scheduled them.
    pending: HashMap<Subject, u64>,
    timeline: VecDeque<(Instant, Subject, u64)>,
    generation: u64,
}

impl AppHooks {
    /// `tap`: where each receiver reports its requests' outcomes to an open debug console.
    pub fn new(
        app: &AppConfig,
        client: &Client,
        log: Option<Arc<dyn EmitLog>>,
        tap: &Arc<Tap>,
    ) -> Option<AppHooks> {
        let budget = Arc::new(Budget::new(&app.key, app.webhook_max_pending_bytes));
        let dest = |url: &str| {
            let new = || Destination::new(url, app, client.clone(), budget.clone(), tap.clone());
            (!url.is_empty()).then(|| Arc::new(new()))
        };
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
            budget,
            pending: HashMap::new(),
            timeline: VecDeque::new(),
            generation: 0,
        })
    }

    pub fn destinations(&self) -> impl Iterator<Item = &Arc<Destination>> {
        [&self.channel_dest, &self.member_dest].into_iter().flatten()
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

    /// Turns one hub event, holding `held` bytes ([`envelope_cost`]), into ready webhook events
    /// (or a pending one).
    pub fn handle(&mut self, event: ChannelEvent, held: usize, now: Instant, ready: &mut Ready) {
        let (subject, arrived) = match event {
            ChannelEvent::Occupied { channel } => (Subject::Channel(channel), true),
            ChannelEvent::Vacated { channel } => (Subject::Channel(channel), false),
            ChannelEvent::MemberAdded { channel, user_id } => (Subject::Member(channel, user_id), true),
            ChannelEvent::MemberRemoved { channel, user_id } => (Subject::Member(channel, user_id), false),
            ChannelEvent::SubscriptionCount { channel, count } => {
                let e = json!({ "name": "subscription_count", "channel": channel.as_str(), "subscription_count": count });
                return self.push_or_release(self.channel_dest.clone(), e, held, ready);
            }
            ChannelEvent::CacheMiss { channel } => {
                let e = json!({ "name": "cache_miss", "channel": channel.as_str() });
                return self.push_or_release(self.channel_dest.clone(), e, held, ready);
            }
            ChannelEvent::ClientEvent {
                channel,
                event,
                data,
                socket_id,
                user_id,
            } => {
                let mut e = json!({
                    "name": "client_event", "channel": channel.as_str(), "event": event,
                    "data": data, "socket_id": socket_id.as_str(),
                });
                if let Some(u) = user_id {
                    e["user_id"] = Value::String(u);
                }
                let dest = self.channel_dest.clone().filter(|_| self.client_events);
                return self.push_or_release(dest, e, held, ready);
            }
        };
        if self.subject_event(&subject, arrived).0.is_none() {
            self.budget.release(held);
            return;
        }
        let stored = subject_cost(&subject);
        if arrived {
            // Back within the grace period: neither the departure nor the return is news.
            // The departure's timeline copy stays paid for until it comes due.
            if self.pending.remove(&subject).is_some() {
                self.budget.release(held + stored);
            } else {
                self.emit(&subject, true, held, ready);
            }
        } else if self.delay.is_zero() {
            self.emit(&subject, false, held, ready);
        } else {
            self.generation += 1;
            // The envelope paid at least for both copies (see envelope_cost).
            self.budget.release(held.saturating_sub(2 * stored));
            if self.pending.insert(subject.clone(), self.generation).is_some() {
                // A second departure without a return in between replaces the first one's copy.
                self.budget.release(stored);
            }
            self.timeline
                .push_back((now + self.delay, subject, self.generation));
        }
    }

    fn push_or_release(&self, dest: Option<Arc<Destination>>, event: Value, held: usize, ready: &mut Ready) {
        match dest {
            Some(dest) => ready.push(&dest, event, held),
            None => self.budget.release(held),
        }
    }

    /// Releases the departures whose grace period is over.
    pub fn release_due(&mut self, now: Instant, ready: &mut Ready) {
        while let Some((due, _, _)) = self.timeline.front() {
            if *due > now {
                break;
            }
            let Some((_, subject, generation)) = self.timeline.pop_front() else {
                break;
            };
            let stored = subject_cost(&subject);
            if self.pending.get(&subject) == Some(&generation) {
                self.pending.remove(&subject);
                self.emit(&subject, false, 2 * stored, ready);
            } else {
                self.budget.release(stored);
            }
        }
    }

    fn emit(&self, subject: &Subject, arrived: bool, held: usize, ready: &mut Ready) {
        let (Some(dest), value) = self.subject_event(subject, arrived) else {
            self.budget.release(held);
            return;
        };
        ready.push(&dest, value, held);
        if let Some(log) = &self.log {
            match subject {
                Subject::Channel(c) => log.emitted(&self.key, c.as_str(), None, arrived),
                Subject::Member(c, u) => log.emitted(&self.key, c.as_str(), Some(u), arrived),
            }
        }
    }

    pub fn next_due(&self) -> Option<Instant> {
        self.timeline.front().map(|(due, _, _)| *due)
    }
}
