//! Channel names and the kind of channel a name denotes.

use std::fmt;
use std::sync::Arc;

/// Pusher SDKs accept names up to 200 characters; the docs' 164 would reject SDK-valid names.
pub const DEFAULT_MAX_CHANNEL_NAME_LEN: usize = 200;

/// The prefix of the channel a signed-in user receives server-to-user events on.
pub const SERVER_TO_USER_PREFIX: &str = "#server-to-user-";

/// Cache channels keep their last event and replay it to new subscribers.
pub fn is_cache_channel(name: &str) -> bool {
    [
        "cache-",
        "private-cache-",
        "private-encrypted-cache-",
        "presence-cache-",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// The user a `#server-to-user-{id}` channel belongs to.
pub fn server_to_user_id(name: &str) -> Option<&str> {
    name.strip_prefix(SERVER_TO_USER_PREFIX)
}

/// What a channel's prefix says about who may join it and what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Public,
    Private,
    /// `private-encrypted-`: authorised like a private channel; the payload is opaque to us.
    PrivateEncrypted,
    Presence,
}

impl ChannelKind {
    pub fn of(name: &str) -> ChannelKind {
        if name.starts_with("private-encrypted-") {
            ChannelKind::PrivateEncrypted
        } else if name.starts_with("private-") {
            ChannelKind::Private
        } else if name.starts_with("presence-") {
            ChannelKind::Presence
        } else {
            ChannelKind::Public
        }
    }

    /// Private, encrypted and presence channels need a signed `auth` to subscribe.
    pub fn requires_auth(self) -> bool {
        !matches!(self, ChannelKind::Public)
    }

    /// Client events are only relayed on channels whose members were authorised.
    pub fn allows_client_events(self) -> bool {
        matches!(self, ChannelKind::Private | ChannelKind::Presence)
    }
}

/// Why a string is not a channel name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidChannelName {
    Empty,
    TooLong { len: usize, max: usize },
    BadCharacter(char),
}

impl fmt::Display for InvalidChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidChannelName::Empty => write!(f, "channel name must not be empty"),
            InvalidChannelName::TooLong { len, max } => {
                write!(f, "channel name is {len} characters long, the limit is {max}")
            }
            InvalidChannelName::BadCharacter(c) => write!(
                f,
                "channel name contains {c:?}; only A-Z a-z 0-9 and _ - = @ , . ; are allowed"
            ),
        }
    }
}

/// A validated channel name. Cheap to clone: the hub keys maps and frames by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelName(Arc<str>);

impl ChannelName {
    /// Validates `name` against Pusher's character class and a length limit.
    pub fn parse(name: &str, max_len: usize) -> Result<ChannelName, InvalidChannelName> {
        if name.is_empty() {
            return Err(InvalidChannelName::Empty);
        }
        let len = name.chars().count();
        if len > max_len {
            return Err(InvalidChannelName::TooLong { len, max: max_len });
        }
        // `#server-to-user-{id}` is the one reserved name clients and the API may use.
        let body = name.strip_prefix(SERVER_TO_USER_PREFIX).unwrap_or(name);
        if body.is_empty() {
            return Err(InvalidChannelName::Empty);
        }
        if let Some(c) = body.chars().find(|c| !is_name_char(*c)) {
            return Err(InvalidChannelName::BadCharacter(c));
        }
        Ok(ChannelName(Arc::from(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> ChannelKind {
        ChannelKind::of(&self.0)
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for ChannelName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '=' | '@' | ',' | '.' | ';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_follows_the_prefix() {
        assert_eq!(ChannelKind::of("user-1"), ChannelKind::Public);
        assert_eq!(ChannelKind::of("private-a"), ChannelKind::Private);
        assert_eq!(
            ChannelKind::of("private-encrypted-a"),
            ChannelKind::PrivateEncrypted
        );
        assert_eq!(ChannelKind::of("presence-room"), ChannelKind::Presence);
        assert_eq!(ChannelKind::of("foo-private-x"), ChannelKind::Public);
    }

    #[test]
    fn cache_channels_are_recognised_by_prefix() {
        for c in [
            "cache-a",
            "private-cache-a",
            "private-encrypted-cache-a",
            "presence-cache-a",
        ] {
            assert!(is_cache_channel(c), "{c}");
        }
        assert!(!is_cache_channel("private-a"));
        assert!(!is_cache_channel("my-cache-a"));
    }

    #[test]
    fn names_use_pusher_character_class() {
        assert!(ChannelName::parse("A-z_0=9@,.;", 200).is_ok());
        assert_eq!(
            ChannelName::parse("a b", 200),
            Err(InvalidChannelName::BadCharacter(' '))
        );
        assert_eq!(
            ChannelName::parse("héllo", 200),
            Err(InvalidChannelName::BadCharacter('é'))
        );
        assert_eq!(ChannelName::parse("", 200), Err(InvalidChannelName::Empty));
    }

    #[test]
    fn names_longer_than_the_limit_are_rejected() {
        let ok = "a".repeat(200);
        assert!(ChannelName::parse(&ok, 200).is_ok());
        let long = "a".repeat(201);
        assert_eq!(
            ChannelName::parse(&long, 200),
            Err(InvalidChannelName::TooLong { len: 201, max: 200 })
        );
    }

    #[test]
    fn server_to_user_channels_are_the_only_hash_names() {
        assert!(ChannelName::parse("#server-to-user-42", 200).is_ok());
        assert!(ChannelName::parse("#other", 200).is_err());
        assert!(ChannelName::parse("#server-to-user-", 200).is_err());
    }
}
