//! Client events (`client-*` frames): webman/push's checks in its order, then the relay.
//!
//! Apart from the rest of the session because a client event is checked and relayed in two steps:
//! the session reports the outcome to a watcher between them, with the event still borrowed.

use super::Session;
use crate::hub::error::ClientEventError;
use crate::hub::{ChannelEvent, Publish, UserId};
use crate::protocol::message::ClientEvent;
use crate::protocol::{ChannelKind, ChannelName};
use std::time::Instant;

impl Session {
    /// A client event: checked, then relayed (what a frame does, without a watcher), for tests.
    #[cfg(test)]
    pub(crate) fn client_event(&mut self, event: ClientEvent) -> Result<(), ClientEventError> {
        let target = self.admit_client_event(&event)?;
        self.relay_client_event(event, target);
        Ok(())
    }

    /// webman/push's checks of a client event, in its order; passed, the channel it goes to
    /// and the sender's presence user id there.
    pub(super) fn admit_client_event(
        &mut self,
        event: &ClientEvent,
    ) -> Result<(ChannelName, Option<UserId>), ClientEventError> {
        let app = self.slot.app();
        let kind = ChannelKind::of(&event.channel);
        if !kind.allows_client_events() {
            return Err(ClientEventError::WrongChannelKind);
        }
        let Some((channel, user_id)) = self.channels.iter().find(|(c, _)| c.as_str() == event.channel) else {
            return Err(ClientEventError::NotSubscribed);
        };
        if !event.event.starts_with("client-") {
            return Err(ClientEventError::NotClientPrefixed);
        }
        if !app.config.client_events {
            return Err(ClientEventError::Disabled);
        }
        if event.event.len() > app.config.max_event_name_length {
            return Err(ClientEventError::EventNameTooLong {
                max: app.config.max_event_name_length,
            });
        }
        if event.data.len() > app.config.max_event_payload {
            return Err(ClientEventError::DataTooLarge {
                max: app.config.max_event_payload,
            });
        }
        if !self
            .client_event_rate
            .admit(app.config.client_event_rate, Instant::now())
        {
            app.counters.rate_limited();
            return Err(ClientEventError::RateLimited {
                rate: app.config.client_event_rate,
            });
        }
        Ok((channel.clone(), user_id.clone()))
    }

    /// Relays an admitted client event to the channel's other subscribers (and the cluster) and
    /// reports it to the observer.
    pub(super) fn relay_client_event(
        &self,
        event: ClientEvent,
        (channel, user_id): (ChannelName, Option<UserId>),
    ) {
        let app = self.slot.app();
        let publish = Publish {
            channel,
            event: event.event,
            data: event.data,
            except: Some(self.socket_id.clone()),
            user_id,
            from_client: true,
        };
        app.publish(&publish);
        app.notify_observer(ChannelEvent::ClientEvent {
            channel: publish.channel,
            event: publish.event,
            data: publish.data,
            socket_id: self.socket_id.clone(),
            user_id: publish.user_id,
        });
    }
}
