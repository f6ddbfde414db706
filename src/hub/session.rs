//! One connection's view of the hub: its channels, its presence identities, its rate limits.
//!
//! The transport owns the [`Session`] (no lock needed for per-connection state) and feeds it the
//! text frames it reads; replies go out through the same [`Outbox`] as fan-out, so a client sees
//! them in the order the hub produced them. Dropping a session leaves every channel it was in.

use super::presence::{Presence, PresenceMember};
use super::rate::RateWindow;
use super::users::{SignedInUser, MAX_WATCHLIST};
use super::{
    counters::MessageKind, internal_frame, AppHub, Channel, ChannelEvent, ConnectionSlot, Frame, Outbox,
    Publish, Subscriber, UserId,
};
use crate::protocol::channel::{is_cache_channel, server_to_user_id};
use crate::protocol::message::{
    cache_miss_frame, error_frame, parse_client_message, signin_success_frame, subscription_succeeded_frame,
    ClientEvent, ClientMessage, SubscribeRequest, PONG_FRAME,
};
use crate::protocol::signature::{channel_string_to_sign, user_string_to_sign, verify_auth_token};
use crate::protocol::{ChannelKind, ChannelName, ErrorCode, SocketId};
use std::sync::Arc;
use std::time::Instant;

pub struct Session {
    slot: ConnectionSlot,
    id: u64,
    socket_id: SocketId,
    outbox: Arc<dyn Outbox>,
    /// Channels this connection is in, with its presence user id where the channel is presence.
    /// A list, not a map: a connection is in a handful of channels, and an empty Vec costs
    /// nothing while a HashMap allocates buckets for its first entry.
    channels: Vec<(ChannelName, Option<UserId>)>,
    client_event_rate: RateWindow,
    /// Subscribes and unsubscribes together: each presence join or leave is a frame for everyone
    /// else in the channel, so churn is bounded like client events.
    subscription_rate: RateWindow,
    /// Set once by `pusher:signin`.
    user: Option<SignedInUser>,
}

impl Session {
    /// `id` must be unique on this node; `socket_id` is what clients and the API see.
    pub fn new(slot: ConnectionSlot, id: u64, socket_id: SocketId, outbox: Arc<dyn Outbox>) -> Session {
        Session {
            slot,
            id,
            socket_id,
            outbox,
            channels: Vec::new(),
            user: None,
            client_event_rate: RateWindow::new(Instant::now()),
            subscription_rate: RateWindow::new(Instant::now()),
        }
    }

    pub fn app(&self) -> &Arc<AppHub> {
        self.slot.app()
    }

    pub fn socket_id(&self) -> &SocketId {
        &self.socket_id
    }

    /// Signed in, or member of a channel that needed authorisation (what an app with
    /// `user_authentication_timeout` demands of every connection).
    pub fn is_authorized(&self) -> bool {
        self.user.is_some() || self.channels.iter().any(|(c, _)| c.kind().requires_auth())
    }

    fn send_error(&self, code: Option<ErrorCode>, message: &str) {
        self.outbox
            .send(Frame::from(error_frame(code.map(ErrorCode::code), message)));
    }

    /// Handles one text frame from the client. Bad input becomes a `pusher:error`, never a panic.
    pub fn handle_text(&mut self, text: &str) {
        match parse_client_message(text) {
            Ok(message) => self.handle(message),
            Err(e) => {
                self.slot.app().counters.message_received(MessageKind::Invalid);
                self.send_error(None, &e.0);
            }
        }
    }

    pub fn handle(&mut self, message: ClientMessage) {
        let kind = match &message {
            ClientMessage::Ping => MessageKind::Ping,
            ClientMessage::Pong => MessageKind::Pong,
            ClientMessage::Subscribe(_) => MessageKind::Subscribe,
            ClientMessage::Unsubscribe { .. } => MessageKind::Unsubscribe,
            ClientMessage::Signin { .. } => MessageKind::Signin,
            ClientMessage::ClientEvent(_) => MessageKind::ClientEvent,
        };
        self.slot.app().counters.message_received(kind);
        match message {
            ClientMessage::Ping => self.outbox.send(Frame::from(PONG_FRAME)),
            ClientMessage::Pong => {}
            ClientMessage::Subscribe(req) => {
                if !self.admit_subscription_request() {
                    return;
                }
                if let Err(message) = self.subscribe(req) {
                    self.send_error(None, &message);
                }
            }
            ClientMessage::Unsubscribe { channel } => {
                if self.admit_subscription_request() {
                    self.unsubscribe(&channel);
                }
            }
            ClientMessage::Signin { auth, user_data } => {
                if let Err(message) = self.signin(&auth, &user_data) {
                    self.send_error(None, &message);
                }
            }
            ClientMessage::ClientEvent(event) => {
                if let Err((code, message)) = self.client_event(event) {
                    self.send_error(code, &message);
                }
            }
        }
    }

    /// Counts a subscribe or unsubscribe against `subscription_rate` (0: unlimited); over it the
    /// client gets 4301 and the request is ignored.
    fn admit_subscription_request(&mut self) -> bool {
        let rate = self.slot.app().config.subscription_rate;
        if rate == 0 || self.subscription_rate.admit(rate, Instant::now()) {
            return true;
        }
        self.slot.app().counters.rate_limited();
        self.send_error(
            Some(ErrorCode::SubscriptionRateLimit),
            &format!("Subscription rejected - rate limit of {rate} subscribes and unsubscribes per second exceeded"),
        );
        false
    }

    /// Whether the connection has room for `channel` under `max_channels_per_connection` (0:
    /// unlimited), checked after the name and before any signature work. A channel already joined always has room, so
    /// a repeat subscribe is answered as before.
    fn admit_channel(&self, channel: &str) -> bool {
        let max = self.slot.app().config.max_channels_per_connection;
        if max == 0 || self.channels.len() < max || self.channels.iter().any(|(c, _)| c.as_str() == channel) {
            return true;
        }
        self.send_error(
            Some(ErrorCode::TooManyChannels),
            &format!("Subscription rejected - this connection is already in the maximum of {max} channels"),
        );
        false
    }

    fn subscribe(&mut self, req: SubscribeRequest) -> Result<(), String> {
        let app = self.slot.app().clone();
        let channel = ChannelName::parse(&req.channel, app.config.max_channel_name_length)
            .map_err(|e| format!("Invalid channel name: {e}"))?;
        if !self.admit_channel(channel.as_str()) {
            return Ok(()); // refused, and the refusal (4303) is sent
        }
        if let Some(owner) = server_to_user_id(channel.as_str()) {
            if self.user.as_ref().map(|u| u.id.as_str()) != Some(owner) {
                return Err(format!(
                    "Subscribing to {channel} needs pusher:signin as user {owner}"
                ));
            }
        }
        let kind = channel.kind();
        let member = if kind == ChannelKind::Presence {
            let data = req.channel_data.as_deref().ok_or("Empty channel_data");
            let data = data.inspect_err(|why| self.log_rejected(&channel, why))?;
            self.check_auth(&channel, Some(data), req.auth.as_deref())?;
            let member = PresenceMember::from_channel_data(data, app.config.presence_max_member_size);
            Some(member.inspect_err(|why| self.log_rejected(&channel, why))?)
        } else {
            if kind.requires_auth() {
                self.check_auth(&channel, None, req.auth.as_deref())?;
            }
            None
        };

        let mut shard = app.shard(channel.as_str()).write();
        let entry = shard.entry(channel.clone()).or_insert_with(|| Channel {
            presence: (kind == ChannelKind::Presence).then(Presence::default),
            ..Channel::default()
        });
        if entry.subscribers.contains_key(&self.id) {
            // Subscribing twice changes nothing but is answered, so a client waiting for it proceeds.
            let data = match &entry.presence {
                Some(p) => p.subscription_data(&app.remote.read().members(channel.as_str())),
                None => "{}".to_owned(),
            };
            self.outbox
                .send(Frame::from(subscription_succeeded_frame(channel.as_str(), &data)));
            return Ok(());
        }
        let remote_members = match &member {
            Some(_) => app.remote.read().members(channel.as_str()),
            None => Vec::new(),
        };
        if let (Some(presence), Some(member)) = (entry.presence.as_ref(), member.as_ref()) {
            let present = |id: &str| presence.contains(id) || remote_members.iter().any(|m| m.user_id == id);
            let total = presence.len()
                + remote_members
                    .iter()
                    .filter(|m| !presence.contains(&m.user_id))
                    .count();
            if !present(&member.user_id) && total >= app.config.presence_max_members {
                let max = app.config.presence_max_members;
                if entry.subscribers.is_empty() {
                    shard.remove(channel.as_str());
                }
                return Err(format!(
                    "Presence channel {channel} is full: it has the maximum of {max} members"
                ));
            }
        }
        if entry.subscribers.is_empty() && !app.remote.read().occupied(channel.as_str()) {
            app.observer.notify(ChannelEvent::Occupied {
                channel: channel.clone(),
            });
        }
        entry.subscribers.insert(
            self.id,
            Subscriber {
                socket_id: self.socket_id.clone(),
                outbox: self.outbox.clone(),
            },
        );
        let data = match (entry.presence.as_mut(), member.as_ref()) {
            (Some(presence), Some(member)) => {
                let elsewhere = remote_members.iter().any(|m| m.user_id == member.user_id);
                if presence.join(member) && !elsewhere {
                    app.observer.notify(ChannelEvent::MemberAdded {
                        channel: channel.clone(),
                        user_id: member.user_id.clone(),
                    });
                    let added = internal_frame(&channel, "pusher_internal:member_added", member.added_data());
                    for (id, sub) in &entry.subscribers {
                        if *id != self.id {
                            sub.outbox.send(added.clone());
                        }
                    }
                }
                presence.subscription_data(&remote_members)
            }
            _ => "{}".to_owned(),
        };
        // Sent under the shard lock so no event on this channel can overtake it.
        self.outbox
            .send(Frame::from(subscription_succeeded_frame(channel.as_str(), &data)));
        if is_cache_channel(channel.as_str()) {
            let cached = app.cache.lock().get(channel.as_str()).map(|c| c.frame.clone());
            match cached {
                Some(frame) => self.outbox.send(frame),
                None => {
                    self.outbox.send(Frame::from(cache_miss_frame(channel.as_str())));
                    app.observer.notify(ChannelEvent::CacheMiss {
                        channel: channel.clone(),
                    });
                }
            }
        }
        if app.config.subscription_count && entry.presence.is_none() {
            let remote = app.remote.read().subscriptions(channel.as_str());
            if let Some(count) = entry.announce_count(&channel, remote, Instant::now()) {
                app.observer.notify(ChannelEvent::SubscriptionCount {
                    channel: channel.clone(),
                    count,
                });
            }
        }
        drop(shard);
        app.cluster.state_changed(&app.config.key);
        self.channels.push((channel, member.map(|m| m.user_id)));
        Ok(())
    }

    fn check_auth(
        &self,
        channel: &ChannelName,
        channel_data: Option<&str>,
        auth: Option<&str>,
    ) -> Result<(), String> {
        let app = self.slot.app();
        let to_sign = channel_string_to_sign(self.socket_id.as_str(), channel.as_str(), channel_data);
        match auth {
            Some(auth) if verify_auth_token(&app.config.key, &app.config.secret, &to_sign, auth) => Ok(()),
            // Unlike webman/push, never tell the client (nor the log) what the right signature would have been.
            _ => {
                let why = match auth {
                    Some(_) => "the signature does not match",
                    None => "no auth given",
                };
                self.log_rejected(channel, why);
                Err(format!(
                    "Received invalid Auth: the signature does not match socket_id {} and channel {channel}",
                    self.socket_id
                ))
            }
        }
    }

    /// `log_level => 'debug'`: why a subscription was refused (never a secret or a signature).
    fn log_rejected(&self, channel: &ChannelName, why: &str) {
        tracing::debug!(
            app = %self.slot.app().config.id,
            socket_id = %self.socket_id,
            channel = %channel,
            reason = why,
            "subscription rejected"
        );
    }

    fn signin(&mut self, auth: &str, user_data: &str) -> Result<(), String> {
        let app = self.slot.app().clone();
        if let Some(user) = &self.user {
            return Err(format!("Already signed in as user {}", user.id));
        }
        let to_sign = user_string_to_sign(self.socket_id.as_str(), user_data);
        if !verify_auth_token(&app.config.key, &app.config.secret, &to_sign, auth) {
            tracing::debug!(
                app = %app.config.id,
                socket_id = %self.socket_id,
                reason = "the signature does not match",
                "signin rejected"
            );
            return Err(format!(
                "Received invalid Auth: the signature does not match socket_id {} and user_data",
                self.socket_id
            ));
        }
        let user = SignedInUser::from_user_data(user_data).inspect_err(|why| {
            tracing::debug!(app = %app.config.id, socket_id = %self.socket_id, reason = %why, "signin rejected");
        })?;
        self.outbox.send(Frame::from(signin_success_frame(user_data)));
        if user.watchlist_dropped > 0 {
            self.send_error(
                Some(ErrorCode::WatchlistLimit),
                &format!("Watchlist limit exceeded: only the first {MAX_WATCHLIST} user ids are watched"),
            );
        }
        app.users.sign_in(self.id, &self.outbox, &user, &app.remote);
        self.user = Some(user);
        app.cluster.state_changed(&app.config.key);
        Ok(())
    }

    /// Leaves a channel; a channel the connection never joined is a no-op.
    pub fn unsubscribe(&mut self, channel: &str) {
        let Some(at) = self.channels.iter().position(|(c, _)| c.as_str() == channel) else {
            return;
        };
        let (channel, user_id) = self.channels.swap_remove(at);
        self.slot.app().leave(self.id, &channel, user_id.as_deref());
    }

    fn client_event(&mut self, event: ClientEvent) -> Result<(), (Option<ErrorCode>, String)> {
        let reject = |m: &str| Err((None, format!("Client event rejected - {m}")));
        let app = self.slot.app().clone();
        let kind = ChannelKind::of(&event.channel);
        if !kind.allows_client_events() {
            return reject("only supported on private and presence channels");
        }
        let Some((channel, user_id)) = self.channels.iter().find(|(c, _)| c.as_str() == event.channel) else {
            return reject("you didn't subscribe this channel");
        };
        if !event.event.starts_with("client-") {
            return reject("client events must be prefixed by 'client-'");
        }
        if !app.config.client_events {
            return reject("client events are disabled for this app");
        }
        if event.event.len() > app.config.max_event_name_length {
            return reject(&format!(
                "event name is longer than {} characters",
                app.config.max_event_name_length
            ));
        }
        if event.data.len() > app.config.max_event_payload {
            return reject(&format!(
                "data is larger than {} bytes",
                app.config.max_event_payload
            ));
        }
        if !self
            .client_event_rate
            .admit(app.config.client_event_rate, Instant::now())
        {
            app.counters.rate_limited();
            return Err((
                Some(ErrorCode::ClientEventRateLimit),
                format!(
                    "Client event rejected - rate limit of {} events per second exceeded",
                    app.config.client_event_rate
                ),
            ));
        }
        let publish = Publish {
            channel: channel.clone(),
            event: event.event,
            data: event.data,
            except: Some(self.socket_id.clone()),
            user_id: user_id.clone(),
            from_client: true,
        };
        app.publish(&publish);
        app.observer.notify(ChannelEvent::ClientEvent {
            channel: publish.channel,
            event: publish.event,
            data: publish.data,
            socket_id: self.socket_id.clone(),
            user_id: publish.user_id,
        });
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let app = self.slot.app().clone();
        for (channel, user_id) in self.channels.drain(..) {
            app.leave(self.id, &channel, user_id.as_deref());
        }
        if let Some(user) = self.user.take() {
            app.users.sign_out(self.id, &user, &app.remote);
        }
        app.cluster.state_changed(&app.config.key);
    }
}

impl AppHub {
    /// Removes connection `id` from `channel`, announcing `member_removed` on a user's last socket
    /// and dropping the channel when it empties.
    fn leave(&self, id: u64, channel: &ChannelName, user_id: Option<&str>) {
        let mut shard = self.shard(channel.as_str()).write();
        let Some(entry) = shard.get_mut(channel.as_str()) else {
            return;
        };
        if entry.subscribers.remove(&id).is_none() {
            return;
        }
        if let (Some(presence), Some(user_id)) = (entry.presence.as_mut(), user_id) {
            if presence.leave(user_id) && !self.remote.read().has_member(channel.as_str(), user_id) {
                self.observer.notify(ChannelEvent::MemberRemoved {
                    channel: channel.clone(),
                    user_id: user_id.to_owned(),
                });
                let removed = internal_frame(
                    channel,
                    "pusher_internal:member_removed",
                    PresenceMember::removed_data(user_id),
                );
                for sub in entry.subscribers.values() {
                    sub.outbox.send(removed.clone());
                }
            }
        }
        if entry.subscribers.is_empty() {
            shard.remove(channel.as_str());
            if !self.remote.read().occupied(channel.as_str()) {
                self.observer.notify(ChannelEvent::Vacated {
                    channel: channel.clone(),
                });
            }
        } else if self.config.subscription_count && entry.presence.is_none() {
            let remote = self.remote.read().subscriptions(channel.as_str());
            if let Some(count) = entry.announce_count(channel, remote, Instant::now()) {
                self.observer.notify(ChannelEvent::SubscriptionCount {
                    channel: channel.clone(),
                    count,
                });
            }
        }
        drop(shard);
        self.cluster.state_changed(&self.config.key);
    }
}
