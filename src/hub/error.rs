//! Why the hub refused a client's request, as values: one enum per request kind.
//!
//! A refusal reaches the client as a `pusher:error` whose `code` is [`Refusal::code`] and whose
//! `message` is the error's `Display`; the texts are part of the wire behaviour (clients and
//! webman/push users read them), so they change only on purpose. Code and tests match on the
//! variants, never on the text.

use crate::protocol::channel::InvalidChannelName;
use crate::protocol::{ErrorCode, SocketId};
use std::fmt;

/// A refusal the client is told about with a `pusher:error`.
pub trait Refusal: fmt::Display {
    /// The `code` of the `pusher:error`; `None` sends `"code":null`, as webman/push does.
    fn code(&self) -> Option<ErrorCode> {
        None
    }
}

/// Why a `pusher:subscribe` (or, for [`SubscribeError::RateLimited`], an unsubscribe) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscribeError {
    /// Subscribes and unsubscribes came faster than the app's `subscription_rate` (per second).
    RateLimited {
        rate: u32,
    },
    InvalidChannelName(InvalidChannelName),
    /// The connection is already in the app's `max_channels_per_connection`.
    TooManyChannels {
        max: usize,
    },
    /// A `#server-to-user-` channel of another user than the one signed in (or nobody signed in).
    NotSignedInAs {
        channel: String,
        owner: String,
    },
    /// A presence subscribe without `channel_data`.
    MissingChannelData,
    /// The `auth` does not sign this socket id and channel (the right signature is never told).
    InvalidAuth {
        socket_id: SocketId,
        channel: String,
    },
    BadChannelData(ChannelDataError),
    /// A new member would take the presence channel over `presence_max_members` (cluster-wide).
    PresenceFull {
        channel: String,
        max: usize,
    },
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscribeError::RateLimited { rate } => write!(
                f,
                "Subscription rejected - rate limit of {rate} subscribes and unsubscribes per second exceeded"
            ),
            SubscribeError::InvalidChannelName(e) => write!(f, "Invalid channel name: {e}"),
            SubscribeError::TooManyChannels { max } => write!(
                f,
                "Subscription rejected - this connection is already in the maximum of {max} channels"
            ),
            SubscribeError::NotSignedInAs { channel, owner } => {
                write!(f, "Subscribing to {channel} needs pusher:signin as user {owner}")
            }
            SubscribeError::MissingChannelData => f.write_str("Empty channel_data"),
            SubscribeError::InvalidAuth { socket_id, channel } => write!(
                f,
                "Received invalid Auth: the signature does not match socket_id {socket_id} and channel {channel}"
            ),
            SubscribeError::BadChannelData(e) => e.fmt(f),
            SubscribeError::PresenceFull { channel, max } => write!(
                f,
                "Presence channel {channel} is full: it has the maximum of {max} members"
            ),
        }
    }
}

impl Refusal for SubscribeError {
    fn code(&self) -> Option<ErrorCode> {
        match self {
            SubscribeError::RateLimited { .. } => Some(ErrorCode::SubscriptionRateLimit),
            SubscribeError::TooManyChannels { .. } => Some(ErrorCode::TooManyChannels),
            _ => None,
        }
    }
}

/// What is wrong with a presence subscribe's signed `channel_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelDataError {
    NotJson,
    NotAnObject,
    /// `user_id` is missing, empty, or neither a string nor a number.
    NoUserId,
    UserIdTooLong {
        max: usize,
    },
    UserInfoTooLarge {
        size: usize,
        max: usize,
    },
}

impl fmt::Display for ChannelDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelDataError::NotJson => f.write_str("Bad channel_data: not valid JSON"),
            ChannelDataError::NotAnObject => f.write_str("Bad channel_data: expected a JSON object"),
            ChannelDataError::NoUserId => {
                f.write_str("Bad channel_data: user_id must be a non-empty string or a number")
            }
            ChannelDataError::UserIdTooLong { max } => {
                write!(f, "Bad channel_data: user_id is longer than {max} characters")
            }
            ChannelDataError::UserInfoTooLarge { size, max } => {
                write!(
                    f,
                    "Bad channel_data: user_info is {size} bytes, the limit is {max}"
                )
            }
        }
    }
}

/// Why a client event was not relayed. The order of the checks is webman/push's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEventError {
    /// Only private and presence channels carry client events.
    WrongChannelKind,
    NotSubscribed,
    /// The event name does not start with `client-`.
    NotClientPrefixed,
    /// The app has `client_events` off.
    Disabled,
    EventNameTooLong {
        max: usize,
    },
    DataTooLarge {
        max: usize,
    },
    /// Client events came faster than the app's `client_event_rate` (per second).
    RateLimited {
        rate: u32,
    },
}

impl fmt::Display for ClientEventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Client event rejected - ")?;
        match self {
            ClientEventError::WrongChannelKind => {
                f.write_str("only supported on private and presence channels")
            }
            ClientEventError::NotSubscribed => f.write_str("you didn't subscribe this channel"),
            ClientEventError::NotClientPrefixed => f.write_str("client events must be prefixed by 'client-'"),
            ClientEventError::Disabled => f.write_str("client events are disabled for this app"),
            ClientEventError::EventNameTooLong { max } => {
                write!(f, "event name is longer than {max} characters")
            }
            ClientEventError::DataTooLarge { max } => write!(f, "data is larger than {max} bytes"),
            ClientEventError::RateLimited { rate } => {
                write!(f, "rate limit of {rate} events per second exceeded")
            }
        }
    }
}

impl Refusal for ClientEventError {
    fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientEventError::RateLimited { .. } => Some(ErrorCode::ClientEventRateLimit),
            _ => None,
        }
    }
}

/// Why a `pusher:signin` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigninError {
    /// A connection signs in once.
    AlreadySignedIn {
        user: String,
    },
    /// The `auth` does not sign this socket id and `user_data`.
    InvalidAuth {
        socket_id: SocketId,
    },
    BadUserData(UserDataError),
}

impl fmt::Display for SigninError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigninError::AlreadySignedIn { user } => write!(f, "Already signed in as user {user}"),
            SigninError::InvalidAuth { socket_id } => write!(
                f,
                "Received invalid Auth: the signature does not match socket_id {socket_id} and user_data"
            ),
            SigninError::BadUserData(e) => e.fmt(f),
        }
    }
}

impl Refusal for SigninError {}

/// What is wrong with a signin's signed `user_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserDataError {
    NotAnObject,
    /// `id` is missing, empty, or neither a string nor a number.
    NoId,
    WatchlistNotAnArray,
}

impl fmt::Display for UserDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UserDataError::NotAnObject => "Invalid user_data: expected a JSON object",
            UserDataError::NoId => "Invalid user_data: id must be a non-empty string",
            UserDataError::WatchlistNotAnArray => "Invalid user_data: watchlist must be an array of user ids",
        })
    }
}

/// Sent after a successful signin whose watchlist was cut to its first `max` ids (4302).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchlistCut {
    pub max: usize,
}

impl fmt::Display for WatchlistCut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Watchlist limit exceeded: only the first {} user ids are watched",
            self.max
        )
    }
}

impl Refusal for WatchlistCut {
    fn code(&self) -> Option<ErrorCode> {
        Some(ErrorCode::WatchlistLimit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_the_pusher_error_texts_and_codes_clients_already_see() {
        let socket_id = SocketId::parse("1.2").expect("valid");
        let cases: [(&dyn Refusal, Option<u16>, &str); 5] = [
            (
                &SubscribeError::InvalidAuth {
                    socket_id,
                    channel: "private-a".into(),
                },
                None,
                "Received invalid Auth: the signature does not match socket_id 1.2 and channel private-a",
            ),
            (
                &SubscribeError::RateLimited { rate: 3 },
                Some(4301),
                "Subscription rejected - rate limit of 3 subscribes and unsubscribes per second exceeded",
            ),
            (
                &SubscribeError::BadChannelData(ChannelDataError::UserInfoTooLarge { size: 9, max: 8 }),
                None,
                "Bad channel_data: user_info is 9 bytes, the limit is 8",
            ),
            (
                &ClientEventError::DataTooLarge { max: 10 },
                None,
                "Client event rejected - data is larger than 10 bytes",
            ),
            (
                &WatchlistCut { max: 100 },
                Some(4302),
                "Watchlist limit exceeded: only the first 100 user ids are watched",
            ),
        ];
        for (refusal, code, text) in cases {
            assert_eq!(
                (refusal.code().map(ErrorCode::code), refusal.to_string().as_str()),
                (code, text)
            );
        }
    }
}
