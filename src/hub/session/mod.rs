//! One connection's view of the hub: its channels, its presence identities, its rate limits.
//!
//! The transport owns the [`Session`] (no lock needed for per-connection state) and feeds it the
//! text frames it reads. The session makes the protocol's checks (which channel, whose signature,
//! which limits) and refuses with a typed error ([`super::error`]) that becomes the client's
//! `pusher:error`; what passes goes to the app's channel table ([`AppHub`]). Replies go out
//! through the same [`Outbox`] as fan-out, so a client sees them in the order the hub produced
//! them. Dropping a session leaves every channel it was in.

mod client_event;

use super::channel::{Conn, Joined};
use super::error::{Refusal, SigninError, SubscribeError, WatchlistCut};
use super::presence::PresenceMember;
use super::rate::RateWindow;
use super::users::{SignedInUser, MAX_WATCHLIST};
use super::watch::{Handled, Unwatched, Watch};
use super::{counters::MessageKind, AppHub, ConnectionSlot, Frame, Outbox, UserId};
use crate::protocol::channel::server_to_user_id;
use crate::protocol::message::{
    error_frame, parse_client_message, signin_success_frame, ClientMessage, SubscribeRequest, PONG_FRAME,
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
        self.handle_text_watched(text, &Unwatched);
    }

    /// [`Self::handle_text`], reporting each outcome to `watch` while it is watching.
    pub fn handle_text_watched(&mut self, text: &str, watch: &impl Watch) {
        match parse_client_message(text) {
            Ok(message) => self.handle_watched(message, watch),
            Err(e) => {
                self.slot.app().counters.message_received(MessageKind::Invalid);
                self.send_error(None, &e.0);
            }
        }
    }

    pub fn handle(&mut self, message: ClientMessage) {
        self.handle_watched(message, &Unwatched);
    }

    fn handle_watched(&mut self, message: ClientMessage, watch: &impl Watch) {
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
                let refused = self.subscribe(&req).err().map(|e| self.refuse(&e));
                if watch.watching() {
                    let channel = req.channel.as_str();
                    let outcome = match &refused {
                        None => Handled::Subscribed { channel },
                        Some(reason) => Handled::SubscriptionRefused { channel, reason },
                    };
                    watch.handled(self.app(), &self.socket_id, outcome);
                }
            }
            ClientMessage::Unsubscribe { channel } => match self.unsubscribe_request(&channel) {
                Ok(true) if watch.watching() => {
                    let outcome = Handled::Unsubscribed { channel: &channel };
                    watch.handled(self.app(), &self.socket_id, outcome);
                }
                Ok(_) => {}
                Err(e) => {
                    self.refuse(&e);
                }
            },
            ClientMessage::Signin { auth, user_data } => {
                if let Err(e) = self.signin(&auth, &user_data) {
                    self.refuse(&e);
                }
            }
            ClientMessage::ClientEvent(event) => match self.admit_client_event(&event) {
                Ok(target) => {
                    if watch.watching() {
                        let outcome = Handled::ClientEvent {
                            channel: &event.channel,
                            event: &event.event,
                            data: &event.data,
                        };
                        watch.handled(self.app(), &self.socket_id, outcome);
                    }
                    self.relay_client_event(event, target);
                }
                Err(e) => {
                    let reason = self.refuse(&e);
                    if watch.watching() {
                        let outcome = Handled::ClientEventRefused {
                            channel: &event.channel,
                            event: &event.event,
                            data: &event.data,
                            reason: &reason,
                        };
                        watch.handled(self.app(), &self.socket_id, outcome);
                    }
                }
            },
        }
    }

    /// Sends the refusal as a `pusher:error`; returns its text, for a watcher.
    fn refuse(&self, refusal: &impl Refusal) -> String {
        let message = refusal.to_string();
        self.outbox.send(Frame::from(error_frame(
            refusal.code().map(ErrorCode::code),
            &message,
        )));
        message
    }

    /// Counts a subscribe or unsubscribe against `subscription_rate` (0: unlimited); over it the
    /// request is refused (4301) and ignored.
    fn admit_subscription_request(&mut self) -> Result<(), SubscribeError> {
        let rate = self.slot.app().config.subscription_rate;
        if rate == 0 || self.subscription_rate.admit(rate, Instant::now()) {
            return Ok(());
        }
        self.slot.app().counters.rate_limited();
        Err(SubscribeError::RateLimited { rate })
    }

    /// Whether the connection has room for `channel` under `max_channels_per_connection` (0:
    /// unlimited), checked after the name and before any signature work. A channel already
    /// joined always has room, so a repeat subscribe is answered as before.
    fn admit_channel(&self, channel: &str) -> Result<(), SubscribeError> {
        let max = self.slot.app().config.max_channels_per_connection;
        if max == 0 || self.channels.len() < max || self.channels.iter().any(|(c, _)| c.as_str() == channel) {
            return Ok(());
        }
        Err(SubscribeError::TooManyChannels { max })
    }

    /// A `pusher:subscribe`: the protocol's checks (rate, name, room, owner, signature,
    /// `channel_data`), then the channel table's join.
    pub(crate) fn subscribe(&mut self, req: &SubscribeRequest) -> Result<(), SubscribeError> {
        self.admit_subscription_request()?;
        let app = self.slot.app().clone();
        let channel = ChannelName::parse(&req.channel, app.config.max_channel_name_length)
            .map_err(SubscribeError::InvalidChannelName)?;
        self.admit_channel(channel.as_str())?;
        if let Some(owner) = server_to_user_id(channel.as_str()) {
            if self.user.as_ref().map(|u| u.id.as_str()) != Some(owner) {
                return Err(SubscribeError::NotSignedInAs {
                    channel: channel.to_string(),
                    owner: owner.to_owned(),
                });
            }
        }
        let kind = channel.kind();
        let member = if kind == ChannelKind::Presence {
            let data = req
                .channel_data
                .as_deref()
                .ok_or(SubscribeError::MissingChannelData)
                .inspect_err(|e| self.log_rejected(&channel, &e.to_string()))?;
            self.check_auth(&channel, Some(data), req.auth.as_deref())?;
            let member = PresenceMember::from_channel_data(data, app.config.presence_max_member_size)
                .map_err(SubscribeError::BadChannelData)
                .inspect_err(|e| self.log_rejected(&channel, &e.to_string()))?;
            Some(member)
        } else {
            if kind.requires_auth() {
                self.check_auth(&channel, None, req.auth.as_deref())?;
            }
            None
        };
        let conn = Conn {
            id: self.id,
            socket_id: &self.socket_id,
            outbox: &self.outbox,
        };
        if app.join(conn, &channel, member.as_ref())? == Joined::Now {
            self.channels.push((channel, member.map(|m| m.user_id)));
        }
        Ok(())
    }

    fn check_auth(
        &self,
        channel: &ChannelName,
        channel_data: Option<&str>,
        auth: Option<&str>,
    ) -> Result<(), SubscribeError> {
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
                Err(SubscribeError::InvalidAuth {
                    socket_id: self.socket_id.clone(),
                    channel: channel.to_string(),
                })
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

    /// A `pusher:signin`: once per connection, with `user_data` signed for this socket.
    pub(crate) fn signin(&mut self, auth: &str, user_data: &str) -> Result<(), SigninError> {
        let app = self.slot.app().clone();
        if let Some(user) = &self.user {
            return Err(SigninError::AlreadySignedIn {
                user: user.id.clone(),
            });
        }
        let to_sign = user_string_to_sign(self.socket_id.as_str(), user_data);
        if !verify_auth_token(&app.config.key, &app.config.secret, &to_sign, auth) {
            tracing::debug!(
                app = %app.config.id,
                socket_id = %self.socket_id,
                reason = "the signature does not match",
                "signin rejected"
            );
            return Err(SigninError::InvalidAuth {
                socket_id: self.socket_id.clone(),
            });
        }
        let user = SignedInUser::from_user_data(user_data)
            .inspect_err(|why| {
                tracing::debug!(app = %app.config.id, socket_id = %self.socket_id, reason = %why, "signin rejected");
            })
            .map_err(SigninError::BadUserData)?;
        self.outbox.send(Frame::from(signin_success_frame(user_data)));
        if user.watchlist_dropped > 0 {
            self.refuse(&WatchlistCut { max: MAX_WATCHLIST });
        }
        app.sign_in(self.id, &self.outbox, &user);
        self.user = Some(user);
        Ok(())
    }

    /// A `pusher:unsubscribe`, counted against the subscription rate; true when the connection
    /// was in the channel and has left it.
    pub(crate) fn unsubscribe_request(&mut self, channel: &str) -> Result<bool, SubscribeError> {
        self.admit_subscription_request()?;
        Ok(self.unsubscribe(channel))
    }

    /// Leaves a channel; false (and nothing done) for a channel the connection is not in.
    pub fn unsubscribe(&mut self, channel: &str) -> bool {
        let Some(at) = self.channels.iter().position(|(c, _)| c.as_str() == channel) else {
            return false;
        };
        let (channel, user_id) = self.channels.swap_remove(at);
        self.slot.app().leave(self.id, &channel, user_id.as_deref());
        true
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let app = self.slot.app().clone();
        for (channel, user_id) in self.channels.drain(..) {
            app.leave(self.id, &channel, user_id.as_deref());
        }
        if let Some(user) = self.user.take() {
            app.sign_out(self.id, &user);
        }
        app.state_changed();
    }
}
